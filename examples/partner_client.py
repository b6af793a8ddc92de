"""A small Carnet de bord partner client: what a partner's software does, runnable from the command line.

    # Create a notebook over HTTP, as the manager of the territory (client id and secret from the « Partenaires »
    # page of a national administrator):
    python partner_client.py create --url https://carnet.example.fr --client-id cdb_… --secret=… \
        --manager gestion@cd51.fr --deployment <territory id> --nir 1781299212296 \
        --firstname Jay --lastname Randévoui --birth-date 1978-12-01

    # Create or update a notebook over NATS, with the partner's own NATS user, and wait for a refusal:
    python partner_client.py upsert-notebook --nats-url nats://partner_rdvi:<password>@nats.example.fr:4222 \
        --partner rdvi --deployment <territory id> --nir 1781299212296 --firstname Jay --lastname Randévoui \
        --birth-date 1978-12-01 --city Reims

    # Record an appointment (with a professional of the beneficiary's group) and its status:
    python partner_client.py upsert-appointment --nats-url … --partner rdvi --deployment <territory id> \
        --nir 1781299212296 --appointment-id rdv-77 --professional conseil@ml.fr \
        --at 2026-12-15T09:30:00+01:00 --status planned

    # Listen to the refusals of your messages (each with its reason in French):
    python partner_client.py listen --nats-url … --partner rdvi

    # Check the signature of a webhook you received (body saved as received, header copied):
    python partner_client.py verify-webhook --secret=… --header "t=…,v1=…" --body-file body.json

Needs Python 3.10+, ``nats-py`` for the NATS commands (``pip install nats-py``), and ``webhook_signature.py``
(next to this file) for ``verify-webhook``. HTTP goes through the standard library.

Every message carries ``event_id``, your own id of it (a UUID): send a message again with the same id (after a
timeout, a crash) and Carnet de bord applies it once. Use a new id for a new fact. See docs/partners.md.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from webhook_signature import verify_signature  # noqa: E402

NOTEBOOK_FIELDS = {  # option → the field of the partner's notebook (docs/partners.md)
    "nir": "nir", "external_id": "externalId", "firstname": "firstname", "lastname": "lastname",
    "birth_date": "dateOfBirth", "mobile": "mobileNumber", "email": "email", "address1": "address1",
    "address2": "address2", "postal_code": "postalCode", "city": "city", "caf_number": "cafNumber",
}


# --- messages ------------------------------------------------------------------------------------------------

def notebook_of(options: argparse.Namespace) -> dict:
    return {field: getattr(options, option) for option, field in NOTEBOOK_FIELDS.items()
            if getattr(options, option, None)}


def notebook_upsert(deployment_id: str, notebook: dict, event_id: str | None = None) -> dict:
    """The body of ``partner.<partner>.notebook.upsert.v1``."""
    return {"event_id": event_id or str(uuid.uuid4()), "deploymentId": deployment_id, "notebook": notebook}


def appointment_upsert(deployment_id: str, appointment: dict, event_id: str | None = None) -> dict:
    """The body of ``partner.<partner>.appointment.upsert.v1``."""
    return {"event_id": event_id or str(uuid.uuid4()), "deploymentId": deployment_id, "appointment": appointment}


def subject(partner: str, event: str) -> str:
    return f"partner.{partner}.{event}.v1"


# --- HTTP ---------------------------------------------------------------------------------------------------

def create_notebook(url: str, partner: str, client_id: str, secret: str, manager_email: str, deployment_id: str,
                    notebook: dict, timeout_s: float = 15) -> tuple[int, dict]:
    """``POST /api/v1/partners/<partner>/notebooks``: (HTTP status, JSON answer)."""
    body = json.dumps({"rdviUserEmail": manager_email, "deploymentId": deployment_id, "notebook": notebook}).encode()
    credential = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    request = urllib.request.Request(f"{url.rstrip('/')}/api/v1/partners/{partner}/notebooks", data=body,
                                     method="POST", headers={"Content-Type": "application/json",
                                                             "Authorization": f"Basic {credential}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as refusal:
        return refusal.code, json.loads(refusal.read() or b"{}")


# --- NATS ---------------------------------------------------------------------------------------------------

async def connect(nats_url: str):
    """Your user may receive replies on its own inbox only (``_INBOX.<user>``): JetStream's acks come there."""
    import nats  # only the NATS commands need it

    user = urlsplit(nats_url).username
    return await nats.connect(nats_url, inbox_prefix=f"_INBOX.{user}" if user else "_INBOX")


async def publish(nats_url: str, partner: str, event: str, message: dict, wait_s: float = 5) -> list[dict]:
    """Publishes into JetStream (stored once acknowledged; the id deduplicates within two minutes) and returns the
    refusals of this message heard within ``wait_s`` seconds (none: it was accepted, or is still being applied)."""
    nc = await connect(nats_url)
    refusals: list[dict] = []

    async def on_refusal(received) -> None:
        answer = json.loads(received.data)
        if answer.get("rejected_event_id") in (message["event_id"], None):
            refusals.append(answer)

    try:
        await nc.subscribe(subject(partner, "rejected"), cb=on_refusal)
        ack = await nc.jetstream().publish(subject(partner, event), json.dumps(message).encode(),
                                           headers={"Nats-Msg-Id": message["event_id"]})
        print(f"stocké : flux {ack.stream}, n° {ack.seq}{' (déjà reçu)' if ack.duplicate else ''}")
        await asyncio.sleep(wait_s)
    finally:
        await nc.close()
    return refusals


async def listen(nats_url: str, partner: str) -> None:
    nc = await connect(nats_url)

    async def on_refusal(received) -> None:
        answer = json.loads(received.data)
        print(f"refusé {answer.get('rejected_event_id')} ({answer['rejected_subject']}) : {answer['reason']}",
              flush=True)

    await nc.subscribe(subject(partner, "rejected"), cb=on_refusal)
    print(f"à l'écoute de {subject(partner, 'rejected')} (Ctrl-C pour arrêter)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await nc.close()


# --- command line -------------------------------------------------------------------------------------------

def notebook_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nir", required=True)
    parser.add_argument("--firstname", required=True)
    parser.add_argument("--lastname", required=True)
    parser.add_argument("--birth-date", required=True, help="AAAA-MM-JJ")
    for option in ("external-id", "mobile", "email", "address1", "address2", "postal-code", "city", "caf-number"):
        parser.add_argument(f"--{option}", default="")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(description="Client d'exemple d'un partenaire de Carnet de bord.")
    commands = root.add_subparsers(dest="command", required=True)

    create = commands.add_parser("create", help="créer un carnet par l'API HTTP")
    for option in ("url", "client-id", "secret", "manager", "deployment"):
        create.add_argument(f"--{option}", required=True)
    create.add_argument("--partner", default="rdvi")
    notebook_options(create)

    for name in ("upsert-notebook", "upsert-appointment", "listen"):
        command = commands.add_parser(name)
        command.add_argument("--nats-url", required=True, help="nats://partner_<nom>:<mot de passe>@hôte:4222")
        command.add_argument("--partner", required=True)
        if name != "listen":
            command.add_argument("--deployment", required=True)
            command.add_argument("--event-id", help="votre identifiant du message (UUID) ; nouveau par défaut")
    notebook_options(commands.choices["upsert-notebook"])
    appointment = commands.choices["upsert-appointment"]
    appointment.add_argument("--nir", required=True)
    appointment.add_argument("--appointment-id", required=True)
    appointment.add_argument("--professional", required=True, help="l'adresse d'un professionnel du groupe de suivi")
    appointment.add_argument("--at", required=True, help="2026-12-15T09:30:00+01:00")
    appointment.add_argument("--status", default="planned",
                             choices=("planned", "present", "absent", "excused", "cancelled"))

    verify = commands.add_parser("verify-webhook", help="vérifier la signature d'un webhook reçu")
    verify.add_argument("--secret", required=True)
    verify.add_argument("--header", required=True, help="la valeur de l'en-tête X-Carnet-Signature")
    verify.add_argument("--body-file", required=True, type=Path, help="le corps reçu, tel quel")
    return root


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if options.command == "create":
        status, answer = create_notebook(options.url, options.partner, options.client_id, options.secret,
                                         options.manager, options.deployment, notebook_of(options))
        print(status, json.dumps(answer, ensure_ascii=False))
        return 0 if status == 201 else 1
    if options.command == "listen":
        asyncio.run(listen(options.nats_url, options.partner))
        return 0
    if options.command == "verify-webhook":
        valid = verify_signature(options.secret, options.header, options.body_file.read_bytes())
        print("signature valide" if valid else "signature refusée")
        return 0 if valid else 1
    if options.command == "upsert-notebook":
        event, message = "notebook.upsert", notebook_upsert(options.deployment, notebook_of(options), options.event_id)
    else:
        event, message = "appointment.upsert", appointment_upsert(options.deployment, {
            "appointmentId": options.appointment_id, "nir": options.nir, "professionalEmail": options.professional,
            "at": options.at, "status": options.status}, options.event_id)
    refusals = asyncio.run(publish(options.nats_url, options.partner, event, message))
    for refusal in refusals:
        print(f"refusé : {refusal['reason']}")
    return 1 if refusals else 0


if __name__ == "__main__":
    sys.exit(main())
