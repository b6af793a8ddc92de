"""`carnet nats-config`: the private bus's nats-server configuration, rendered from ``servicekit.bus_access``."""
from __future__ import annotations

from pathlib import Path

import typer

from servicekit.bus_access import USERS, password_variable, render_accounts, write_config


def nats_config(
    out: Path | None = typer.Option(None, "--out", help="Dossier où écrire nats-server.conf, cluster.conf et accounts.conf "
                                    "(deploy/nats pour la configuration de production)"),
) -> None:
    """Configuration de nats-server : un utilisateur par service, la passerelle et l'opérateur, chacun limité à ses
    sujets. Les mots de passe viennent de variables d'environnement du serveur, jamais du fichier."""
    if out is None:
        typer.echo(render_accounts(), nl=False)
        return
    server = write_config(out)
    typer.echo(f"Écrit : {server}, {out / 'cluster.conf'} (chaque serveur d'un cluster de trois) et "
               f"{out / 'accounts.conf'}")
    typer.echo("Variables d'environnement attendues par nats-server (lettres et chiffres, une lettre d'abord) :")
    for user in USERS:
        typer.echo(f"  {password_variable(user)}")
