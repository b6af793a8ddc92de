"""The gateway serves the bus's AsyncAPI document as is, and a page of it that needs nothing from elsewhere
(without the bus: the routes read the committed file)."""
from __future__ import annotations

import json
import re

import httpx
import pytest

from gateway.api.asyncapi import DOCUMENT
from gateway.config import GatewaySettings
from gateway.main import create_app

pytestmark = pytest.mark.unit


async def get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(GatewaySettings(env="test")))  # lifespan (NATS) not started
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.get(path)


async def test_the_json_document_is_the_committed_one():
    reply = await get("/api/asyncapi.json")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    assert reply.json() == json.loads(DOCUMENT.read_text(encoding="utf-8"))
    assert reply.json()["channels"]["rpc.identity.request_login_link.v1"]


def section(page: str, anchor: str) -> str:
    start = page.index(f'<article id="{anchor}">')
    return page[start:page.index("</article>", start)]


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_the_page_lists_events_and_requests_by_service_with_their_fields():
    reply = await get("/api/asyncapi")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
    page = reply.text
    for heading in ("Service notebook", "Événements", "Requêtes (RPC)", "Charge utile", "Réponse"):
        assert heading in page
    event = text(section(page, "notebook.appointment.booked.v1"))
    assert "Charge utile : AppointmentBookedV1" in event and "Publication : notebook" in event
    assert "notify-appointments-booked (notify)" in event  # a durable that consumes it
    assert "appointment_id string (uuid) oui" in event and "beneficiary_channels array[ Channel ] non" in event
    rpc = text(section(page, "rpc.identity.request_login_link.v1"))
    assert "Requête-réponse" in rpc and "email string oui" in rpc and "Réponse : AcceptedReply" in rpc
    assert '<a href="#type-Channel">Channel</a>' in section(page, "notebook.appointment.booked.v1")
    assert 'id="type-Channel"' in page and 'id="type-ErrorEnvelope"' in page
    assert "interne" in text(section(page, "secret.identity.login_link.issued.v1"))


async def test_the_page_loads_nothing_from_elsewhere():
    page = (await get("/api/asyncapi")).text
    links = re.findall(r'(?:src|href)\s*=\s*["\']?([^"\'\s>]*)', page, flags=re.IGNORECASE)
    assert links and all(link.startswith(("/", "#")) and not link.startswith("//") for link in links), links
    assert "http" not in " ".join(links)
    # The only scripts are the site's own files (the vendored htmx, tables.js): nothing inline, nothing from elsewhere.
    assert re.findall(r"<script[^>]*>", page, flags=re.IGNORECASE) == [
        '<script src="/static/vendor/htmx-2.0.11.min.js" defer>', '<script src="/static/tables.js" defer>']
