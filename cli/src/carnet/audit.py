"""`carnet audit verify`: recomputes the audit log's hash chain from its database (AUDIT_DATABASE_URL, or the
embedded default under CARNET_VAR_DIR) and names the first line that was changed, removed or moved."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer

from servicekit.db import default_database_url

audit = typer.Typer(help="Journal d'audit (accès et actions), chaîné par empreintes.")


def audit_database_url() -> str:
    return os.environ.get("AUDIT_DATABASE_URL") or default_database_url(
        Path(os.environ.get("CARNET_VAR_DIR", "var")), "audit")


@audit.command("verify")
def verify_command(database_url: str = typer.Option("", "--database-url",
                                                   help="Base du journal (par défaut AUDIT_DATABASE_URL)")) -> None:
    """Vérifie que le journal d'audit n'a été ni modifié, ni amputé, ni réordonné ; code de sortie 1 sinon."""
    from audit.handlers.verify_chain import verify_database  # the audit service's code, imported when used

    verdict = asyncio.run(verify_database(database_url or audit_database_url()))
    if verdict.problem is not None:
        typer.echo(f"Journal d'audit altéré : {verdict.problem.message} "
                   f"({verdict.checked} ligne(s) intacte(s) avant elle).", err=True)
        raise typer.Exit(1)
    typer.echo(f"Journal d'audit intact : {verdict.checked} ligne(s) vérifiée(s).")
