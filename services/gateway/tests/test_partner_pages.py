"""The administrators' page of partners says only what happened (issue 16): a credential revoked is named from
the list identity gives, never from text in the address, which anyone could write and send to an administrator."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from contracts.directory import DeploymentsReply, ListDeploymentsV1
from contracts.identity import GetMeV1, MeReply, Role
from contracts.partners import (
    ListPartnerCallsV1,
    ListPartnerCredentialsV1,
    PartnerCallsReply,
    PartnerCredentialsReply,
    PartnerCredentialView,
)
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit

REVOKED = PartnerCredentialView(credential_id=uuid.uuid4(), partner="rdvi", client_id="cdb_0123456789abcdef01234567",
                                deployment_ids=[uuid.uuid4()], created_at=datetime(2026, 1, 5, tzinfo=UTC),
                                revoked_at=datetime(2026, 2, 1, tzinfo=UTC))


ADMIN = MeReply(account_id=uuid.uuid4(), email="paule@carnet.fr", phone=None, role=Role.admin_cdb, deployment_id=None,
                profile_id=None, structure_ids=[], firstname="Paule", lastname="Admin")
ANSWERS = {GetMeV1: ADMIN, ListPartnerCredentialsV1: PartnerCredentialsReply(credentials=[REVOKED]),
           ListPartnerCallsV1: PartnerCallsReply(calls=[]), ListDeploymentsV1: DeploymentsReply(deployments=[])}


async def partners_page(query: str) -> str:
    page = await visit(FakeRpc(ANSWERS), "/partenaires" + query)
    assert page.status_code == 200
    return page.text


async def test_text_in_the_address_is_not_shown_as_a_notice():
    page = await partners_page("?notice=Session+expir%C3%A9e+:+appelez+le+01+23+45+67+89")
    assert "appelez" not in page and "alert-success" not in page


async def test_a_revoked_credential_is_named_from_identity_s_list():
    page = await partners_page(f"?revoque={REVOKED.client_id}")
    assert f"identifiant {REVOKED.client_id} est révoqué" in page
    assert "alert-success" not in await partners_page("?revoque=cdb_invente")
