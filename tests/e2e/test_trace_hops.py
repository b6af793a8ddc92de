"""One notebook change, one trace: gateway → RPC → database → outbox → relay → consumer → the consumer's own writes,
read back from the spans every process writes to ``CARNET_TRACE_FILE``; and the metrics of each health port.

Hops are found by span kind and attributes (the route, the subject, ``db.system``), so that span names may change.
"""
from __future__ import annotations

import asyncio
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY
from contracts.notebook import AppointmentBookedV1, BookAppointmentV1
from testkit.system import bearer, sign_in

pytestmark = pytest.mark.e2e

SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)
BOOK_ROUTE = "/api/v1/notebooks/{notebook_id}/appointments"


class Trace:
    def __init__(self, spans: list[dict], trace_id: str) -> None:
        self.spans = [s for s in spans if s["trace_id"] == trace_id]
        self.by_id = {s["span_id"]: s for s in self.spans}

    def find(self, description: str, predicate) -> list[dict]:
        found = [s for s in self.spans if predicate(s)]
        assert found, f"no span for {description} in the trace:\n" + "\n".join(
            f"{s['service']:9} {s['kind']:8} {s['name']}" for s in self.spans)
        return found

    def descends(self, span: dict, ancestor: dict) -> bool:
        while span["parent_id"] is not None:
            if span["parent_id"] == ancestor["span_id"]:
                return True
            span = self.by_id.get(span["parent_id"])
            if span is None:  # a parent outside the trace file: not connected
                return False
        return False


def writes(span: dict) -> bool:
    return str(span["attributes"].get("db.statement", "")).lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))


def names_subject(span: dict, subject: str) -> bool:
    return subject in span["name"] or subject in {span["attributes"].get("messaging.destination.name"),
                                                   span["attributes"].get("messaging.destination_publish.name")}


async def book_an_appointment(system, client) -> None:
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    pro = await sign_in(system, client, "pro@demo.carnet.test")
    for _ in range(50):  # the notebook learns of the demo's professionals through directory's events
        member = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(pro),
                                   json={"as_referent": False})
        if member.status_code != 404:
            break
        await asyncio.sleep(0.1)
    assert member.status_code == 200, member.text
    at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    booked = await client.post(f"/api/v1/notebooks/{SOPHIE}/appointments", headers=bearer(pro),
                               json={"at": at.isoformat(), "status": "planned"})
    assert booked.status_code == 201, booked.text
    await system.mailbox(client, "+33612345678")  # notify consumed the event and sent the SMS


async def test_one_notebook_change_is_one_trace_through_every_hop(system):
    async with system.client() as client:
        await book_an_appointment(system, client)
    await asyncio.sleep(0.5)  # notify writes its delivery's spans once the SMS is sent

    spans = system.spans()
    [request] = [s for s in spans if s["service"] == "gateway" and s["kind"] == "SERVER"
                 and s["attributes"].get("http.route") == BOOK_ROUTE]
    assert request["attributes"].get("http.method", request["attributes"].get("http.request.method")) == "POST"
    assert request["attributes"].get("http.status_code", request["attributes"].get("http.response.status_code")) == 201
    assert SOPHIE not in str(request["attributes"])  # the route, never the path
    hops = Trace(spans, request["trace_id"])

    # The gateway asks notebook over NATS; notebook handles the request in the same trace.
    [handled, *_] = hops.find("notebook's RPC handler", lambda s: s["service"] == "notebook"
                              and s["kind"] in ("SERVER", "CONSUMER") and names_subject(s, BookAppointmentV1.subject))
    assert hops.descends(handled, request)

    # Its transaction writes the appointment and the outbox row, each a database span under the handler.
    notebook_writes = hops.find("notebook's writes", lambda s: s["service"] == "notebook" and s["kind"] == "CLIENT"
                                and s["attributes"].get("db.system") in ("sqlite", "postgresql") and writes(s))
    statements = " ".join(str(s["attributes"]["db.statement"]) for s in notebook_writes)
    assert "appointment" in statements and "outbox" in statements
    assert all(hops.descends(s, handled) for s in notebook_writes)

    # The relay publishes the row in a span of its own, child of the writing transaction's.
    [relayed] = hops.find("the relay's publish", lambda s: s["service"] == "notebook" and s["kind"] == "PRODUCER"
                          and s["attributes"].get("messaging.destination.name") == AppointmentBookedV1.subject
                          and "messaging.message.id" in s["attributes"])
    assert hops.descends(relayed, handled)

    # Notify consumes the event in that trace, under the relay's span, and its own writes follow.
    [consumed, *_] = hops.find("notify's consumer", lambda s: s["service"] == "notify" and s["kind"] == "CONSUMER"
                               and names_subject(s, AppointmentBookedV1.subject))
    assert hops.descends(consumed, relayed)
    notify_writes = hops.find("notify's writes", lambda s: s["service"] == "notify" and s["kind"] == "CLIENT"
                              and writes(s) and hops.descends(s, consumed))
    assert any("inbox" in str(s["attributes"]["db.statement"]) for s in notify_writes)


def scrape(process) -> str:
    base = getattr(process, "health_base_url", None) or process.health_url.rsplit("/", 1)[0]
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as answer:
        return answer.read().decode()


def sample(metrics: str, name: str, **labels: str) -> float:
    wanted = name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    for line in metrics.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_health_ports_serve_login_failures_rpc_latency_outbox_and_consumer_gauges_and_gateway_requests(system):
    async with system.client() as client:
        for _ in range(2):
            refused = await client.post("/api/v1/auth/token", json={"token": "not-a-link-we-sent"})
            assert refused.status_code == 401
        await book_an_appointment(system, client)

    identity = scrape(system.processes["identity"])
    assert sample(identity, "carnet_login_failures_total", method="link", reason="invalid_link") == 2
    notebook = scrape(system.processes["notebook"])
    assert sample(notebook, "carnet_rpc_seconds_count", subject=BookAppointmentV1.subject) == 1
    assert sample(notebook, "carnet_outbox_published_total", service="notebook") >= 1
    assert 'carnet_outbox_backlog{service="notebook"}' in notebook
    assert 'carnet_outbox_oldest_age_seconds{service="notebook"}' in notebook
    notify = scrape(system.processes["notify"])
    assert 'carnet_consumer_lag{consumer="' in notify  # read from each durable's consumer info
    assert "faststream_received_processed_messages_total{" in notify
    gateway = scrape(system.processes["gateway"])
    assert sample(gateway, "carnet_http_request_seconds_count", method="POST", route=BOOK_ROUTE, status="201") == 1
    assert sample(gateway, "carnet_http_request_seconds_count", method="POST", route="/api/v1/auth/token",
                  status="401") == 2
