"""Ending a session ends its access token at once, at every service: logout (API and page), "Fermer cette
session" on "Mon compte", and a replayed refresh token. The notebook service hears of it only through
``identity.sessions.revoked.v1``: the old token is refused there at the very next call, by bearer and by cookie."""
from __future__ import annotations

import uuid

import httpx
import pytest

from contracts.identity import DemoAccount, DeploymentChoice, Role
from testkit.system import bearer, csrf_of, link_token, open_link, sign_in

pytestmark = pytest.mark.e2e

D93 = uuid.UUID("93000000-0000-4000-8000-000000000093")
MANAGER = DemoAccount(email="manager93@demo.carnet.test", role=Role.manager, deployment_id=D93,
                      firstname="Agathe", lastname="Deblouze")
DEPLOYMENTS = [DeploymentChoice(deployment_id=D93, label="Démo 93", department_code="93")]


async def token_pair(system, client: httpx.AsyncClient) -> dict:
    pair = (await client.post("/api/v1/auth/token", json={"token": await link_token(system, client, MANAGER.email)})).json()
    assert (await client.get("/api/v1/notebooks", headers=bearer(pair["access_token"]))).status_code == 200
    return pair


async def page_session(system, client: httpx.AsyncClient) -> str:
    """Logs in by link as a browser does; returns the access cookie it got."""
    before = len((await client.get("/api/v1/dev/mailbox", params={"to": MANAGER.email})).json())
    await client.post("/api/v1/auth/magic-link", json={"email": MANAGER.email})
    [message, *_] = await system.mailbox(client, MANAGER.email, before + 1)
    assert (await open_link(client, message["links"][0])).status_code == 303
    assert (await client.get("/api/v1/notebooks")).status_code == 200
    return client.cookies["carnet_session"]


async def assert_refused(system, access_token: str) -> None:
    """The very next calls with the old access token: bearer on the API, the cookie on the API and a page."""
    async with system.client() as thief:
        answer = await thief.get("/api/v1/notebooks", headers=bearer(access_token))
        assert answer.status_code == 401, answer.text
        thief.cookies.set("carnet_session", access_token)
        answer = await thief.get("/api/v1/notebooks")
        assert answer.status_code == 401, answer.text
        page = await thief.get("/beneficiaires")
        assert page.status_code != 200 and "Pierre" not in page.text


@pytest.fixture
async def signed_up(system):
    """The manager's CGU and onboarding done, so that every later session reaches the notebooks at once."""
    await system.seed(MANAGER, deployments=DEPLOYMENTS)
    async with system.client() as client:
        await sign_in(system, client, MANAGER.email)
    return system


async def test_logout_through_the_api_ends_the_access_token(signed_up):
    system = signed_up
    async with system.client() as client:
        pair = await token_pair(system, client)
        assert (await client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})).status_code == 200
    await assert_refused(system, pair["access_token"])


async def test_logout_from_the_page_ends_the_cookie_session(signed_up):
    system = signed_up
    async with system.client() as browser:
        access = await page_session(system, browser)
        assert (await browser.post("/deconnexion", data={"csrf": csrf_of(browser)})).status_code == 303
    await assert_refused(system, access)


async def test_closing_a_session_from_my_account_ends_its_access_token(signed_up):
    system = signed_up
    async with system.client() as laptop, system.client() as phone:
        await page_session(system, laptop)
        phone_access = await page_session(system, phone)
        sessions = (await laptop.get("/api/v1/me/sessions")).json()["sessions"]
        other = next(s for s in sessions if not s["current"])
        closed = await laptop.post(f"/compte/sessions/{other['session_id']}/revoquer", data={"csrf": csrf_of(laptop)})
        assert closed.status_code == 303
        await assert_refused(system, phone_access)
        assert (await laptop.get("/api/v1/notebooks")).status_code == 200  # the laptop's own session lives on


async def test_a_replayed_refresh_token_ends_the_access_tokens_of_its_session(signed_up):
    system = signed_up
    async with system.client() as client:
        pair = await token_pair(system, client)
        rotated = (await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})).json()
        replayed = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert replayed.status_code == 401
    # The thief's and the owner's access tokens alike: the session is over.
    await assert_refused(system, rotated["access_token"])
    await assert_refused(system, pair["access_token"])
