"""The orientation systems each structure offers, held by the gateway for the « Orienter » form (issue 19): a
structure's edit reaches the form through the directory's event, not after the entry's five minutes. On the private
bus as deployed (test_partners_nats' system): the gateway's user may follow the structures' events; both databases."""
from __future__ import annotations

import pytest

from testkit.system import bearer, sign_in
from tests.e2e.test_notebook import SOPHIE, seed_demo, until
from tests.e2e.test_orientation_form import atelier_emploi, offered
from tests.e2e.test_partners_nats import private_system  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


async def test_a_dispositif_a_structure_stops_offering_leaves_the_form_held_by_the_gateway(private_system):
    system = private_system
    await seed_demo(system)
    async with system.client() as client:
        manager, co = (await sign_in(system, client, "manager@demo.carnet.test"),
                       await sign_in(system, client, "orientation@demo.carnet.test"))
        systems, atelier = await atelier_emploi(client, manager)

        async def form(system_name: str) -> dict[str, str]:
            page = (await client.get(f"/carnets/{SOPHIE}", params={"or_dispositif": systems[system_name]},
                                     headers=bearer(co))).text
            return offered(page, "or-structure")

        # Once the notebook knows the structure, the form offers it for « Professionnel » (and the gateway holds
        # the territory's structures from then on).
        await until(lambda: _offers(form, "Professionnel", "Atelier Emploi Bondy"))
        assert "Atelier Emploi Bondy" in await form("Professionnel")

        changed = await client.put(f"/api/v1/structures/{atelier['structure_id']}", headers=bearer(manager), json={
            "structure_id": atelier["structure_id"], "version": atelier["version"], "structure": {
                "name": "Atelier Emploi Bondy", "postal_code": "93140", "city": "Bondy",
                "orientation_system_ids": [systems["Socio-professionnel"]]}})
        assert changed.status_code == 200, changed.text

        # The directory's event drops what the gateway held: « Professionnel » no longer offers the structure, well
        # before the entry would have expired by itself (until gives up after 45 s, the entry lives 300).
        await until(lambda: _offers(form, "Professionnel", "Atelier Emploi Bondy", expected=False))
        assert "Atelier Emploi Bondy" in await form("Socio-professionnel")


async def _offers(form, system_name: str, structure: str, *, expected: bool = True) -> bool:
    return (structure in await form(system_name)) == expected
