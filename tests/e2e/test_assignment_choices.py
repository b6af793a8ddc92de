"""« Rattacher » on the list of beneficiaries in a territory of more than a hundred professionals, through the gateway
on real NATS and both databases: the list offers the first hundred by name and says so; the others are found by
name and can be chosen; a structure admin is offered her structure's professionals, however many others the
territory has."""
from __future__ import annotations

import re
import uuid

import pytest
from carnet.demo import DEMO_OTHER_STRUCTURE, DEMO_TERRITORY
from contracts.directory import DemoPerson, PersonFields
from testkit.system import bearer, csrf_of, sign_in
from tests.e2e.test_notebook import MYRNA, PRO1, SOPHIE, seed_demo, until

pytestmark = pytest.mark.e2e

ZOLA = uuid.uuid4()


def referent_choices(html: str) -> list[str]:
    [select] = re.findall(r'<select id="referent_id".*?</select>', html, re.S)
    return re.findall(r'<option value="([^"]+)"', select)


async def test_rattacher_finds_every_professional_of_a_large_territory(system):
    await seed_demo(system)
    # 120 professionals of Groupe NS named before the demo's own, and one named after all of them.
    crowd = [DemoPerson(person_id=uuid.uuid4(), role="professional", structure_ids=[DEMO_OTHER_STRUCTURE],
                        person=PersonFields(firstname=f"Prénom {n}", lastname=f"Abadie {n:03d}",
                                            email=f"abadie{n}@groupe-ns.fr")) for n in range(120)]
    zola = DemoPerson(person_id=ZOLA, role="professional", structure_ids=[DEMO_OTHER_STRUCTURE],
                      person=PersonFields(firstname="Émile", lastname="Zola", email="emile.zola@groupe-ns.fr"))
    await system.call(DEMO_TERRITORY.model_copy(update={"people": [*crowd, zola]}))

    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        listed = await client.get("/beneficiaires", headers=bearer(manager))
        assert listed.status_code == 200, listed.text
        offered = referent_choices(listed.text)
        assert len(offered) == 100 and str(ZOLA) not in offered
        assert "Seules les 100 premières personnes par ordre alphabétique sont proposées" in listed.text
        assert '<form id="find-person" method="get" action="/beneficiaires">' in listed.text

        # Found by name, without accents or case; the list's own search kept.
        found = await client.get("/beneficiaires", params={"personne": "emile ZOLA", "mine": "0"},
                                 headers=bearer(manager))
        assert referent_choices(found.text) == [str(ZOLA)]
        assert "Personnes correspondant à « emile ZOLA »" in found.text
        assert '<input type="hidden" name="mine" value="0">' in found.text
        assert 'href="/beneficiaires?mine=0">Revoir toutes les personnes</a>' in found.text
        nobody = await client.get("/beneficiaires", params={"personne": "<personne>"}, headers=bearer(manager))
        assert "Aucune personne ne correspond à « &lt;personne&gt; »." in nobody.text
        assert "<personne>" not in nobody.text

        # Chosen: Zola becomes Myrna's référent (once the notebook has heard of him from the annuaire).
        async def assigned():
            answer = await client.post("/beneficiaires/rattachement", headers=bearer(manager), data={
                "csrf": csrf_of(client), "notebook_ids": [MYRNA], "referent_id": str(ZOLA), "assign": "referent"})
            return answer if answer.status_code == 303 else None
        assert (await until(assigned)).headers["location"].endswith("notice=referent")
        page = (await client.get(f"/api/v1/notebooks/{MYRNA}", headers=bearer(manager))).json()
        assert {m["person"]["person_id"] for m in page["members"]
                if m["ended_at"] is None and m["member_type"] == "referent"} == {str(ZOLA)}

        # The structure admin of the CCAS (whose list shows Sophie once Pierre of the CCAS is her référent): her
        # professional, though 122 of Groupe NS come first by name.
        await client.post("/beneficiaires/rattachement", headers=bearer(manager), data={
            "csrf": csrf_of(client), "notebook_ids": [SOPHIE], "referent_id": PRO1, "assign": "referent"})
        admin = await sign_in(system, client, "structure@demo.carnet.test")
        hers = await client.get("/beneficiaires", headers=bearer(admin))
        assert hers.status_code == 200, hers.text
        assert referent_choices(hers.text) == [PRO1]
        assert "premières personnes" not in hers.text
