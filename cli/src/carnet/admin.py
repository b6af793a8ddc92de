"""``carnet admin create`` — a new installation's first national administrator (and any later one).

The sites create territories' people only; an admin_cdb account comes from the operator, who holds the bus's
operator credentials (``NATS_URL``, or the URL ``carnet up`` keeps under var/). The account is invited by email."""
from __future__ import annotations

import asyncio

import typer

from contracts.identity import AdministratorReply, CreateAdministratorV1
from servicekit.bus import client_bus
from servicekit.errors import ServiceError

admin = typer.Typer(help="Administrateurs nationaux (admin_cdb) : créer le premier d'une installation.")


async def _create(url: str, request: CreateAdministratorV1) -> AdministratorReply:
    async with client_bus("carnet-admin", url) as bus:
        return await bus.call(request)


@admin.command("create")
def create(email: str = typer.Option(..., "--email", help="Adresse e-mail de l'administrateur"),
           firstname: str = typer.Option(..., "--prenom", help="Prénom"),
           lastname: str = typer.Option(..., "--nom", help="Nom")) -> None:
    """Crée un compte administrateur national et lui envoie une invitation par e-mail (ou une nouvelle invitation
    si l'adresse est déjà celle d'un administrateur). Code de sortie 1 si la demande est refusée."""
    from carnet.main import ToolSettings  # the operator's URL, as the other commands read it

    try:
        request = CreateAdministratorV1(email=email, firstname=firstname, lastname=lastname)
        reply = asyncio.run(_create(ToolSettings().operator_url, request))
    except ServiceError as refusal:
        typer.echo(f"Refusé : {refusal.message}", err=True)
        raise typer.Exit(1) from None
    except ValueError:
        typer.echo("Refusé : le prénom et le nom sont obligatoires, et l'adresse e-mail doit être valide.", err=True)
        raise typer.Exit(1) from None
    done = "créé" if reply.created else "existait déjà"
    typer.echo(f"Compte administrateur {done} ({reply.account_id}) : une invitation est envoyée à {email}.")
