"""The home page leads to each role's pages of daily work: the orientation manager to « CER à valider », a manager
to it and to Imports, Tableau de bord and Exports; no role is shown a page it may not use (the menu's roles, which
are the services' habilitations: a professional validates no CER, imports nothing, has no dashboard)."""
from __future__ import annotations

import uuid

import pytest

from contracts.identity import GetMeV1, MeReply, Role
from contracts.notebook import GetNotebookPageV1
from services.gateway.tests.fake_bus import FakeRpc, visit
from servicekit.errors import NotFound

pytestmark = pytest.mark.unit
LINKS = {"/contrats/a-valider": "CER à valider", "/imports": "Imports", "/pilotage": "Tableau de bord",
         "/exports": "Exports"}


async def home_links(role: Role) -> set[str]:
    me = MeReply(account_id=uuid.uuid4(), email="agathe@carnet.fr", phone=None, role=role,
                 deployment_id=None if role == Role.admin_cdb else uuid.uuid4(), profile_id=uuid.uuid4(),
                 structure_ids=[uuid.uuid4()] if role == Role.admin_structure else [], firstname="Agathe",
                 lastname="Deblouze")
    # A beneficiary's home also reads his notebook (test_beneficiary_home.py): none here, the links show all the same.
    page = await visit(FakeRpc({GetMeV1: me, GetNotebookPageV1: NotFound("Carnet introuvable.")}), "/")
    assert page.status_code == 200, page.text
    main = page.text.split("<main", 1)[1]  # the tiles of the page, not the header's menu
    return {href for href, label in LINKS.items() if f'<li><a href="{href}">{label}</a> : ' in main}


@pytest.mark.parametrize(("role", "shown"), [
    (Role.manager, {"/contrats/a-valider", "/imports", "/pilotage", "/exports"}),
    (Role.orientation_manager, {"/contrats/a-valider", "/pilotage", "/exports"}),
    (Role.admin_structure, {"/imports", "/pilotage", "/exports"}),
    (Role.professional, {"/exports"}),
    (Role.admin_cdb, {"/pilotage", "/exports"}),
    (Role.beneficiary, set()),
])
async def test_each_role_finds_on_its_home_the_pages_it_may_use_and_only_those(role, shown):
    assert await home_links(role) == shown
