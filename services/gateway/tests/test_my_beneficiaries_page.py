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
    assert 'name="mine" value="1" checked>' in page  # the box says what the list shows (issue 20)
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


async def test_a_name_typed_with_the_box_ticked_is_still_searched_on_the_whole_territory_as_the_form_says():
    """Walk of the demo (issue 20): her list showed only hers with « Mes bénéficiaires seulement » unticked. The box
    now says what the list shows; a name typed (« tifour », to find Sophie whom she does not follow yet) is searched
    on the whole territory even from the ticked box, as the hint under the field and the box says, and the result
    comes back with the box unticked."""
    rpc = rpc_for(Role.professional)
    page = await get(rpc, "/beneficiaires")
    hint = ("Un nom ou un identifiant est cherché sur tout le territoire, même si « Mes bénéficiaires seulement » "
            "est coché.")
    assert f'<p id="scope-hint" class="hint">{hint}</p>' in page
    assert 'aria-describedby="q-hint scope-hint"' in page and 'aria-describedby="scope-hint" name="mine"' in page

    rpc = rpc_for(Role.professional)
    page = await get(rpc, "/beneficiaires?q=tifour&support=all&mine=1")
    assert (searched(rpc).q, searched(rpc).mine) == ("tifour", False)
    assert "<h1>Bénéficiaires</h1>" in page and 'name="mine" value="1" >' in page
    assert "Vous voyez les bénéficiaires de tout le territoire." in page

    rpc = rpc_for(Role.professional)  # a blank name is no name: the box ticked keeps the list hers
    page = await get(rpc, "/beneficiaires?q=+&mine=1")
    assert searched(rpc).mine is True and 'name="mine" value="1" checked>' in page


async def test_the_roles_without_the_box_get_no_word_about_it():
    page = await get(rpc_for(Role.manager), "/beneficiaires")
    assert "scope-hint" not in page and "Mes bénéficiaires seulement" not in page


@pytest.mark.parametrize("role", [Role.manager, Role.admin_structure])
async def test_the_other_roles_list_still_opens_on_the_territory(role):
    rpc = rpc_for(role)
    page = await get(rpc, "/beneficiaires")
    assert searched(rpc).mine is False
    assert "<h1>Bénéficiaires</h1>" in page and "Voir tous les bénéficiaires du territoire" not in page
