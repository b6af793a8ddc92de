"""`carnet import FILE --kind …`: an operator's import through the gateway's API, as the import page does it:
upload (streamed from the disk), reading and review with a progress bar, the review's counts, then, with
``--apply``, the rows applied with a progress bar, the final counts and where to download the report."""
from __future__ import annotations

import mimetypes
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn,
                           TransferSpeedColumn)
from rich.table import Table

from contracts.imports import ImportKind

READ_BYTES = 256 * 1024
POLL_S = 0.5
LOGIN_WAIT_S = 15.0
RUNNING = {"receiving", "parsing", "applying"}
TOKEN_HELP = ("Jeton d'accès (en-tête Authorization: Bearer), par défaut la variable CARNET_TOKEN. Un jeton vaut "
              "15 minutes : obtenez-le par POST /api/v1/auth/token avec le jeton d'un lien de connexion.")
EMAIL_HELP = ("En développement seulement (CARNET_ENV=dev) : se connecter avec ce compte, le lien de connexion "
              "étant lu dans la boîte de réception de développement (par exemple manager@demo.carnet.test).")


class ImportFailed(Exception):
    """Said to the operator in French, then exit code 1."""


def answer_of(reply: httpx.Response) -> dict:
    """The JSON answer, or its French error message as ``ImportFailed``."""
    if reply.is_success:
        return reply.json()
    try:
        message = reply.json()["message"]
    except (ValueError, KeyError, TypeError):
        message = f"réponse {reply.status_code} de la passerelle"
    raise ImportFailed(message)


def dev_login(client: httpx.Client, email: str, *, wait_s: float = LOGIN_WAIT_S) -> str:
    """A login link asked for ``email``, read in the dev mailbox (which answers only in dev mode), exchanged for
    an access token free of pending steps."""
    def links() -> list[str]:
        reply = client.get("/api/v1/dev/mailbox", params={"to": email})
        if reply.status_code == 404:
            raise ImportFailed("La boîte de réception de développement ne répond pas : --email ne sert qu'en "
                               "développement. Donnez un jeton avec --token ou CARNET_TOKEN.")
        return [message["links"][0] for message in answer_of(reply) if message.get("links")]

    before = len(links())
    answer_of(client.post("/api/v1/auth/magic-link", json={"email": email}))
    deadline = time.monotonic() + wait_s
    while len(found := links()) <= before:
        if time.monotonic() > deadline:
            raise ImportFailed(f"Aucun lien de connexion reçu pour {email} : ce compte existe-t-il ?")
        time.sleep(0.2)
    pair = answer_of(client.post("/api/v1/auth/token", json={"token": found[0].rsplit("/", 1)[1]}))
    token = pair["access_token"]
    me = answer_of(client.get("/api/v1/me", headers=bearer(token)))
    if me.get("pending_steps"):
        raise ImportFailed(f"Ce compte doit d'abord se connecter au site pour terminer : "
                           f"{', '.join(me['pending_steps'])}.")
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def multipart_body(path: Path, boundary: str, advance: Callable[[int], None]) -> Iterator[bytes]:
    """The file in a multipart/form-data body, read from the disk a piece at a time, never whole in memory."""
    name = path.name.replace('"', "").replace("\r", "").replace("\n", "")
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    yield (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
           f"Content-Type: {content_type}\r\n\r\n").encode()
    with path.open("rb") as file:
        while piece := file.read(READ_BYTES):
            advance(len(piece))
            yield piece
    yield f"\r\n--{boundary}--\r\n".encode()


def upload(client: httpx.Client, path: Path, kind: ImportKind, structure: uuid.UUID | None, console: Console) -> dict:
    boundary = f"carnet-{secrets.token_hex(12)}"
    params = {"structure_id": str(structure)} if structure else {}
    with Progress(TextColumn("Envoi du fichier"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("envoi", total=path.stat().st_size)
        reply = client.post(f"/api/v1/imports/{kind.value}", params=params,
                            content=multipart_body(path, boundary, lambda n: progress.advance(task, n)),
                            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    return answer_of(reply)


def follow(client: httpx.Client, view: dict, console: Console, label: str, *, poll_s: float = POLL_S) -> dict:
    """Polls the import while it runs, its rows done on a progress bar; returns it once it stops running."""
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[speed]}"),
                  TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task(label, total=view.get("rows_total") or None, speed="")
        while view["state"] in RUNNING:
            time.sleep(poll_s)
            view = answer_of(client.get(f"/api/v1/imports/{view['import_id']}"))
            speed = f"{view['rows_per_s']:.0f} lignes/s" if view.get("rows_per_s") else ""
            progress.update(task, total=view.get("rows_total") or None, completed=view.get("rows_done", 0),
                            speed=speed)
    return view


def counts_table(title: str, counts: dict[str, int], labels: dict[str, str]) -> Table:
    table = Table(title=title, show_header=False)
    for key, label in labels.items():
        table.add_row(label, str(counts.get(key, 0)))
    return table


REVIEW_LABELS = {"new": "Nouvelles (seront créées)", "same": "Existantes (mises à jour si elles ont changé)",
                 "conflict": "En conflit (non appliquées)", "invalid": "Invalides (non appliquées)"}
OUTCOME_LABELS = {"created": "Créées", "updated": "Mises à jour", "unchanged": "Inchangées", "rejected": "Rejetées",
                  "excluded": "Exclues"}


def run_import(client: httpx.Client, path: Path, kind: ImportKind, *, structure: uuid.UUID | None, apply: bool,
               console: Console, poll_s: float = POLL_S) -> dict:
    """The whole import; returns its last view. Raises ``ImportFailed`` when it fails."""
    view = upload(client, path, kind, structure, console)
    console.print(f"Import {view['import_id']} : fichier reçu, vérification des lignes.")
    view = follow(client, view, console, "Lecture et vérification", poll_s=poll_s)
    if view["state"] == "failed":
        raise ImportFailed(f"L'import a échoué : {view['reason']}")
    site = str(client.base_url).rstrip("/")
    page = f"{site}/imports/{view['import_id']}"
    if view["state"] == "review":
        console.print(counts_table(f"Vérification de {view['rows_total']} ligne(s)", view["review"], REVIEW_LABELS))
        for warning in view.get("warnings", []):
            console.print(f"Attention : {warning}", style="yellow", markup=False)
        if not apply:
            console.print(f"Rien n'est enregistré. Relisez les lignes sur {page} puis appliquez l'import, "
                          "ou relancez avec --apply.")
            return view
        view = answer_of(client.post(f"/api/v1/imports/{view['import_id']}/apply", json={"exclude_rows": []}))
        view = follow(client, view, console, "Enregistrement", poll_s=poll_s)
    if view["state"] == "failed":
        raise ImportFailed(f"L'import a échoué : {view['reason']}")
    console.print(counts_table("Résultat", view["counts"], OUTCOME_LABELS))
    report = f"{site}/api/v1/imports/{view['import_id']}/report"
    console.print(f"Rapport ligne par ligne : {report}.csv ou {report}.xlsx (avec le même jeton), ou sur la page "
                  f"{page}")
    return view


def import_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="Fichier CSV, XLS, XLSX ou ODS"),
    kind: ImportKind = typer.Option(..., "--kind", help="Ce que contient le fichier"),
    structure: uuid.UUID | None = typer.Option(None, "--structure", help="Structure des professionnels ou des "
                                               "rattachements, si le compte en administre plusieurs"),
    apply: bool = typer.Option(False, "--apply/--no-apply", help="Appliquer les lignes nouvelles et existantes "
                               "après la vérification (sinon : vérifier seulement)"),
    url: str = typer.Option("http://127.0.0.1:8080", "--url", envvar="CARNET_URL", help="Adresse du site"),
    token: str = typer.Option("", "--token", envvar="CARNET_TOKEN", help=TOKEN_HELP, show_default=False),
    email: str = typer.Option("", "--email", help=EMAIL_HELP, show_default=False),
) -> None:
    """Importe un fichier par l'API du site, comme la page d'import : envoi, vérification de chaque ligne, puis
    enregistrement avec --apply. Authentification : --token (ou CARNET_TOKEN) ; en développement, --email
    suffit. Code de sortie 1 si l'import échoue."""
    console = Console(highlight=False)
    try:
        with httpx.Client(base_url=url, timeout=httpx.Timeout(60.0, connect=5.0)) as client:
            access = token or (dev_login(client, email) if email else "")
            if not access:
                raise ImportFailed("Donnez un jeton d'accès avec --token ou CARNET_TOKEN (en développement : "
                                   "--email manager@demo.carnet.test).")
            client.headers.update(bearer(access))
            run_import(client, file, kind, structure=structure, apply=apply, console=console)
    except ImportFailed as failure:
        console.print(str(failure), style="red", markup=False)
        raise typer.Exit(1) from None
    except httpx.HTTPError as failure:
        console.print(f"Le site {url} ne répond pas : {failure}", style="red", markup=False)
        raise typer.Exit(1) from None

