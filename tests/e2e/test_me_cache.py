"""The MeReply the gateway holds per access token (issue 19, gateway.auth.me_cache) never outlives what identity says
on the bus: a session ended elsewhere is refused at the very next page even though the gateway held its reply, a
profile changed elsewhere shows on the next pages, and accepting the CGU takes effect at once. The changes are made
straight on the bus, not through the gateway (which would drop what it holds itself): only identity's events can
tell it. The gateway holds replies 60 s here (its most), longer than any wait below, so that only an event can
explain the change."""
from __future__ import annotations

import asyncio
import time

import pytest

from contracts.identity import (
    AcceptCguV1,
    CompleteOnboardingV1,
    DemoAccount,
    LogoutV1,
    ProfileFields,
    Role,
    UpdateMyProfileV1,
)
from servicekit.bus import client_bus
from testkit.system import open_link
from tests.e2e.test_session_end import DEPLOYMENTS, MANAGER, D93, page_session, signed_up  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.service_env(gateway={"GATEWAY_ME_CACHE_S": "60"})]

NEWCOMER = DemoAccount(email="nouvelle93@demo.carnet.test", role=Role.manager, deployment_id=D93,
                       firstname="Inès", lastname="Nouvelle")


async def test_a_session_ended_elsewhere_is_refused_at_once_though_its_reply_was_held(signed_up):
    system = signed_up
    async with system.client() as browser:
        access = await page_session(system, browser)
        for _ in range(2):  # the second page from what the gateway holds
            assert (await browser.get("/compte")).status_code == 200
        refresh = browser.cookies["carnet_refresh"]
    async with client_bus("test", system.nats_url) as bus:
        await bus.call(LogoutV1(refresh_token=refresh))  # answered once identity's event is on the bus
    async with system.client() as thief:
        thief.cookies.set("carnet_session", access)
        page = await thief.get("/compte")
        # Refused by identity's GetMeV1 itself (the session is forgotten), not by a later RPC of the page.
        assert page.status_code == 401 and "Deblouze" not in page.text, page.text[:300]
        assert any(c.startswith("carnet_session=") for c in page.headers.get_list("set-cookie"))


async def test_a_profile_changed_elsewhere_shows_on_the_next_pages(signed_up):
    system = signed_up
    async with system.client() as browser:
        access = await page_session(system, browser)
        assert "Deblouze" in (await browser.get("/compte")).text
        async with client_bus("test", system.nats_url) as bus:
            await bus.call(UpdateMyProfileV1(profile=ProfileFields(firstname="Agathe", lastname="Renommée")),
                           headers={"Authorization": f"Bearer {access}"})

        # Identity's event, not the end of the 60 s the gateway would otherwise hold the reply.
        deadline = time.monotonic() + 30
        while "Renommée" not in (await browser.get("/compte")).text:
            assert time.monotonic() < deadline, "the gateway still shows the name it held"
            await asyncio.sleep(0.1)


async def test_accepting_the_cgu_takes_effect_at_once(system):
    """No event says the CGU were accepted: a reply asking for them is never held. Accepted from another device,
    straight on the bus: this browser keeps its access token, whose earlier replies asked for the CGU, then for
    onboarding."""
    await system.seed(NEWCOMER, deployments=DEPLOYMENTS)
    async with system.client() as browser:
        await page_session_of(system, browser, NEWCOMER.email)
        access = browser.cookies["carnet_session"]
        for _ in range(2):
            assert (await browser.get("/")).headers["location"] == "/cgu"
        me = (await browser.get("/api/v1/me")).json()
        caller = {"Authorization": f"Bearer {access}"}
        async with client_bus("test", system.nats_url) as bus:
            await bus.call(AcceptCguV1(version=me["cgu_version"]), headers=caller)
            assert (await browser.get("/")).headers["location"] == "/bienvenue"
            await bus.call(CompleteOnboardingV1(profile=ProfileFields(firstname="Inès", lastname="Nouvelle")),
                           headers=caller)
        assert browser.cookies["carnet_session"] == access
        # The home page asks nothing of the services (whose checks read the steps in the token's claims until it
        # is renewed): only the gateway's view of her, which must have nothing left to do.
        assert (await browser.get("/")).status_code == 200


async def page_session_of(system, client, email: str) -> None:
    """Logs in by link as a browser does (the CGU and onboarding still to do)."""
    before = len((await client.get("/api/v1/dev/mailbox", params={"to": email})).json())
    await client.post("/api/v1/auth/magic-link", json={"email": email})
    [message, *_] = await system.mailbox(client, email, before + 1)
    assert (await open_link(client, message["links"][0])).status_code == 303
