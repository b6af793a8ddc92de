"""The gateway's error replies, without the bus: a bug answers 500 with the request id, a body that is not JSON or
not UTF-8 answers 400 in French, a bad field 422 naming it in French, and /metrics is not on the public app."""
from __future__ import annotations

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.main import create_app

pytestmark = pytest.mark.unit


@pytest.fixture
def app():
    app = create_app(GatewaySettings(env="test"))

    @app.get("/api/v1/probe-bug")
    async def bug():
        raise ZeroDivisionError("a bug")

    return app


async def answer(app, method: str, path: str, **kwargs) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # lifespan (NATS) not started
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.request(method, path, **kwargs)


async def test_a_bug_answers_500_with_the_request_id(app):
    reply = await answer(app, "GET", "/api/v1/probe-bug", headers={"X-Request-Id": "req-7"})
    assert reply.status_code == 500 and reply.headers["X-Request-Id"] == "req-7"
    assert reply.json()["code"] == "internal" and reply.json()["details"] == {"request_id": "req-7"}
    assert "req-7" in reply.json()["message"]


@pytest.mark.parametrize("content", [b"{not json", b'{"email": "\xff\xfe"}'])
async def test_a_body_that_is_not_json_or_not_utf8_answers_400_in_french(app, content):
    reply = await answer(app, "POST", "/api/v1/auth/magic-link", content=content,
                         headers={"Content-Type": "application/json"})
    assert reply.status_code == 400
    assert reply.json()["message"] == "Le corps de la demande n'est pas du JSON valide encodé en UTF-8."


async def test_a_bad_field_answers_422_naming_it_in_french(app):
    reply = await answer(app, "POST", "/api/v1/auth/magic-link", json={"email": "a\x00@b.fr"})
    assert reply.status_code == 422
    assert reply.json()["message"] == "L'adresse e-mail contient des caractères de contrôle."
    reply = await answer(app, "POST", "/api/v1/auth/magic-link", json={})
    assert reply.status_code == 422 and reply.json()["message"] == "L'adresse e-mail est obligatoire."


async def test_metrics_are_not_on_the_public_app(app):
    assert (await answer(app, "GET", "/metrics")).status_code == 404
    assert "/metrics" not in {getattr(route, "path", "") for route in app.routes}


async def test_a_page_with_a_bad_parameter_shows_the_french_message_on_an_html_page(app):
    reply = await answer(app, "GET", "/carnets/pas-un-identifiant")
    assert reply.status_code == 422 and reply.headers["content-type"].startswith("text/html")
    assert "Le carnet n&#39;est pas un identifiant valide." in reply.text


async def test_an_address_no_page_answers_shows_a_french_page_but_the_api_keeps_json(app):
    reply = await answer(app, "GET", "/page-qui-n-existe-pas")
    assert reply.status_code == 404 and reply.headers["content-type"].startswith("text/html")
    assert '<html lang="fr"' in reply.text and "Cette page n&#39;existe pas ou plus." in reply.text
    reply = await answer(app, "GET", "/api/v1/nulle-part")
    assert reply.status_code == 404 and reply.headers["content-type"].startswith("application/json")
