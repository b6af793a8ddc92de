"""The notebook's history says what changed, from what to what, in French and as text (issue 20 item 9):
on real NATS and both databases, through the gateway's pages."""
from __future__ import annotations

import pytest
from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY

from testkit.system import bearer, sign_in

pytestmark = pytest.mark.e2e

SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)
HOSTILE_CITY = "<b id=injected>Livry</b>"


async def test_the_history_shows_old_and_new_values_escaped(system):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    async with system.client() as client:
        me = await sign_in(system, client, "beneficiaire@demo.carnet.test")
        mine = (await client.get("/api/v1/me/notebook", headers=bearer(me))).json()
        before_city = mine["beneficiary"]["city"]
        fields = {**mine["beneficiary"], "mobile_number": "07 81 22 33 44", "city": HOSTILE_CITY}
        fixed = await client.put(f"/api/v1/notebooks/{SOPHIE}/beneficiary", headers=bearer(me),
                                 json={"version": mine["beneficiary"]["version"], "beneficiary": fields})
        assert fixed.status_code == 200, fixed.text

        page = await client.get("/mon-carnet", headers=bearer(me))
        assert page.status_code == 200, page.text
        assert "Informations personnelles mises à jour : ville, téléphone" in page.text
        assert "Téléphone : 06 12 34 56 78 → 07 81 22 33 44" in page.text
        assert "<b id=injected" not in page.text
        assert f"Ville : {before_city} → &lt;b id=injected&gt;Livry&lt;/b&gt;" in page.text
