"""The first slice through the real bus: magic link → email in the dev mailbox → session → /api/v1/me."""
from __future__ import annotations

import time
from html import unescape

import pytest

from contracts.identity import DemoAccount, Role
from testkit.system import csrf_of, open_link, token_of

pytestmark = pytest.mark.e2e

PRO = DemoAccount(email="pro@demo.carnet.test", role=Role.professional,
                  deployment_id="93000000-0000-4000-8000-000000000093")


async def test_a_professional_logs_in_from_the_emailed_link_and_sees_who_they_are(system):
    await system.seed(PRO)
    async with system.client() as client:
        asked = await client.post("/api/v1/auth/magic-link", json={"email": "Pro@Demo.Carnet.test "})
        assert asked.status_code == 202
        [email] = await system.mailbox(client, PRO.email)
        assert email["subject"] == "Votre lien de connexion à Carnet de bord"
        assert "expire dans 15 minutes" in email["text"]
        assert email["links"][0].startswith(f"{system.base_url}/auth/magic/")

        landing = await open_link(client, email["links"][0])
        assert landing.status_code == 303 and landing.headers["location"] == "/"
        session_cookie = next(c for c in landing.headers.get_list("set-cookie") if c.startswith("carnet_session="))
        assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie

        me = await client.get("/api/v1/me")  # the client now carries the session cookie
        assert me.status_code == 200
        assert me.json()["email"] == PRO.email
        assert me.json()["role"] == "professional"
        assert me.json()["deployment_id"] == "93000000-0000-4000-8000-000000000093"

        assert me.json()["pending_steps"] == ["cgu", "onboarding"]
        home = await client.get("/")
        assert home.status_code == 303 and home.headers["location"] == "/cgu"

        client.cookies.clear()
        reused = await open_link(client, email["links"][0])
        assert reused.status_code == 401
        assert "n'est plus valide" in unescape(reused.text)  # pages escape the apostrophe

    # One trace follows the request from the gateway through identity to notify's consumer.
    spans = system.spans()
    request_span = next(s for s in spans if s["service"] == "gateway" and s["name"] == "POST /api/v1/auth/magic-link")
    services_in_trace = {s["service"] for s in spans if s["trace_id"] == request_span["trace_id"]}
    assert {"gateway", "identity", "notify"} <= services_in_trace


async def test_api_clients_exchange_the_token_and_refresh_rotates_with_replay_detection(system):
    await system.seed(PRO)
    async with system.client() as client:
        await client.post("/api/v1/auth/magic-link", json={"email": PRO.email})
        [email] = await system.mailbox(client, PRO.email)
        pair = (await client.post("/api/v1/auth/token", json={"token": token_of(email)})).json()
        assert set(pair) >= {"access_token", "refresh_token"}

        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
        assert me.status_code == 200 and me.json()["role"] == "professional"

        again = await client.post("/api/v1/auth/token", json={"token": token_of(email)})
        assert again.status_code == 401
        assert again.json()["code"] == "unauthenticated"
        assert "n'est plus valide" in again.json()["message"]

        rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert rotated.status_code == 200
        replayed = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert replayed.status_code == 401
        # The replay revoked the whole family: the token obtained by the rotation is dead too.
        stolen = await client.post("/api/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]})
        assert stolen.status_code == 401

        forged = await client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.token"})
        assert forged.status_code == 401


async def test_unknown_emails_get_the_same_answer_and_requests_are_rate_limited(system):
    await system.seed(PRO)
    async with system.client() as client:
        known = await client.post("/api/v1/auth/magic-link", json={"email": PRO.email})
        unknown = await client.post("/api/v1/auth/magic-link", json={"email": "inconnu@exemple.fr"})
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
        assert unknown.status_code == 202

        statuses = [
            (await client.post("/api/v1/auth/magic-link", json={"email": "inconnu@exemple.fr"})).status_code
            for _ in range(5)
        ]
        assert statuses[:4] == [202] * 4
        assert statuses[4] == 429
        limited = await client.post("/api/v1/auth/magic-link", json={"email": "inconnu@exemple.fr"})
        assert "Trop de tentatives" in limited.json()["message"]

        invalid = await client.post("/api/v1/auth/magic-link", json={"email": "pas-une-adresse"})
        assert invalid.status_code == 422 and "n'est pas valide" in invalid.json()["message"]
        malformed = await client.post("/api/v1/auth/magic-link", content=b"{oops", headers={"content-type": "application/json"})
        assert malformed.status_code == 400 and "JSON" in malformed.json()["message"]  # not a retryable 5xx, not 422

        assert (await system.mailbox(client, PRO.email))  # the known address got its link
        assert (await client.get("/api/v1/dev/mailbox", params={"to": "inconnu@exemple.fr"})).json() == []


async def test_a_stopped_service_answers_504_within_the_rpc_timeout(system):
    system.processes["identity"].stop()
    async with system.client() as client:
        started = time.monotonic()
        answer = await client.post("/api/v1/auth/magic-link", json={"email": PRO.email})
        elapsed = time.monotonic() - started
    assert answer.status_code == 504
    assert answer.json()["code"] == "timeout"
    assert "ne répond pas" in answer.json()["message"]
    assert elapsed < 2 + 1.5  # CARNET_RPC_TIMEOUT_S=2 plus the HTTP round trip


async def test_pages_and_openapi_are_served_in_french_with_security_headers(system):
    async with system.client() as client:
        login = await client.get("/connexion")
        assert login.status_code == 200
        assert '<html lang="fr">' in login.text and "Recevoir mon lien de connexion" in login.text
        assert "default-src 'self'" in login.headers["content-security-policy"]
        assert login.headers["x-frame-options"] == "DENY"
        assert (await client.get("/api/openapi.json")).json()["paths"]["/api/v1/me"]
        assert (await client.get("/api/docs")).status_code == 200
        assert (await client.get("/")).headers["location"] == "/connexion"

        assert csrf_of(client)
        no_csrf = await client.post("/connexion", data={"email": PRO.email})
        templates = await client.get("/dev/modeles")
        assert templates.status_code == 200 and "Votre compte Carnet de bord a été créé" in templates.text
        html = await client.get("/dev/modeles/invitation.html")
        assert html.status_code == 200 and "Activer mon compte" in html.text
        assert html.headers["content-security-policy"].startswith("default-src 'none'")
        assert no_csrf.status_code == 403 and "Le formulaire a expiré" in no_csrf.text
