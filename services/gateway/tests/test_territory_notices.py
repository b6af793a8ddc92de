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
