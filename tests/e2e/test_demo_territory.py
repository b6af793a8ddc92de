"""The demo `make run` seeds, on real NATS and both databases, through `carnet seed`'s own code: a lived-in territory
(three structures, twelve professionals, the four named demo people and 300 beneficiaries at every stage) within
the budget of 10 s, once (seeding again adds nothing); the manager finds them all, Pierre his portfolio, and a
followed notebook's page opens with its summary band."""
from __future__ import annotations

import time

import pytest
from carnet.demo import DEMO_FOLLOWED_BENEFICIARY, DEMO_POPULATION, DEMO_TEAM_ACCOUNTS
from carnet.main import _seed

from testkit.system import bearer, sign_in
from tests.e2e.test_notebook import until

pytestmark = pytest.mark.e2e

SEED_BUDGET_S = 10
EVERYONE = DEMO_POPULATION.population.size + 4  # and Sophie, Myrna, Lindsay, Étienne


async def test_make_run_seeds_a_lived_in_territory_within_its_budget_and_once(system):
    started = time.monotonic()
    await _seed(system.nats_url)
    elapsed = time.monotonic() - started
    assert elapsed < SEED_BUDGET_S, f"the demo took {elapsed:.1f} s to seed"

    async with system.client() as client:
        manager = bearer(await sign_in(system, client, "manager@demo.carnet.test"))

        async def everyone():
            answer = (await client.get("/api/v1/notebooks", params={"limit": 100}, headers=manager)).json()
            return answer if answer["total"] == EVERYONE else None

        listed = await until(everyone)
        for support, at_least in (("accompanied", 150), ("waiting", 10), ("not_accompanied", 5),
                                  ("reorientation", 3)):
            answer = (await client.get("/api/v1/notebooks", params={"support": support}, headers=manager)).json()
            assert answer["total"] >= at_least, (support, answer["total"])
        followed = next(row for row in listed["notebooks"] if row["referent_name"])
        page = await client.get(f"/carnets/{followed['notebook_id']}", headers=manager)
        assert page.status_code == 200
        assert 'data-summary="referent"' in page.text and followed["referent_name"].split()[0] in page.text
        assert 'aria-label="Sections du carnet"' in page.text

    async with system.client() as client:
        pierre = bearer(await sign_in(system, client, "pro@demo.carnet.test"))
        mine = (await client.get("/api/v1/notebooks", params={"mine": "true"}, headers=pierre)).json()
        assert mine["total"] > 5  # a portfolio to work on

    async with system.client() as client:  # one of the ten other professionals logs in too
        other = bearer(await sign_in(system, client, DEMO_TEAM_ACCOUNTS[-1].email))
        assert (await client.get("/api/v1/notebooks", params={"mine": "true"}, headers=other)).json()["total"] > 5

    await _seed(system.nats_url)  # again, as every `make run` does: nothing added
    async with system.client() as client:
        manager = bearer(await sign_in(system, client, "manager@demo.carnet.test", count=2))
        again = (await client.get("/api/v1/notebooks", headers=manager)).json()
        assert again["total"] == EVERYONE


async def test_a_second_demo_beneficiary_logs_in_to_a_notebook_followed_with_a_cer_running(system):
    """Sophie's notebook is empty (the browser tests start from her); ``beneficiaire2@…``, one of the 300, finds
    his lived in: a référent, a CER running, an appointment to come, a message shared with him — named as the
    README says."""
    await _seed(system.nats_url)
    async with system.client() as client:
        first = bearer(await sign_in(system, client, DEMO_FOLLOWED_BENEFICIARY.email))

        async def linked():  # identity links her account to her notebook when the notebook's event arrives
            return (await client.get("/api/v1/me", headers=first)).json().get("profile_id")

        await until(linked)
        her = bearer(await sign_in(system, client, DEMO_FOLLOWED_BENEFICIARY.email, count=2))  # a token naming it
        notebook = (await client.get("/api/v1/me/notebook", headers=her)).json()
        beneficiary = notebook["beneficiary"]
        assert (beneficiary["firstname"], beneficiary["lastname"]) == (
            DEMO_FOLLOWED_BENEFICIARY.firstname, DEMO_FOLLOWED_BENEFICIARY.lastname)
        [referent] = [m["person"] for m in notebook["members"] if m["member_type"] == "referent" and not m["ended_at"]]
        assert [a for a in notebook["appointments"] if a["status"] == "planned"]
        contracts = (await client.get("/api/v1/me/notebook/contracts", headers=her)).json()
        assert [c for c in contracts["contracts"] if c["status"] == "signed" and c["active"]], contracts
        exchanges = (await client.get("/api/v1/me/notebook/exchanges", headers=her)).json()
        assert exchanges["messages"], exchanges
        page = await client.get("/mon-carnet", headers=her)
        assert page.status_code == 200 and referent["lastname"] in page.text
