"""« Orienter » and the reorientation requests to handle (issue 20 items 5 and 8), through the gateway's pages on real
NATS and both databases: the form offers only the structures that offer the chosen orientation system, then only
the professionals of the chosen structure who hold it; a refused choice comes back at an address that can be
reloaded, with the choices and the reason kept and the real cause named; the orientation manager's list of open
requests shows their territory's, oldest first, and not another territory's."""
from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from carnet.demo import DEMO_STRUCTURE, DEMO_TERRITORY
from sqlalchemy import insert

from contracts.directory import DemoPerson, PersonFields
from contracts.notebook import BeneficiaryFields, DemoBeneficiary, SeedDemoNotebooksV1
from notebook.adapters.orm import OrientationRequest
from servicekit.db import create_engine
from testkit.system import bearer, csrf_of, sign_in
from tests.e2e.test_notebook import MYRNA, SOPHIE, orientation_options, page_with_systems, seed_demo, until

pytestmark = pytest.mark.e2e

LINDSAY = "93000000-0000-4000-8000-0000000c0003"  # carnet.demo's third beneficiary


def offered(page: str, select_id: str) -> dict[str, str]:
    """The options a select offers (neither hidden nor the empty one): label → value."""
    select = re.search(rf'<select id="{select_id}".*?</select>', page, re.S).group(0)
    return {html.unescape(label): value for value, attributes, label in re.findall(
        r'<option value="([^"]*)"([^>]*)>([^<]*)</option>', select) if value and "hidden" not in attributes}


def selected(page: str, select_id: str) -> str:
    select = re.search(rf'<select id="{select_id}".*?</select>', page, re.S).group(0)
    return next((v for v, attributes in re.findall(r'<option value="([^"]*)"([^>]*)>', select)
                 if "selected" in attributes), "")


async def atelier_emploi(client, manager: str) -> tuple[dict[str, str], dict]:
    """The territory's orientation systems (name → id), and a new structure, « Atelier Emploi Bondy », offering
    « Professionnel » and « Socio-professionnel » but not « Social »: the created structure's reply."""
    systems = {s["name"]: s["orientation_system_id"] for s in (await client.get(
        "/api/v1/orientation-systems", headers=bearer(manager))).json()["orientation_systems"]}
    created = await client.post("/api/v1/structures", headers=bearer(manager), json={"structure": {
        "name": "Atelier Emploi Bondy", "postal_code": "93140", "city": "Bondy",
        "orientation_system_ids": [systems["Professionnel"], systems["Socio-professionnel"]]}})
    assert created.status_code == 201, created.text
    return systems, created.json()


async def test_the_orientation_form_filters_its_choices_and_names_the_cause_of_a_refusal(system):
    await seed_demo(system)
    async with system.client() as client:
        manager, co = (await sign_in(system, client, "manager@demo.carnet.test"),
                       await sign_in(system, client, "orientation@demo.carnet.test"))
        # A structure offering two of the three systems, and a professional there holding only one.
        systems, atelier = await atelier_emploi(client, manager)
        atelier = atelier["structure_id"]
        paul = (await client.post("/api/v1/people", headers=bearer(manager), json={
            "role": "professional", "structure_ids": [atelier], "orientation_system_ids": [systems["Professionnel"]],
            "person": {"firstname": "Paul", "lastname": "Sansocial", "email": "paul@atelier93.fr"}})).json()
        paul = paul["person_id"]

        await orientation_options(client, co, [atelier], [paul])

        # The page offers « Orienter » and nothing of the territory's choices until the form is opened.
        page = (await client.get(f"/carnets/{SOPHIE}", headers=bearer(co))).text
        assert f'href="/carnets/{SOPHIE}?orienter=1#orientation">Orienter</a>' in page
        assert 'id="or-structure"' not in page and "Sansocial" not in page
        # Opened, without a choice, no structure nor professional is offered yet; the orientation system comes first.
        page = (await client.get(f"/carnets/{SOPHIE}", params={"orienter": "1"}, headers=bearer(co))).text
        assert set(offered(page, "or-system")) == set(systems)
        assert offered(page, "or-structure") == {} and offered(page, "or-referent") == {}
        assert 'src="/static/orientation_form.js"' in page and "data-step" in page

        # « Social »: only the structures that offer it.
        page = (await client.get(f"/carnets/{SOPHIE}", params={"or_dispositif": systems["Social"]},
                                 headers=bearer(co))).text
        assert set(offered(page, "or-structure")) == {"Centre communal d'action sociale de Livry-Gargan", "Groupe NS"}
        assert offered(page, "or-referent") == {}

        # The step button (no JavaScript) posts and comes back to an address with the choices and the reason.
        step = await client.post(f"/carnets/{SOPHIE}/orientation", headers=bearer(co), data={
            "csrf": csrf_of(client), "orientation_system_id": systems["Professionnel"], "structure_id": atelier,
            "referent_id": "", "reason": "Projet d'emploi à Bondy", "etape": "structure"})
        assert step.status_code == 303
        location = step.headers["location"]
        assert location.startswith(f"/carnets/{SOPHIE}?") and location.endswith("#orientation")
        page = (await client.get(location, headers=bearer(co))).text
        assert offered(page, "or-referent") == {"Paul Sansocial": paul}  # not Pierre: another structure
        assert "Atelier Emploi Bondy" in offered(page, "or-structure")
        assert selected(page, "or-structure") == atelier and "Projet d&#39;emploi à Bondy</textarea>" in page
        structures_of_ccas = (await client.get(f"/carnets/{SOPHIE}", headers=bearer(co), params={
            "or_dispositif": systems["Professionnel"], "or_structure": str(DEMO_STRUCTURE)})).text
        assert "Paul Sansocial" not in offered(structures_of_ccas, "or-referent")
        assert "Pierre Chevalier" in offered(structures_of_ccas, "or-referent")

        # The structure lacks the system: said so, choices and reason kept, at an address that reloads.
        refused = await client.post(f"/carnets/{SOPHIE}/orientation", headers=bearer(co), data={
            "csrf": csrf_of(client), "orientation_system_id": systems["Social"], "structure_id": atelier,
            "referent_id": "", "reason": "Un motif à garder"})
        assert refused.status_code == 303 and "or_refus=1" in refused.headers["location"]
        page = (await client.get(refused.headers["location"], headers=bearer(co))).text
        assert "La structure Atelier Emploi Bondy ne propose pas le dispositif Social." in page
        assert "n&#39;a pas le dispositif" not in page
        assert selected(page, "or-system") == systems["Social"] and selected(page, "or-structure") == atelier
        assert "Un motif à garder</textarea>" in page
        again = await client.get(refused.headers["location"], headers=bearer(co))  # a reload shows the same
        assert again.status_code == 200 and "ne propose pas le dispositif Social" in again.text

        # The structure has it but the professional does not: the professional is named.
        refused = await client.post(f"/carnets/{SOPHIE}/orientation", headers=bearer(co), data={
            "csrf": csrf_of(client), "orientation_system_id": systems["Socio-professionnel"],
            "structure_id": atelier, "referent_id": paul, "reason": ""})
        page = (await client.get(refused.headers["location"], headers=bearer(co))).text
        assert "Le professionnel Paul Sansocial n&#39;a pas le dispositif Socio-professionnel." in page
        assert selected(page, "or-referent") == paul
        notebook = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(co))).json()
        assert notebook["orientation_system_name"] in (None, "")  # nothing was decided

        # The API names the same cause when asked directly.
        direct = await client.put(f"/api/v1/notebooks/{SOPHIE}/orientation", headers=bearer(co), json={
            "orientation_system_id": systems["Socio-professionnel"], "structure_id": atelier, "referent_id": paul})
        assert direct.status_code == 422
        assert direct.json()["message"] == "Le professionnel Paul Sansocial n'a pas le dispositif Socio-professionnel."

        # Choices that fit orient.
        done = await client.post(f"/carnets/{SOPHIE}/orientation", headers=bearer(co), data={
            "csrf": csrf_of(client), "orientation_system_id": systems["Professionnel"], "structure_id": atelier,
            "referent_id": paul, "reason": "Projet d'emploi à Bondy"})
        assert done.status_code == 303 and done.headers["location"] == f"/carnets/{SOPHIE}?notice=oriented#orientation"
        notebook = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(co))).json()
        assert notebook["orientation_system_name"] == "Professionnel"


async def test_the_orientation_manager_lists_the_open_requests_of_their_territory_oldest_first(system):
    await seed_demo(system)
    # Another territory, with a pending request of its own: never on this territory's list.
    d51 = DEMO_TERRITORY.model_copy(update={
        "deployment_id": uuid.uuid4(), "label": "Démo 51", "department_code": "51", "structures": [],
        "people": [DemoPerson(person_id=uuid.uuid4(), role="manager",
                              person=PersonFields(firstname="Marc", lastname="Marne", email="marc@cd51.fr"))]})
    await system.call(d51)
    elsewhere = DemoBeneficiary(notebook_id=uuid.uuid4(), beneficiary_id=uuid.uuid4(), beneficiary=BeneficiaryFields(
        firstname="Aline", lastname="Ailleurs", date_of_birth=date(1985, 3, 4)))
    await system.call(SeedDemoNotebooksV1(deployment_id=d51.deployment_id, beneficiaries=[elsewhere]))
    engine = create_engine(system.database_urls["notebook"])
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(OrientationRequest).values(
                id=uuid.uuid4(), notebook_id=elsewhere.notebook_id, requested_by_id=uuid.uuid4(),
                requested_by_name="Quelqu'un de la Marne", requested_orientation_system_id=uuid.uuid4(),
                reason="Demande de la Marne", created_at=datetime.now(UTC) - timedelta(days=30), status="pending"))
    finally:
        await engine.dispose()

    async with system.client() as client:
        pro, co = (await sign_in(system, client, "pro@demo.carnet.test"),
                   await sign_in(system, client, "orientation@demo.carnet.test"))
        empty = await client.get("/orientations/demandes", headers=bearer(co))
        assert empty.status_code == 200 and "Aucune demande de réorientation" in empty.text
        assert "Ailleurs" not in empty.text

        for notebook_id, reason in ((MYRNA, "Besoin d'un accompagnement social"), (LINDSAY, "Deuxième demande")):
            page = await page_with_systems(client, pro, notebook_id)
            systems = {s["name"]: s["orientation_system_id"] for s in page["my_orientation_systems"]}
            assert (await client.post(f"/api/v1/notebooks/{notebook_id}/members", headers=bearer(pro), json={
                "as_referent": True, "orientation_system_id": systems["Professionnel"]})).status_code == 200
            asked = await client.post(f"/api/v1/notebooks/{notebook_id}/orientation-requests", headers=bearer(pro),
                                      json={"orientation_system_id": systems["Social"], "reason": reason})
            assert asked.status_code == 201, asked.text

        listed = await client.get("/orientations/demandes", headers=bearer(co))
        assert listed.status_code == 200
        text = html.unescape(listed.text)
        assert "2 demandes en attente" in text and "Ailleurs" not in text and "Marne" not in text
        assert text.index("HENDERSON Myrna") < text.index("AGUILAR Lindsay")  # the oldest first
        assert "Besoin d'un accompagnement social" in text and "Pierre Chevalier" in text and "Social" in text
        assert f'href="/carnets/{MYRNA}#orientation"' in listed.text
        assert 'href="/orientations/demandes" aria-current="page"' in listed.text

        # The orientation manager's key figures lead there (four figures, not nine tiles), and so does the home.
        figures = html.unescape((await client.get("/beneficiaires", headers=bearer(co))).text)
        assert re.search(r'<a href="/orientations/demandes"><span class="tile-number">2</span>Demandes de '
                         r'réorientation à traiter</a><br><span class="hint">dont 0 dans mon portefeuille', figures)
        assert "Autres bénéficiaires du territoire" not in figures and figures.count('class="tile"') == 4
        home = (await client.get("/", headers=bearer(co))).text
        assert 'href="/orientations/demandes">Demandes de réorientation à traiter</a>' in home

        # Only those who decide see it.
        refused = await client.get("/orientations/demandes", headers=bearer(pro))
        assert refused.status_code == 403
