"""The territory's pages say what was just done (territory opened, orientation system added, structure created) from
a key in the address, never from text in the address, which anyone could write and send to a manager."""
from __future__ import annotations

import uuid

import httpx
import pytest

from contracts.directory import DeploymentReply, GetDeploymentV1
from contracts.identity import GetMeV1, MeReply, Role
from gateway.config import GatewaySettings
from gateway.main import create_app

pytestmark = pytest.mark.unit
TERRITORY = uuid.uuid4()


class FakeRpc:
    answers = {
        GetMeV1: MeReply(account_id=uuid.uuid4(), email="gestion@carnet.fr", phone=None, role=Role.manager,
                         deployment_id=TERRITORY, profile_id=uuid.uuid4(), structure_ids=[], firstname="Gisèle",
                         lastname="Gestion"),
        GetDeploymentV1: DeploymentReply(deployment_id=TERRITORY, label="Seine-Saint-Denis", department_code="93")}

    async def call(self, request, *, headers=None, timeout_s=None):
        return self.answers[type(request)]


async def territory_page(query: str) -> str:
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = FakeRpc()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                                 cookies={"carnet_csrf": "jeton"}) as client:
        page = await client.get("/territoire" + query, headers={"Authorization": "Bearer eyJ.access.token"})
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
async def test_the_territory_menu_offers_only_pages_the_role_may_open(monkeypatch, role, shown):
    me = FakeRpc.answers[GetMeV1].model_copy(update={"role": role})
    monkeypatch.setitem(FakeRpc.answers, GetMeV1, me)
    page = await territory_page("")
    assert ('href="/territoire/conservation"' in page) is shown  # a structure admin would get a 403 there


async def test_a_refusal_to_someone_signed_in_leads_back_home_not_to_the_login_page(monkeypatch):
    from contracts.retention import GetRetentionV1
    from servicekit.errors import Forbidden

    class Refusing(FakeRpc):
        async def call(self, request, *, headers=None, timeout_s=None):
            if isinstance(request, GetRetentionV1):
                raise Forbidden("Seuls les gestionnaires de territoire gèrent la conservation des données.")
            return await super().call(request, headers=headers, timeout_s=timeout_s)

    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = Refusing()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                                 cookies={"carnet_csrf": "jeton"}) as client:
        page = await client.get("/territoire/conservation", headers={"Authorization": "Bearer eyJ.access.token"})
    assert page.status_code == 403 and "gèrent la conservation" in page.text
    assert "<a href=\"/\">Retour à l'accueil</a>" in page.text and "Retour à la page de connexion" not in page.text


@pytest.mark.parametrize("role", [Role.admin_structure, Role.admin_cdb, Role.orientation_manager])
async def test_home_names_the_role_in_correct_french(monkeypatch, role):
    monkeypatch.setitem(FakeRpc.answers, GetMeV1, FakeRpc.answers[GetMeV1].model_copy(update={"role": role}))
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = FakeRpc()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        page = (await client.get("/", headers={"Authorization": "Bearer eyJ.access.token"})).text
    assert "en tant que Administrateur" not in page and "Votre rôle : <strong>" in page
