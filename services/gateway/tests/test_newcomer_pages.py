"""Where a newcomer's walkthrough of the demo got stuck: the annuaire of admin_cdb, who belongs to no territory, first
asks for one (the search alone was refused with « Précisez le territoire concerné. ») and keeps it in the search form;
a professional's « Mes bénéficiaires » figure opens her beneficiaries."""
from __future__ import annotations

import uuid
from html import unescape

import pytest

from contracts.directory import (
    DeploymentsReply,
    DeploymentView,
    ListDeploymentsV1,
    PeopleReply,
    SearchPeopleV1,
    SearchStructuresV1,
    StructuresReply,
)
from contracts.identity import GetMeV1, MeReply, Role
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
DROME = DeploymentView(deployment_id=uuid.uuid4(), label="Drôme <26>", department_code="26")
ADMIN = MeReply(account_id=uuid.uuid4(), email="admin@carnet.fr", phone=None, role=Role.admin_cdb, deployment_id=None,
                profile_id=uuid.uuid4(), structure_ids=[], firstname="Alice", lastname="Admin")


def admin_rpc() -> FakeRpc:
    return FakeRpc({GetMeV1: ADMIN, ListDeploymentsV1: DeploymentsReply(deployments=[DROME]),
                    SearchPeopleV1: PeopleReply(people=[], total=0),
                    SearchStructuresV1: StructuresReply(structures=[], total=0)})


async def test_an_administrator_first_chooses_the_territory_of_the_annuaire():
    rpc = admin_rpc()
    page = await visit(rpc, "/annuaire")
    assert page.status_code == 200, page.text
    assert "Précisez le territoire" not in unescape(page.text)
    assert '<label for="territoire">Territoire</label>' in page.text
    assert f'<option value="{DROME.deployment_id}">Drôme &lt;26&gt; (26)</option>' in page.text
    assert not [r for r in rpc.asked if isinstance(r, SearchPeopleV1 | SearchStructuresV1)]


async def test_then_searches_in_it_the_territory_kept_in_the_form():
    rpc = admin_rpc()
    page = await visit(rpc, f"/annuaire?territoire={DROME.deployment_id}&q=ccas")
    assert page.status_code == 200, page.text
    assert f'<option value="{DROME.deployment_id}" selected>' in page.text
    [people] = [r for r in rpc.asked if isinstance(r, SearchPeopleV1)]
    assert (people.deployment_id, people.q) == (DROME.deployment_id, "ccas")


async def test_a_professionals_portfolio_tile_opens_her_beneficiaries():
    from contracts.notebook import (
        DashboardReply,
        DashboardTile,
        GetDashboardV1,
        NotebooksReply,
        RecentNotebooksV1,
        SearchNotebooksV1,
    )

    rpc = admin_rpc()
    rpc.answers[GetMeV1] = ADMIN.model_copy(update={"role": Role.professional, "deployment_id": DROME.deployment_id})
    rpc.answers[SearchNotebooksV1] = rpc.answers[RecentNotebooksV1] = NotebooksReply(notebooks=[], total=0)
    rpc.answers[GetDashboardV1] = DashboardReply(tiles=[DashboardTile(key="mine", label="Mes bénéficiaires", count=26)])
    page = await visit(rpc, "/beneficiaires")
    assert page.status_code == 200, page.text
    assert ('<a href="/beneficiaires?mine=1"><span class="tile-number">26</span>Mes bénéficiaires</a>'
            in page.text)
