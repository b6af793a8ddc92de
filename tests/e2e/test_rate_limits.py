"""Rate limits that stop a fuzzer without locking out everyone behind its address, and an address that only a
configured proxy may state in X-Forwarded-For."""
from __future__ import annotations

import uuid

import pytest

from contracts.identity import DemoAccount, Role
from testkit.system import bearer, link_token, sign_in

pytestmark = pytest.mark.e2e

D93 = "93000000-0000-4000-8000-000000000093"
PRO = DemoAccount(email="pro@demo.carnet.test", role=Role.professional, deployment_id=D93)
OTHER = DemoAccount(email="collegue@demo.carnet.test", role=Role.professional, deployment_id=D93)


async def test_a_fuzzer_asking_links_for_random_emails_does_not_lock_out_its_address(system):
    await system.seed(PRO)
    async with system.client() as fuzzer:
        for _ in range(40):  # more than the whole address was allowed before
            asked = await fuzzer.post("/api/v1/auth/magic-link", json={"email": f"{uuid.uuid4().hex}@exemple.fr"})
            assert asked.status_code == 202
    async with system.client() as colleague:  # the same address, another person
        pair = await colleague.post("/api/v1/auth/token", json={"token": await link_token(system, colleague, PRO.email)})
        assert pair.status_code == 200, pair.text


async def test_a_token_tried_again_and_again_is_limited_per_token_not_per_address(system):
    await system.seed(PRO)
    async with system.client() as client:
        tries = [(await client.post("/api/v1/auth/token", json={"token": "jeton-invente"})).status_code
                 for _ in range(6)]
        assert tries == [401] * 5 + [429]
        assert (await client.post("/api/v1/auth/token", json={"token": "autre-jeton"})).status_code == 401
        token = await link_token(system, client, PRO.email)
        spent = await client.post("/api/v1/auth/token", json={"token": token})
        assert spent.status_code == 200
        assert [(await client.post("/api/v1/auth/token", json={"token": token})).status_code
                for _ in range(6)] == [401] * 5 + [429]


async def login_ip(system, client, account: DemoAccount, forwarded_for: str) -> str:
    """Logs in with an X-Forwarded-For header; returns the address the login audit recorded for it."""
    await sign_in(system, client, account.email)  # CGU and onboarding done, the audit can be read
    token = await link_token(system, client, account.email)
    pair = (await client.post("/api/v1/auth/token", json={"token": token},
                              headers={"X-Forwarded-For": forwarded_for})).json()
    events = (await client.get("/api/v1/me/logins", headers=bearer(pair["access_token"]))).json()["events"]
    return next(e["ip"] for e in events if e["kind"] == "link_used")  # newest first


async def test_x_forwarded_for_is_ignored_when_the_peer_is_no_configured_proxy(system):
    await system.seed(PRO)
    async with system.client() as client:
        assert await login_ip(system, client, PRO, "203.0.113.7") == "127.0.0.1"


@pytest.mark.service_env(gateway={"GATEWAY_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
async def test_x_forwarded_for_names_the_client_behind_a_configured_proxy(system):
    await system.seed(PRO)
    async with system.client() as client:
        # The client wrote the leftmost hop itself; the proxies appended the rest: the last untrusted one counts.
        assert await login_ip(system, client, PRO, "198.51.100.1, 203.0.113.7, 10.1.2.3") == "203.0.113.7"
