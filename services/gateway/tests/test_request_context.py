"""Every answer of the gateway carries its request's id and the security headers (``gateway.main.RequestContext``),
whatever answered: a page, the API, a refusal; the API's documentation its own CSP; HSTS behind HTTPS only. Without
the bus (its lifespan not started): the pages that need no service."""
from __future__ import annotations

import uuid

import pytest

from gateway.config import GatewaySettings
from gateway.main import DOCS_CSP, SECURITY_HEADERS, create_app
from services.gateway.tests.test_error_replies import answer

pytestmark = pytest.mark.unit


@pytest.fixture
def app():
    return create_app(GatewaySettings(env="test"))


@pytest.mark.parametrize("path", ["/nulle-part", "/carnets/pas-un-identifiant", "/api/openapi.json", "/api/v1/nowhere"])
async def test_every_answer_carries_the_security_headers_and_a_request_id(app, path):
    reply = await answer(app, "GET", path)
    for name, value in SECURITY_HEADERS.items():
        assert reply.headers[name] == value, name
    assert uuid.UUID(reply.headers["X-Request-Id"])  # made when the caller gave none
    assert "Strict-Transport-Security" not in reply.headers  # served over plain HTTP (tests, make run)


async def test_a_given_request_id_comes_back_cut_to_100_characters(app):
    reply = await answer(app, "GET", "/nulle-part", headers={"X-Request-Id": "r" * 300})
    assert reply.headers["X-Request-Id"] == "r" * 100


async def test_the_api_documentation_has_its_own_csp_and_https_adds_hsts():
    app = create_app(GatewaySettings(env="test", public_url="https://carnet.example.fr"))
    docs, page = await answer(app, "GET", "/api/docs"), await answer(app, "GET", "/nulle-part")
    assert docs.status_code == 200 and docs.headers["Content-Security-Policy"] == DOCS_CSP
    assert page.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
