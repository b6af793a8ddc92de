"""`carnet`: the operator's command. `carnet up` is what `make run` runs."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from carnet.demo import (
    DEMO_ACCOUNTS,
    DEMO_BENEFICIARY_PHONE,
    DEMO_DEPLOYMENT_LABEL,
    DEMO_DEPLOYMENTS,
    DEMO_FOLLOWED_BENEFICIARY,
    DEMO_NOTEBOOKS,
    DEMO_POPULATION,
    DEMO_TEAM,
    DEMO_TEAM_ACCOUNTS,
    DEMO_TERRITORY,
)
from contracts.identity import SeedDemoAccountsV1
from servicekit.antivirus import ClamdProcess, clamd_binary
from servicekit.db import default_database_url
from servicekit.deadletters import ReplayFailed, list_dead_letters, replay
from servicekit.migrations import upgrade
from servicekit.processes import (
    ServiceProcess,
    Supervisor,
    bundled_nats_server,
    free_port,
    gateway_process,
    service_process,
)
from carnet.admin import admin
from carnet.audit import audit
from carnet.retention import retention
from carnet.bus import nats_config
from carnet.imports import import_command
from servicekit.bus import client_bus
from servicekit.bus_access import GATEWAY, OPERATOR, prepare_private_nats
from servicekit.settings import ServiceSettings
from servicekit.streams import ensure_streams
from servicekit.topology import SERVICES

app = typer.Typer(help="Carnet de bord : lancer, migrer, peupler, rejouer les lettres mortes.", no_args_is_help=True)
dlq = typer.Typer(help="Lettres mortes (messages qu'un service n'a pas pu traiter).")
app.add_typer(dlq, name="dlq")
app.command("nats-config")(nats_config)
app.command("import")(import_command)
app.add_typer(admin, name="admin")
app.add_typer(audit, name="audit")
app.add_typer(retention, name="retention")
OPERATOR_URL_FILE = "nats/operator.url"


class ToolSettings(BaseSettings):
    """What the operator's commands read: unlike a service, they need no public URL nor secret key."""

    model_config = SettingsConfigDict(extra="ignore")

    nats_url: str = Field("", validation_alias=AliasChoices("NATS_URL"))
    var_dir: Path = Field(Path("var"), validation_alias=AliasChoices("CARNET_VAR_DIR"))

    @property
    def operator_url(self) -> str:
        """``NATS_URL``, or the operator's URL on the private bus that ``carnet up`` runs (kept 0600 in var/)."""
        saved = self.var_dir / OPERATOR_URL_FILE
        return self.nats_url or (saved.read_text().strip() if saved.exists() else "nats://127.0.0.1:4222")


def database_url(service_env_prefix: str, name: str, var_dir: Path) -> str:
    return os.environ.get(f"{service_env_prefix}_DATABASE_URL") or default_database_url(var_dir, name)


@app.command()
def migrate() -> None:
    """Brings every service database to its latest schema."""
    var_dir = ToolSettings().var_dir
    for service in SERVICES:
        upgrade(service.migrations_dir, database_url(service.env_prefix, service.name, var_dir))
        typer.echo(f"  base de données {service.name} à jour")


async def _seed(nats_url: str) -> None:
    async with client_bus("carnet-seed", nats_url) as bus:
        accounts = [*DEMO_ACCOUNTS, *DEMO_TEAM_ACCOUNTS, DEMO_FOLLOWED_BENEFICIARY]
        reply = await bus.call(SeedDemoAccountsV1(accounts=accounts, deployments=DEMO_DEPLOYMENTS))
        await bus.call(DEMO_TERRITORY)  # after the accounts: their profiles then link to them, no invitation sent
        await bus.call(DEMO_TEAM)
        await bus.call(DEMO_NOTEBOOKS)
        # The notebooks wait (seconds at most) for directory's events about the team, then write 300 people at once.
        await bus.call(DEMO_POPULATION, timeout_s=60)
        typer.echo(f"  démo « {DEMO_DEPLOYMENT_LABEL} » : {reply.created} comptes créés, {reply.existing} déjà présents")


@app.command()
def seed() -> None:
    """Creates the demo territory and one account per role (dev mode only)."""
    asyncio.run(_seed(ToolSettings().operator_url))


def _start_nats(var_dir: Path, log_dir: Path) -> tuple[ServiceProcess, dict[str, str]]:
    """Starts nats-server with JetStream as the private bus of ``deploy/nats/`` (each service its own user, allowed
    only its subjects), its data and passwords under ``var_dir``; ready once its monitoring port says so. Returns
    each user's URL."""
    binary = bundled_nats_server()
    if binary is None:
        raise typer.Exit("nats-server introuvable : lancez `make run` pour l'installer.")
    port, monitoring_port = free_port(), free_port()  # a system NATS may already hold 4222
    setup = prepare_private_nats(var_dir / "nats", port)
    argv = [binary, "-c", str(setup.config), "-m", str(monitoring_port)]
    process = ServiceProcess("nats-server", "", setup.env, f"http://127.0.0.1:{monitoring_port}/healthz", log_dir,
                             argv)
    # `carnet dlq` and `carnet seed` from another terminal connect as the operator of this run.
    saved = var_dir / OPERATOR_URL_FILE
    saved.touch(mode=0o600)
    saved.write_text(setup.urls[OPERATOR])
    return process.start(wait=False), setup.urls


def _start_clamd(var_dir: Path, log_dir: Path) -> ClamdProcess | None:
    """Starts Debian's clamd (``make clamav``) with our signature file, unless DATA_IMPORT_CLAMD_SOCKET names
    another one; without it, uploads are read unscanned in dev and refused otherwise."""
    if os.environ.get("DATA_IMPORT_CLAMD_SOCKET"):
        return None
    binary = clamd_binary()
    if binary is None:
        typer.echo("  clamd introuvable (`make clamav`) : les fichiers importés ne seront pas analysés par "
                   "l'antivirus en dev, et refusés hors dev.")
        return None
    return ClamdProcess(binary, var_dir / "clamav", log_dir).start(wait=False)


async def _prepare_streams(nats_url: str) -> None:
    async with client_bus("carnet-streams", nats_url) as bus:
        await ensure_streams(bus.stream_context)


@app.command()
def up(port: int = typer.Option(int(os.environ.get("CARNET_PORT", 8080)), help="Port du site"),
       replicas: int = typer.Option(1, min=1, max=16, help="Processus par service et pour la passerelle "
                                                          "(les passerelles partagent le port du site)")) -> None:
    """Migrates, starts NATS, every service and the gateway, seeds the demo, then restarts any of them that
    dies; Ctrl-C stops everything. With ``--replicas N``, N processes of each: RPCs spread over the service's queue
    group, its durable consumers share the events, and the gateways share the site's port (SO_REUSEPORT)."""
    # The services default to production; this local launcher (bundled NATS, demo seed) runs in dev unless told.
    os.environ.setdefault("CARNET_ENV", "dev")
    settings = ServiceSettings()
    supervisor = Supervisor(say=typer.echo)
    supervisor.stop_on_signals()
    var_dir = settings.var_dir.resolve()
    log_dir = var_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        nats_process, nats_urls = _start_nats(var_dir, log_dir)
        supervisor.watch(nats_process)  # the first group watched, stopped last: services drain into it
        clamd = _start_clamd(var_dir, log_dir)
        scanner = {"DATA_IMPORT_CLAMD_SOCKET": str(clamd.socket_path)} if clamd else {}
        if clamd:
            supervisor.watch(clamd)  # stopped after the services, before NATS
        public_url = os.environ.get("CARNET_PUBLIC_URL", f"http://127.0.0.1:{port}")
        common = {"CARNET_ENV": settings.env, "CARNET_VAR_DIR": str(var_dir), "CARNET_PUBLIC_URL": public_url}
        numbers = [None] if replicas == 1 else range(1, replicas + 1)  # one process keeps its plain name
        processes = [service_process(service.name, {**common, "NATS_URL": nats_urls[service.name]},
                                     database_url(service.env_prefix, service.name, var_dir), log_dir,
                                     scanner if service.name == "data_import" else None, replica=number)
                     for service in SERVICES for number in numbers]
        processes += [gateway_process({**common, "NATS_URL": nats_urls[GATEWAY]}, log_dir, port,
                                      {"CARNET_PUBLIC_URL": public_url}, replica=number) for number in numbers]
        supervisor.watch(*processes)  # before they start: a signal in between still stops them
        # A pipeline rather than one step after the other (issue 19: the first `make run` < 45 s): each service's
        # processes start as soon as its database is migrated, so that their imports (most of a start) run on the
        # other cores while the next databases migrate here. NATS starts meanwhile, before the first service.
        by_package = {service.package: [p for p in processes if p.module == service.package] for service in SERVICES}
        for index, service in enumerate(SERVICES):
            supervisor.raise_if_stopping()  # each start forks: a signal handled in its at-fork hook is lost there
            upgrade(service.migrations_dir, database_url(service.env_prefix, service.name, var_dir))
            typer.echo(f"  base de données {service.name} à jour")
            if index == 0:
                nats_process.wait_ready(10)
                asyncio.run(_prepare_streams(nats_urls[OPERATOR]))
                for gateway in (p for p in processes if p.module == "gateway"):
                    gateway.start(wait=False)
            for process in by_package[service.package]:
                process.start(wait=False)
        for process in ([clamd] if clamd else []) + processes:
            supervisor.raise_if_stopping()
            process.wait_ready(60)
            typer.echo(f"  {process.name} prêt")
        supervisor.raise_if_stopping()
        if settings.dev_mode:
            asyncio.run(_seed(nats_urls[OPERATOR]))
        typer.echo(f"\nCarnet de bord tourne sur {public_url}  (journaux : {log_dir})")
        if settings.dev_mode:
            typer.echo(f"Boîte de réception de développement : {public_url}/dev/mailbox")
            typer.echo("Comptes de démonstration (connexion par lien e-mail, à lire dans la boîte ci-dessus) :")
            for account in DEMO_ACCOUNTS:
                typer.echo(f"  {account.role.value:<20} {account.email}")
            typer.echo(f"  et {len(DEMO_TEAM_ACCOUNTS)} autres professionnels : pro3@demo.carnet.test à "
                       f"pro{len(DEMO_TEAM_ACCOUNTS) + 2}@demo.carnet.test "
                       f"({DEMO_POPULATION.population.size} bénéficiaires suivis ou en attente)")
            followed = DEMO_FOLLOWED_BENEFICIARY
            typer.echo(f"  {followed.role.value:<20} {followed.email} ({followed.firstname} {followed.lastname}, "
                       "suivi avec un CER en cours, des rendez-vous et des échanges)")
            typer.echo(f"La bénéficiaire peut aussi se connecter par code SMS au {DEMO_BENEFICIARY_PHONE}.")
        typer.echo("Un service qui s'arrête est redémarré. Ctrl-C pour tout arrêter.")
        supervisor.run()
    except KeyboardInterrupt:
        typer.echo("\nArrêt en cours…")
    finally:
        supervisor.stop()
        typer.echo("Tout est arrêté.")


async def _with_js(work):
    async with client_bus("carnet-dlq", ToolSettings().operator_url) as bus:
        return await work(bus.stream_context)


@dlq.command("list")
def dlq_list() -> None:
    """Lists dead letters: the consumer that gave up and the original message's stream and sequence."""
    for letter in asyncio.run(_with_js(list_dead_letters)):
        state = f"rejouée le {letter.replayed_at:%Y-%m-%d %H:%M:%S}" if letter.replayed_at else "à rejouer"
        typer.echo(f"{letter.dlq_seq}\t{letter.reason}\t{letter.consumer}\t{letter.stream}#{letter.stream_seq}\t{state}")


@dlq.command("replay")
def dlq_replay(sequence: int = typer.Argument(..., help="Numéro de la lettre morte (colonne 1 de `carnet dlq list`)")) -> None:
    """Hands the original message of a dead letter back to the consumer that gave up on it, and to it only
    (a running replica of it handles it once); a letter is replayed once."""

    async def work(js):
        for letter in await list_dead_letters(js):
            if letter.dlq_seq == sequence:
                await replay(js, letter)
                return letter
        return None

    try:
        letter = asyncio.run(_with_js(work))
    except ReplayFailed as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if letter is None:
        typer.echo(f"Aucune lettre morte n°{sequence}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Rejouée : {letter.stream}#{letter.stream_seq} pour {letter.consumer}")


if __name__ == "__main__":
    app()
