"""Signed webhooks through the whole system, on real NATS and both databases: an admin subscribes local partners
(receivers on 127.0.0.1) from the webhooks page, an orientation decided in the notebook reaches them signed (checked
with the partners' own examples/webhook_signature.py), a failing partner is retried and served once, a delivery is
replayed by hand, and a partner failing for a day is paused, the admin told by email, resumed from the page."""
from __future__ import annotations

import asyncio
import html
import importlib.util
import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from carnet.demo import DEMO_93, DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_OTHER_STRUCTURE, DEMO_TERRITORY
from notify.config import NotifySettings
from notify.handlers.deps import Deps
from notify.handlers.webhook_delivery import deliver_due_webhooks
from servicekit.db import create_engine, sessionmaker, utcnow
from servicekit.outbox import Outbox
from testkit.system import bearer, csrf_of, sign_in
from tests.e2e.test_notebook import orientation_options
from tests.e2e.test_partners_rest import run_example

pytestmark = pytest.mark.e2e
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webhook_signature.py"
SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)
PRO2 = "93000000-0000-4000-8000-00000000b005"  # Simon Anka, Groupe NS (carnet.demo)
ADMIN = "admin@demo.carnet.test"


def partner_example():
    """examples/webhook_signature.py as a partner copies it."""
    spec = importlib.util.spec_from_file_location("webhook_signature", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Partner:
    """A partner's endpoint on 127.0.0.1, answering the statuses it is given in order (200 once they run out)."""

    def __init__(self, statuses=()):
        self.statuses, self.requests = list(statuses), []
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                partner.requests.append((dict(self.headers), body))
                status = partner.statuses.pop(0) if partner.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/carnet"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    async def received(self, count: int, timeout_s: float = 20) -> list[tuple[dict, bytes]]:
        for _ in range(int(timeout_s / 0.1)):
            if len(self.requests) >= count:
                return self.requests
            await asyncio.sleep(0.1)
        raise AssertionError(f"{len(self.requests)} requests received, {count} expected")


@pytest.fixture
def partners():
    started = []

    def start(statuses=()):
        started.append(Partner(statuses))
        return started[-1]

    yield start
    for partner in started:
        partner.server.shutdown()


async def until(check, timeout_s: float = 20):
    for _ in range(int(timeout_s / 0.1)):
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("never happened")


async def admin_clients(system, client, pages):
    """The admin's access token (API) and a signed-in browser session (pages) on ``pages``."""
    token = await sign_in(system, client, ADMIN)
    await system.login_by_link(pages, ADMIN, count=2)
    assert (await pages.get("/webhooks")).status_code == 200
    return token


async def subscribe_from_the_page(pages, label: str, url: str) -> tuple[str, str]:
    """Fills and sends the page's form; returns the new subscription's id and the secret it shows once."""
    answer = await pages.post("/webhooks", data={
        "csrf": csrf_of(pages), "label": label, "url": url, "deployment_ids": str(DEMO_93),
        "event_types": ["orientation.changed"]})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    secret = html.unescape(re.search(r'id="secret" readonly value="([^"]+)"', answer.text).group(1))
    subscription_id = re.findall(r'href="/webhooks/([0-9a-f-]{36})">' + re.escape(label), answer.text)[0]
    return subscription_id, secret


async def seed_demo(system) -> None:
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)


async def orient_sophie(system, client) -> None:
    """An orientation manager orients Sophie to Social at Groupe NS with Simon as référent."""
    co = await sign_in(system, client, "orientation@demo.carnet.test")

    # Once the notebook's read model knows Groupe NS and Simon (directory's events arrive by themselves).
    offered = await orientation_options(client, co, [DEMO_OTHER_STRUCTURE], [PRO2])
    social = next(s["orientation_system_id"] for s in offered["orientation_systems"] if s["name"] == "Social")
    oriented = await client.put(f"/api/v1/notebooks/{SOPHIE}/orientation", headers=bearer(co), json={
        "orientation_system_id": social, "structure_id": str(DEMO_OTHER_STRUCTURE), "referent_id": PRO2,
        "reason": "Un accompagnement social renforcé"})
    assert oriented.status_code == 200, oriented.text


@pytest.mark.service_env(notify={"NOTIFY_WEBHOOK_RETRY_BASE_S": "0.5"})
async def test_an_orientation_reaches_partners_signed_a_failing_one_is_retried_once_and_replayed_by_hand(
        system, partners, tmp_path):
    steady, flaky = partners(), partners([500])
    async with system.client() as client, system.client() as pages:
        await seed_demo(system)
        admin = await admin_clients(system, client, pages)
        steady_id, steady_secret = await subscribe_from_the_page(pages, "Logiciel RDV", steady.url)
        flaky_id, flaky_secret = await subscribe_from_the_page(pages, "Logiciel instable", flaky.url)
        listed = await client.get("/api/v1/webhooks", headers=bearer(admin))
        assert listed.status_code == 200 and steady_secret not in listed.text and flaky_secret not in listed.text
        assert steady_secret not in (await pages.get("/webhooks")).text  # shown once
        # Bad input: a clear French refusal on the page, the form kept, nothing created.
        bad = await pages.post("/webhooks", data={"csrf": csrf_of(pages), "label": "Mauvais", "url": "ftp://x.fr/",
                                                  "deployment_ids": str(DEMO_93), "event_types": "orientation.changed"})
        assert bad.status_code == 422 and "n'est pas une URL valide" in html.unescape(bad.text)
        assert 'value="ftp://x.fr/"' in bad.text
        assert f'name="deployment_ids" value="{DEMO_93}" checked' in bad.text  # the boxes ticked, ticked again
        assert 'name="event_types" value="orientation.changed" checked' in bad.text
        unknown = await pages.post("/webhooks", data={"csrf": csrf_of(pages), "label": "Inconnu", "url": steady.url,
                                                      "deployment_ids": str(DEMO_93), "event_types": "pigeon"})
        assert unknown.status_code == 422 and "Les événements : valeur inconnue." in html.unescape(unknown.text)
        none = await pages.post("/webhooks", data={"csrf": csrf_of(pages), "label": "Sans territoire",
                                                   "url": steady.url, "event_types": "orientation.changed"})
        assert none.status_code == 422 and 'role="alert"' in none.text
        forged = await pages.post("/webhooks", data={"csrf": "faux", "label": "Forgé", "url": steady.url,
                                                     "deployment_ids": str(DEMO_93)})
        assert forged.status_code == 403
        assert len((await client.get("/api/v1/webhooks", headers=bearer(admin))).json()["subscriptions"]) == 2

        await orient_sophie(system, client)

        [(headers, body)] = await steady.received(1)
        verify = partner_example().verify_signature
        assert verify(steady_secret, headers["X-Carnet-Signature"], body)
        assert not verify(flaky_secret, headers["X-Carnet-Signature"], body)
        # The same with the partners' example client, from the command line, on the body as received.
        (received := tmp_path / "body.json").write_bytes(body)
        check = ["verify-webhook", "--header", headers["X-Carnet-Signature"], "--body-file", str(received)]
        assert await run_example(*check, f"--secret={steady_secret}") == (0, "signature valide\n")
        assert await run_example(*check, f"--secret={flaky_secret}") == (1, "signature refusée\n")
        payload = json.loads(body)
        assert (payload["type"], payload["territory"], payload["notebook_id"]) == (
            "orientation.changed", str(DEMO_93), SOPHIE)
        assert payload["data"]["referent_id"] == PRO2 and payload["data"]["orientation_system_name"] == "Social"
        assert "@" not in body.decode()  # no email address reaches a partner
        assert headers["X-Carnet-Event"] == "orientation.changed"

        # 500 first, then served: retried, and received once it succeeded.
        (_, first), (second_headers, second) = await flaky.received(2)
        assert first == second and verify(flaky_secret, second_headers["X-Carnet-Signature"], second)
        deliveries = await until(lambda: delivered(client, admin, flaky_id))
        [delivery] = deliveries
        assert [a["status_code"] for a in delivery["history"]] == [200, 500]
        await asyncio.sleep(1.5)
        assert len(flaky.requests) == 2 and len(steady.requests) == 1

        # Replayed by hand from the page: the same body and delivery id, signed anew.
        replayed = await pages.post(f"/webhooks/envois/{delivery['delivery_id']}/rejouer",
                                    data={"csrf": csrf_of(pages)})
        assert replayed.status_code == 303 and replayed.headers["location"] == f"/webhooks/{flaky_id}?notice=replayed"
        (*_, (third_headers, third)) = await flaky.received(3)
        assert third == second and third_headers["X-Carnet-Delivery"] == delivery["delivery_id"]
        assert verify(flaky_secret, third_headers["X-Carnet-Signature"], third)
        page = await pages.get(f"/webhooks/{flaky_id}")
        assert page.status_code == 200 and "Remis" in page.text and "Rejouer" in page.text
        # Outside the admin_cdb role: refused.
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        assert (await client.get("/api/v1/webhooks", headers=bearer(manager))).status_code == 403
        assert (await client.get(f"/api/v1/webhooks/{steady_id}/deliveries",
                                 headers=bearer(manager))).status_code == 403


async def delivered(client, admin, subscription_id):
    answer = (await client.get(f"/api/v1/webhooks/{subscription_id}/deliveries", headers=bearer(admin))).json()
    return answer["deliveries"] if answer["deliveries"] and answer["deliveries"][0]["status"] == "delivered" else None


async def test_a_partner_failing_for_a_day_is_paused_the_admin_told_and_it_resumes_from_the_page(system, partners):
    down = partners([503] * 10)
    async with system.client() as client, system.client() as pages:
        await seed_demo(system)
        admin = await admin_clients(system, client, pages)
        subscription_id, _secret = await subscribe_from_the_page(pages, "Logiciel en panne", down.url)
        await orient_sophie(system, client)
        await down.received(1)
        await until(lambda: first_failure_recorded(client, admin, subscription_id))  # the next try is 30 s away

        # A second notify replica whose clock is a day ahead (the injectable clock): its try fails too, a day
        # after the first failure, so it pauses the subscription and queues the admins' email.
        engine = create_engine(system.database_urls["notify"])
        try:
            later = Deps(sessions=sessionmaker(engine), outbox=Outbox(),
                         settings=NotifySettings(env="dev", public_url=system.base_url),
                         clock=lambda: utcnow() + timedelta(days=1, minutes=1))
            await deliver_due_webhooks(later)
        finally:
            await engine.dispose()
        assert len(down.requests) == 2
        [told] = await until(lambda: paused_notices(client))
        assert told["links"] == [f"{system.base_url}/webhooks"]
        assert "Logiciel en panne" in told["text"]

        listing = await pages.get("/webhooks")
        assert "En pause depuis" in listing.text and f'action="/webhooks/{subscription_id}/reprendre"' in listing.text
        [subscription] = (await client.get("/api/v1/webhooks", headers=bearer(admin))).json()["subscriptions"]
        assert (subscription["status"], subscription["paused_for_failures"]) == ("paused", True)

        down.statuses.clear()  # the partner repaired its endpoint
        resumed = await pages.post(f"/webhooks/{subscription_id}/reprendre", data={"csrf": csrf_of(pages)})
        assert resumed.status_code == 303
        await down.received(3)
        assert await until(lambda: delivered(client, admin, subscription_id))
        assert "En pause depuis" not in (await pages.get("/webhooks")).text


async def first_failure_recorded(client, admin, subscription_id) -> bool:
    answer = (await client.get(f"/api/v1/webhooks/{subscription_id}/deliveries", headers=bearer(admin))).json()
    return [(d["status"], d["attempts"]) for d in answer["deliveries"]] == [("pending", 1)]


async def paused_notices(client):
    answer = await client.get("/api/v1/dev/mailbox", params={"to": ADMIN})
    return [m for m in answer.json() if m["subject"] == "Un webhook vers un partenaire est en pause"]
