"""« Ajouter une personne » and a structure's « Ajouter un professionnel » (issue 20 walkthrough): the dispositifs
offered are those of the professional's structure, not every dispositif of the territory (the directory refuses the
others). On the people page the structure is chosen in the form: the dispositifs of the one chosen are shown (a step
without JavaScript, static/person_form.js filters in place), each box carries the structures offering it; a refusal
keeps the boxes ticked. Through the gateway's routes with a fake bus."""
from __future__ import annotations

import re
import uuid
from html import unescape

import pytest

from contracts.directory import (
    CreatePersonV1,
    DeploymentReply,
    GetDeploymentV1,
    GetStructureV1,
    OrientationSystemView,
    OrientationType,
    PeopleReply,
    SearchPeopleV1,
    SearchStructuresV1,
    StructureReply,
    StructuresReply,
)
from contracts.identity import GetMeV1, MeReply, Role
from servicekit.errors import Invalid
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
TERRITORY = uuid.uuid4()
ME = MeReply(account_id=uuid.uuid4(), email="gestion@carnet.fr", phone=None, role=Role.manager,
             deployment_id=TERRITORY, profile_id=uuid.uuid4(), structure_ids=[], firstname="Gisèle", lastname="Gestion")
PRO, SOCIAL, UNOFFERED = (OrientationSystemView(orientation_system_id=uuid.uuid4(), name=name, orientation_type=kind)
                          for name, kind in (("Emploi", OrientationType.pro), ("Social", OrientationType.social),
                                             ("Personne ne le propose", OrientationType.autre)))
MISSION, CCAS = (uuid.uuid4(), uuid.uuid4())


def structure(structure_id: uuid.UUID, name: str, systems: list[OrientationSystemView]) -> StructureReply:
    return StructureReply(structure_id=structure_id, deployment_id=TERRITORY, name=name, can_edit=True,
                          orientation_system_ids=[s.orientation_system_id for s in systems],
                          orientation_systems=systems)


def territory_rpc(answers: dict | None = None) -> FakeRpc:
    return FakeRpc({GetMeV1: ME, GetDeploymentV1: DeploymentReply(
        deployment_id=TERRITORY, label="Territoire test", department_code="26",
        orientation_systems=[PRO, SOCIAL, UNOFFERED]),
        SearchPeopleV1: PeopleReply(people=[], total=0),
        SearchStructuresV1: StructuresReply(structures=[structure(MISSION, "Mission locale", [PRO]),
                                                        structure(CCAS, "CCAS", [PRO, SOCIAL])], total=2),
        GetStructureV1: structure(MISSION, "Mission locale", [PRO]), **(answers or {})})


def boxes(page: str) -> dict[str, str]:
    """Each dispositif box of the add form: its label, and whether it is shown, with the structures offering it."""
    found = {}
    for attributes, label in re.findall(
            r'<div class="checkbox"([^>]*)><input type="checkbox" [^>]*name="orientation_system_ids"[^>]*>'
            r'<label [^>]*>([^<]*)</label>', page):
        found[unescape(label)] = attributes
    return found


async def test_the_people_page_offers_only_the_dispositifs_some_structure_offers_none_before_one_is_chosen():
    page = await visit(territory_rpc(), "/territoire/personnes")
    assert page.status_code == 200
    shown = boxes(page.text)
    assert set(shown) == {"Emploi", "Social"}  # never the one no structure offers
    assert f'data-structures="{MISSION} {CCAS}"' in shown["Emploi"] and f'data-structures="{CCAS}"' in shown["Social"]
    assert all(" hidden" in attributes for attributes in shown.values())
    assert "Choisissez la structure du professionnel" in unescape(page.text)
    assert 'value="structure"' in page.text and '<script src="/static/person_form.js" defer></script>' in page.text


async def test_choosing_a_structure_without_javascript_shows_its_dispositifs_only():
    rpc = territory_rpc()
    page = await visit(rpc, "/territoire/personnes", {
        "etape": "structure", "role": "professional", "firstname": "Léa", "lastname": "Pro", "email": "lea@ml.fr",
        "structure_ids": str(MISSION)})
    assert page.status_code == 200 and rpc.sent(CreatePersonV1) == []
    shown = boxes(page.text)
    assert " hidden" not in shown["Emploi"] and " hidden" in shown["Social"]
    assert 'name="firstname" required value="Léa"' in page.text
    assert f'<option value="{MISSION}" selected>' in page.text


async def test_a_refusal_keeps_the_structure_and_the_dispositifs_ticked():
    rpc = territory_rpc({CreatePersonV1: Invalid("Cette adresse e-mail est déjà utilisée.")})
    page = await visit(rpc, "/territoire/personnes", {
        "role": "professional", "firstname": "Léa", "lastname": "Pro", "email": "lea@ml.fr",
        "structure_ids": str(CCAS), "orientation_system_ids": [str(SOCIAL.orientation_system_id)]})
    assert page.status_code == 422 and "déjà utilisée" in unescape(page.text)
    shown = boxes(page.text)
    assert " hidden" not in shown["Emploi"] and " hidden" not in shown["Social"]
    assert re.search(r'value="{}" checked'.format(SOCIAL.orientation_system_id), page.text)
    assert not re.search(r'value="{}" checked'.format(PRO.orientation_system_id), page.text)


async def test_a_structures_page_offers_its_own_dispositifs_to_a_new_professional():
    page = await visit(territory_rpc(), f"/territoire/structures/{MISSION}")
    assert page.status_code == 200
    form = page.text.split("Ajouter un professionnel")[1].split("</form>")[0]
    assert set(boxes(form)) == {"Emploi"} and "Social" not in form


@pytest.mark.parametrize(("field", "value"), [
    ("firstname", "Lé\x00a"), ("lastname", "P" * 10_000), ("email", "lea\x00@ml.fr"), ("position", "x" * 100_000),
    ("phone", "06\x00"), ("structure_ids", "\x00"), ("orientation_system_ids", "a" * 5000),
])
async def test_a_nul_byte_or_a_long_value_is_said_in_french_and_not_sent(field, value):
    rpc = territory_rpc({CreatePersonV1: Invalid("non attendu")})
    page = await visit(rpc, "/territoire/personnes", {
        "role": "professional", "firstname": "Léa", "lastname": "Pro", "email": "lea@ml.fr", **{field: value}})
    assert page.status_code == 422, page.text[:500]
    assert 'role="alert"' in page.text and rpc.sent(CreatePersonV1) == []
