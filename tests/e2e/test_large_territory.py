"""A territory of more than a hundred professionals and structures (the annuaire answers a hundred at most), through
the gateway on real NATS and both databases. « Rattacher » on the list of beneficiaries offers the first hundred
professionals by name and says so; the others are found by name and can be chosen; a structure admin is offered her
structure's professionals, however many others the territory has. A person's page and the people's page offer every
structure: a person of the 101st keeps it when her page is saved, and can be invited into it."""
from __future__ import annotations

import re
import uuid

import pytest
from carnet.demo import DEMO_OTHER_STRUCTURE, DEMO_STRUCTURE, DEMO_TERRITORY
from contracts.directory import DemoPerson, DemoStructure, PersonFields, StructureFields
from testkit.system import bearer, csrf_of, sign_in
from tests.e2e.test_notebook import MYRNA, PRO1, PRO2, SOPHIE, seed_demo, until

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
        control = await client.get("/beneficiaires", params={"personne": "Zo\x00la"}, headers=bearer(manager))
        assert control.status_code == 422 and "caractères de contrôle" in control.text
        # Groupe NS's page lists its first hundred people and says so; the people's list finds Zola by name.
        structure = await client.get(f"/territoire/structures/{DEMO_OTHER_STRUCTURE}", headers=bearer(manager))
        assert ("Les 100 premières personnes de la structure par ordre alphabétique sont affichées : cherchez les "
                'autres par leur nom dans <a href="/territoire/personnes">la liste des personnes</a>.') in structure.text
        people = await client.get("/territoire/personnes", params={"q": "zola"}, headers=bearer(manager))
        assert f'href="/territoire/personnes/{ZOLA}"' in people.text

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


def structure_choice(html: str, structure_id) -> str:
    """The person form's input (or option) for ``structure_id``, or ""."""
    found = re.search(rf'<(?:input|option)[^>]*value="{structure_id}"[^>]*>', html)
    return found.group(0) if found else ""


async def test_every_structure_of_a_large_territory_is_offered_on_the_people_forms(system):
    await seed_demo(system)
    # 120 structures named before the demo's two (« Centre communal… », « Groupe NS »).
    crowd = [DemoStructure(structure_id=uuid.uuid4(), structure=StructureFields(
        name=f"Association Abc {n:03d}", postal_code="93140", city="Bondy")) for n in range(120)]
    await system.call(DEMO_TERRITORY.model_copy(update={"structures": crowd, "people": []}))

    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        h = bearer(manager)
        # Simon's page: his structure, the 122nd by name, is there and chosen, so saving his page keeps it.
        simon = await client.get(f"/territoire/personnes/{PRO2}", headers=h)
        assert simon.status_code == 200, simon.text
        assert "checked" in structure_choice(simon.text, DEMO_OTHER_STRUCTURE)
        seen = (await client.get(f"/api/v1/people/{PRO2}", headers=h)).json()
        saved = await client.post(f"/territoire/personnes/{PRO2}", headers=h, data={
            "csrf": csrf_of(client), "version": str(seen["version"]), "firstname": "Simon", "lastname": "Anka",
            "email": seen["email"], "phone": "06 12 34 56 78", "structure_ids": str(DEMO_OTHER_STRUCTURE),
            "orientation_system_ids": [s["orientation_system_id"] for s in seen["orientation_systems"]]})
        assert saved.status_code == 200 and "Les modifications sont enregistrées." in saved.text
        assert "checked" in structure_choice(saved.text, DEMO_OTHER_STRUCTURE)
        after = (await client.get(f"/api/v1/people/{PRO2}", headers=h)).json()
        assert [s["structure_id"] for s in after["structures"]] == [str(DEMO_OTHER_STRUCTURE)]
        # The people's page invites into any of the 122.
        people = await client.get("/territoire/personnes", headers=h)
        assert structure_choice(people.text, DEMO_OTHER_STRUCTURE)
        assert structure_choice(people.text, crowd[0].structure_id)

        # The lists show the first hundred and say so.
        listed = await client.get("/territoire/structures", headers=h)
        assert "122 structures." in listed.text
        assert "Les 100 premières par ordre alphabétique sont affichées" in listed.text
        annuaire = await client.get("/annuaire", headers=h)
        assert "Structures (122)" in annuaire.text and "Les 50 premières par ordre alphabétique" in annuaire.text

        # The structure admin of the CCAS, « Centre communal… », the 121st: Pierre's page offers it, chosen.
        admin = await sign_in(system, client, "structure@demo.carnet.test")
        pierre = await client.get(f"/territoire/personnes/{PRO1}", headers=bearer(admin))
        assert pierre.status_code == 200, pierre.text
        assert "checked" in structure_choice(pierre.text, DEMO_STRUCTURE)
