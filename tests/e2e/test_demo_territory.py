"""The demo `make run` seeds, on real NATS and both databases, through `carnet seed`'s own code: a lived-in territory
(three structures, twelve professionals, the four named demo people and 300 beneficiaries at every stage) within
the budget of 10 s, once (seeding again adds nothing); the manager finds them all, Pierre his portfolio, and a
followed notebook's page opens with its summary band."""
from __future__ import annotations

import time

import pytest
from carnet.demo import DEMO_POPULATION, DEMO_TEAM_ACCOUNTS
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
