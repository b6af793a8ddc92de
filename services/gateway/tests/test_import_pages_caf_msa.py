"""The import page offers managers the CAF/MSA flux (issue 16, item 1): its own form for an XML file, no template to
download (the file is the CAF's or the MSA's), and a structure admin is not offered it."""
from __future__ import annotations

import re
import uuid

import pytest

from contracts.identity import GetMeV1, MeReply, Role
from contracts.imports import ImportsReply, ListImportsV1
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit


async def imports_page(role: Role) -> str:
    me = MeReply(account_id=uuid.uuid4(), email="agathe@cd93.fr", phone=None, role=role, deployment_id=uuid.uuid4(),
                 profile_id=uuid.uuid4(), structure_ids=[uuid.uuid4()], firstname="Agathe", lastname="Deblouze")
    page = await visit(FakeRpc({GetMeV1: me, ListImportsV1: ImportsReply(imports=[])}), "/imports")
    assert page.status_code == 200
    return page.text


async def test_a_manager_is_offered_the_caf_msa_flux_as_an_xml_file_without_template():
    page = await imports_page(Role.manager)
    [section] = re.findall(r'<section class="import-kind" aria-labelledby="import-caf-msa">.*?</section>', page, re.S)
    assert "Flux CAF/MSA (XML)" in section and "NIR" in section
    assert 'action="/imports/caf-msa"' in section and 'accept=".xml,application/xml,text/xml"' in section
    assert "/api/v1/imports/templates/caf-msa" not in page
    assert 'href="/api/v1/imports/templates/beneficiaries.csv"' in page  # the other kinds keep theirs


async def test_a_structure_admin_is_not_offered_the_flux():
    assert "caf-msa" not in await imports_page(Role.admin_structure)
