"""Pages print what people typed as text, never as markup: a search word echoed back, and a name from an
anonymous sign-up request shown to the manager, on real NATS and both databases."""
from __future__ import annotations

import pytest
from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_TERRITORY

from testkit.system import bearer, sign_in

pytestmark = pytest.mark.e2e

SEARCH = '"><b id=injected>x</b>'
REDIRECT = "<meta http-equiv=refresh content='0;url=https://evil.example'>"


def assert_escaped(page: str, hostile: str) -> None:
    escaped = hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert "<b id=injected" not in page and "<meta http-equiv" not in page
    assert escaped.replace('"', "&#34;").replace("'", "&#39;") in page


async def test_a_search_word_and_a_sign_up_name_come_back_as_text(system):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    async with system.client() as client:
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        manager = await sign_in(system, client, "manager@demo.carnet.test")  # before the request's email to them
        found = await client.get("/beneficiaires", params={"q": SEARCH}, headers=bearer(pro))
        assert found.status_code == 200, found.text
        assert_escaped(found.text, SEARCH)

        body = {"email": "pirate@asso.fr", "firstname": "Pia", "lastname": REDIRECT, "phone": "",
                "position": "CIP", "deployment_id": str(DEMO_DEPLOYMENTS[0].deployment_id),
                "structure_name": SEARCH}
        asked = await client.post("/api/v1/auth/signup-requests", json=body)
        assert asked.status_code == 202, asked.text
        accounts = await client.get("/comptes", params={"statut": "pending"}, headers=bearer(manager))
        assert accounts.status_code == 200 and "Pia" in accounts.text
        assert_escaped(accounts.text, REDIRECT)
        assert_escaped(accounts.text, SEARCH)  # the structure asked for
