"""``carnet retention run [--dry-run]`` (issue 21): what the night does, now — list the notebooks whose territory's
retention has passed (the dry run erases nothing), or record and announce them so that every service erases them."""
from __future__ import annotations

import asyncio

import typer

from contracts.retention import RetentionRunReply, RunRetentionV1
from servicekit.bus import client_bus

retention = typer.Typer(help="Conservation des données : effacer les carnets sans activité au-delà de la durée du "
                             "territoire.")


async def _run(url: str, dry_run: bool) -> RetentionRunReply:
    async with client_bus("carnet-retention", url) as bus:
        return await bus.call(RunRetentionV1(dry_run=dry_run))


@retention.command("run")
def run(dry_run: bool = typer.Option(False, "--dry-run", help="Lister seulement, sans rien effacer")) -> None:
    from carnet.main import ToolSettings  # the operator's URL, as the other commands read it

    reply = asyncio.run(_run(ToolSettings().operator_url, dry_run))
    verb = "à effacer" if dry_run else "annoncés pour effacement"
    typer.echo(f"{len(reply.due)} carnet(s) {verb}.")
    for notebook_id in reply.due:
        typer.echo(str(notebook_id))
    if reply.purged:
        typer.echo(f"{len(reply.purged)} carnet(s) effacé(s) après confirmation de tous les services.")
