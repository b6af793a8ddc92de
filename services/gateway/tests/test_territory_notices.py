"""The territory's pages say what was just done (territory opened, orientation system added, structure created) from
a key in the address, never from text in the address, which anyone could write and send to a manager."""
from __future__ import annotations

import uuid

import pytest

from contracts.directory import DeploymentReply, GetDeploymentV1
from contracts.identity import GetMeV1, MeReply, Role
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
TERRITORY = uuid.uuid4()


ME = MeReply(account_id=uuid.uuid4(), email="gestion@carnet.fr", phone=None, role=Role.manager,
             deployment_id=TERRITORY, profile_id=uuid.uuid4(), structure_ids=[], firstname="Gisèle", lastname="Gestion")


def territory_rpc(role: Role = Role.manager) -> FakeRpc:
    return FakeRpc({GetMeV1: ME.model_copy(update={"role": role}), GetDeploymentV1: DeploymentReply(
        deployment_id=TERRITORY, label="Seine-Saint-Denis", department_code="93")})


async def territory_page(query: str, role: Role = Role.manager) -> str:
    page = await visit(territory_rpc(role), "/territoire" + query)
    assert page.status_code == 200
    return page.text


@pytest.mark.parametrize(("key", "said"), [("territoire-ouvert", "Le territoire est ouvert"),
                                           ("dispositif-ajoute", "Le dispositif d'accompagnement est ajouté.")])
async def test_what_was_done_is_said_where_the_eye_is(key, said):
    page = await territory_page(f"?notice={key}")
    assert 'role="status"' in page and said.replace("'", "&#39;") in page


async def test_text_in_the_address_is_not_shown_as_a_notice():
    page = await territory_page("?notice=Session+expir%C3%A9e+:+appelez+le+01+23+45+67+89")
    assert "appelez" not in page and 'role="status"' not in page


@pytest.mark.parametrize(("role", "shown"), [(Role.manager, True), (Role.admin_structure, False)])
async def test_the_territory_menu_offers_only_pages_the_role_may_open(role, shown):
    page = await territory_page("", role)
    assert ('href="/territoire/conservation"' in page) is shown  # a structure admin would get a 403 there


async def test_a_refusal_to_someone_signed_in_leads_back_home_not_to_the_login_page():
    from contracts.retention import GetRetentionV1
    from servicekit.errors import Forbidden

    rpc = territory_rpc()
    rpc.answers[GetRetentionV1] = Forbidden("Seuls les gestionnaires de territoire gèrent la conservation des données.")
    page = await visit(rpc, "/territoire/conservation")
    assert page.status_code == 403 and "gèrent la conservation" in page.text
    assert "<a href=\"/\">Retour à l'accueil</a>" in page.text and "Retour à la page de connexion" not in page.text


@pytest.mark.parametrize("role", [Role.admin_structure, Role.admin_cdb, Role.orientation_manager])
async def test_home_names_the_role_in_correct_french(role):
    page = (await visit(territory_rpc(role), "/")).text
    assert "en tant que Administrateur" not in page and "Votre rôle : <strong>" in page
