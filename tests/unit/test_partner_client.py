"""The partners' example client (examples/partner_client.py): the messages it builds are the contracts' (a partner
copying it sends what Carnet de bord accepts), and it checks a webhook's signature with the webhooks' example."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from contracts.partners import PartnerAppointmentUpsertV1, PartnerNotebookUpsertV1

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str):
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLES))


client = example("partner_client")
signature = example("webhook_signature")


def test_the_messages_it_builds_are_the_contracts():
    options = client.parser().parse_args([
        "upsert-notebook", "--nats-url", "nats://partner_rdvi:p@127.0.0.1:4222", "--partner", "rdvi",
        "--deployment", "4f0c2f5e-6d3a-4c55-9d7e-1b0f3a9c2e11", "--nir", "1781299212296", "--firstname", "Jay",
        "--lastname", "Randévoui", "--birth-date", "1978-12-01", "--city", "Reims"])
    message = client.notebook_upsert(options.deployment, client.notebook_of(options))
    parsed = PartnerNotebookUpsertV1.model_validate(message)
    assert (parsed.notebook.lastname, parsed.notebook.city, str(parsed.event_id)) == (
        "Randévoui", "Reims", message["event_id"])
    appointment = client.appointment_upsert(options.deployment, {
        "appointmentId": "rdv-77", "nir": "1781299212296", "professionalEmail": "conseil@ml.fr",
        "at": "2026-12-15T09:30:00+01:00", "status": "present"}, event_id=message["event_id"])
    assert PartnerAppointmentUpsertV1.model_validate(appointment).appointment.status == "present"
    assert client.subject("rdvi", "notebook.upsert") == "partner.rdvi.notebook.upsert.v1"


def test_it_verifies_a_webhook_signature_with_the_webhooks_example(tmp_path, capsys):
    body = b'{"type":"notebook.orientation.changed","data":{}}'
    (tmp_path / "body.json").write_bytes(body)
    header = signature.sign("s3cret", body)
    assert client.main(["verify-webhook", "--secret", "s3cret", "--header", header,
                        "--body-file", str(tmp_path / "body.json")]) == 0
    assert "signature valide" in capsys.readouterr().out
    (tmp_path / "body.json").write_bytes(body.replace(b"{}", b'{"x":1}'))
    assert client.main(["verify-webhook", "--secret", "s3cret", "--header", header,
                        "--body-file", str(tmp_path / "body.json")]) == 1


def test_a_secret_beginning_with_a_dash_is_read_as_documented():
    """One partner secret in 64 begins with "-" (secrets.token_urlsafe): written ``--secret -…``, argparse takes it
    for an option and stops. The documented command lines say ``--secret=…``, which reads any secret."""
    documented = [line for path in (EXAMPLES.parent / "docs" / "partners.md", EXAMPLES / "partner_client.py")
                  for line in path.read_text(encoding="utf-8").splitlines() if "--secret" in line
                  and "add_argument" not in line]
    assert documented and all("--secret=" in line for line in documented), documented
    options = client.parser().parse_args([
        "create", "--url", "https://carnet.example.fr", "--client-id", "cdb_0123", "--secret=-Zx9_secret",
        "--manager", "gestion@cd51.fr", "--deployment", "4f0c2f5e-6d3a-4c55-9d7e-1b0f3a9c2e11", "--nir",
        "1781299212296", "--firstname", "Jay", "--lastname", "Randévoui", "--birth-date", "1978-12-01"])
    assert options.secret == "-Zx9_secret"
