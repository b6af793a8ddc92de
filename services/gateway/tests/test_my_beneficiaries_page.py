"""A professional's « Bénéficiaires » opens on her own beneficiaries (« Mes bénéficiaires »), with a link that widens
the list to the whole territory and back; a name typed in the search is still searched on the whole territory (to
find whom to join), and the other roles' list opens on the territory as before."""
from __future__ import annotations

import uuid
from html import unescape

import pytest

from contracts.bulk_orientation import GetTerritoryOrientationOptionsV1, TerritoryOrientationOptionsReply
from contracts.directory import PeopleReply, SearchPeopleV1
from contracts.identity import GetMeV1, MeReply, Role
from contracts.notebook import (
    DashboardReply,
    GetDashboardV1,
    NotebooksReply,
    OrientationOptions,
    RecentNotebooksV1,
    SearchNotebooksV1,
)
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
TERRITORY = uuid.uuid4()


def me(role: Role) -> MeReply:
    return MeReply(account_id=uuid.uuid4(), email="nadia@carnet.fr", phone=None, role=role, deployment_id=TERRITORY,
                   profile_id=uuid.uuid4(), structure_ids=[uuid.uuid4()], firstname="Nadia", lastname="Benamar")


def rpc_for(role: Role) -> FakeRpc:
    return FakeRpc({GetMeV1: me(role), SearchNotebooksV1: NotebooksReply(notebooks=[], total=0),
                    RecentNotebooksV1: NotebooksReply(notebooks=[], total=0), GetDashboardV1: DashboardReply(tiles=[]),
                    SearchPeopleV1: PeopleReply(people=[], total=0),
                    GetTerritoryOrientationOptionsV1: TerritoryOrientationOptionsReply(options=OrientationOptions())})


def searched(rpc: FakeRpc) -> SearchNotebooksV1:
    [search] = rpc.sent(SearchNotebooksV1)
    return search


async def get(rpc: FakeRpc, path: str) -> str:
    page = await visit(rpc, path)
    assert page.status_code == 200, page.text
    return unescape(page.text)


async def test_a_professionals_list_opens_on_her_beneficiaries_with_a_link_to_the_whole_territory():
    rpc = rpc_for(Role.professional)
    page = await get(rpc, "/beneficiaires")
    assert searched(rpc).mine is True
    assert "<h1>Mes bénéficiaires</h1>" in page
    assert '<a href="/beneficiaires?mine=0">Voir tous les bénéficiaires du territoire</a>' in page
    assert 'name="mine" value="1" >' in page  # the search's own box unticked: a name is searched everywhere
    assert "Aucun des bénéficiaires que vous suivez ne correspond." in page


async def test_she_widens_it_to_the_territory_and_comes_back():
    rpc = rpc_for(Role.professional)
    page = await get(rpc, "/beneficiaires?mine=0")
    assert searched(rpc).mine is False
    assert "<h1>Bénéficiaires</h1>" in page
    assert '<a href="/beneficiaires?mine=1">Voir mes bénéficiaires seulement</a>' in page

    rpc = rpc_for(Role.professional)
    page = await get(rpc, "/beneficiaires?mine=1&q=")
    assert searched(rpc).mine is True and 'name="mine" value="1" checked>' in page


async def test_a_name_searched_from_the_form_is_searched_on_the_whole_territory():
    rpc = rpc_for(Role.professional)
    await get(rpc, "/beneficiaires?q=tifour&support=all")
    assert (searched(rpc).q, searched(rpc).mine) == ("tifour", False)


@pytest.mark.parametrize("role", [Role.manager, Role.admin_structure])
async def test_the_other_roles_list_still_opens_on_the_territory(role):
    rpc = rpc_for(role)
    page = await get(rpc, "/beneficiaires")
    assert searched(rpc).mine is False
    assert "<h1>Bénéficiaires</h1>" in page and "Voir tous les bénéficiaires du territoire" not in page
