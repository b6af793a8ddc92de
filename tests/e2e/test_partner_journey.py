"""Issue 16's "done when", as one partner lives it on the demo territory, on the private bus as deployed (SQLite and
PostgreSQL): RDV-Insertion (partner ``rdvi``) creates a notebook over REST with its credential and another over NATS
with its own user — both with the example client a partner runs — and receives a signed webhook, checked by that
client, when the orientation of the first changes."""
from __future__ import annotations

import json
import uuid

import pytest
from carnet.demo import DEMO_93, DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_OTHER_STRUCTURE, DEMO_TERRITORY

from servicekit.bus_access import partner_user
from testkit.system import bearer, sign_in
from tests.e2e.test_notebook import orientation_options
from tests.e2e.test_partners_nats import PARTNER_NAME, private_system  # noqa: F401  (one system per backend)
from tests.e2e.test_partners_rest import create_credential, new_nir, run_example
from tests.e2e.test_webhooks import PRO2, Partner, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

MANAGER = "manager@demo.carnet.test"


async def test_rdv_insertion_creates_notebooks_over_rest_and_nats_and_hears_of_an_orientation_signed(
        private_system, tmp_path):  # noqa: F811
    system = private_system
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    receiver = Partner()
    try:
        async with system.client() as client:
            admin = await sign_in(system, client, "admin@demo.carnet.test")
            manager = bearer(await sign_in(system, client, MANAGER))
            subscribed = await client.post("/api/v1/webhooks", headers=bearer(admin), json={
                "label": "RDV-Insertion", "url": receiver.url, "deployment_ids": [str(DEMO_93)],
                "event_types": ["orientation.changed"]})
            assert subscribed.status_code == 201, subscribed.text
            webhook_secret = subscribed.json()["secret"]
            credential = (await create_credential(client, admin, PARTNER_NAME, str(DEMO_93))).json()

            # Over REST, with its client id and secret.
            code, out = await run_example(
                "create", "--url", system.base_url, "--partner", PARTNER_NAME, "--client-id",
                credential["credential"]["client_id"], f"--secret={credential['secret']}", "--manager", MANAGER,
                "--deployment", str(DEMO_93), "--nir", new_nir(), "--firstname", "Jay", "--lastname", "Parrest",
                "--birth-date", "1978-12-01")
            assert code == 0 and out.startswith("201 "), out
            over_rest = json.loads(out.split(" ", 1)[1])["notebookId"]

            # Over NATS, with its own user.
            lastname = f"Parnats{uuid.uuid4().hex[:6]}"
            code, out = await run_example(
                "upsert-notebook", "--nats-url", system.bus_urls[partner_user(PARTNER_NAME)], "--partner",
                PARTNER_NAME, "--deployment", str(DEMO_93), "--nir", new_nir(), "--firstname", "Awa", "--lastname",
                lastname, "--birth-date", "1990-04-02")
            assert code == 0 and "stocké" in out, out

            async def over_nats():
                found = (await client.get("/api/v1/notebooks", params={"q": lastname}, headers=manager)).json()
                return found["notebooks"]
            [row] = await until(over_nats)
            page = (await client.get(f"/api/v1/notebooks/{row['notebook_id']}", headers=manager)).json()
            assert [e["source"] for e in page["timeline"]] == ["partner"]

            # The orientation manager orients the notebook created over REST: the partner is told, signed.
            orientation_manager = await sign_in(system, client, "orientation@demo.carnet.test")
            orientation = bearer(orientation_manager)
            offered = await orientation_options(client, orientation_manager, [DEMO_OTHER_STRUCTURE], [PRO2])
            social = next(s["orientation_system_id"] for s in offered["orientation_systems"] if s["name"] == "Social")
            oriented = await client.put(f"/api/v1/notebooks/{over_rest}/orientation", headers=orientation, json={
                "orientation_system_id": social, "structure_id": str(DEMO_OTHER_STRUCTURE), "referent_id": PRO2,
                "reason": "Un accompagnement social renforcé"})
            assert oriented.status_code == 200, oriented.text

        [(headers, body)] = await receiver.received(1)
        payload = json.loads(body)
        assert (payload["type"], payload["notebook_id"]) == ("orientation.changed", over_rest)
        (received := tmp_path / "body.json").write_bytes(body)
        assert await run_example("verify-webhook", f"--secret={webhook_secret}", "--header",
                                 headers["X-Carnet-Signature"], "--body-file", str(received)) == (
            0, "signature valide\n")
    finally:
        receiver.server.shutdown()
