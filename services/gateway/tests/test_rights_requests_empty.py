"""The people's requests (droits RGPD) pages with no request (issue 20 walkthrough): a clear French empty state, and
the notebook's breadcrumb names the notebook plainly when no request brings the beneficiary's name (it said a bare
« Carnet »); an answer with a NUL byte or too long is said in French, never sent. Through the gateway's routes with
a fake bus."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from html import unescape

import pytest

from contracts.identity import GetMeV1, MeReply, Role
from contracts.rights import (
    AnswerRightsRequestV1,
    ListRightsRequestsV1,
    RightsRequestKind,
    RightsRequestsReply,
    RightsRequestState,
    RightsRequestView,
)
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
NOTEBOOK = uuid.uuid4()
ME = MeReply(account_id=uuid.uuid4(), email="gestion@carnet.fr", phone=None, role=Role.manager,
             deployment_id=uuid.uuid4(), profile_id=uuid.uuid4(), structure_ids=[], firstname="Gisèle",
             lastname="Gestion")


def rights_rpc(reply: RightsRequestsReply) -> FakeRpc:
    return FakeRpc({GetMeV1: ME, ListRightsRequestsV1: reply, AnswerRightsRequestV1: None})


def main_of(page: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1].split("</main>")[0]))


async def test_a_notebook_without_request_says_so_and_names_its_notebook_plainly():
    page = await visit(rights_rpc(RightsRequestsReply(may_answer=True)), f"/carnets/{NOTEBOOK}/demandes-rgpd")
    assert page.status_code == 200
    text = " ".join(main_of(page.text).split())
    assert "Aucune demande de rectification ni d'opposition n'a été faite depuis ce carnet." in text
    assert f'<a href="/carnets/{NOTEBOOK}">Carnet du bénéficiaire</a>' in page.text
    assert f'<a href="/carnets/{NOTEBOOK}">Carnet</a>' not in page.text
    assert f'href="/carnets/{NOTEBOOK}">Retour au carnet</a>' in page.text


async def test_a_territory_without_request_says_so():
    page = await visit(rights_rpc(RightsRequestsReply(may_answer=True)), "/territoire/demandes-rgpd")
    assert page.status_code == 200
    text = " ".join(main_of(page.text).split())
    assert "Aucune demande de rectification ni d'opposition n'a été faite sur votre territoire." in text
    assert "Retour au carnet" not in text


@pytest.mark.parametrize("answer", ["Corrigé\x00", "a" * 3001, "b" * 200_000])
async def test_an_answer_with_a_nul_byte_or_too_long_is_said_in_french_and_not_sent(answer):
    request_id = uuid.uuid4()
    rpc = rights_rpc(RightsRequestsReply(may_answer=True, requests=[RightsRequestView(
        request_id=request_id, notebook_id=NOTEBOOK, beneficiary_name="Sophie Tifour",
        kind=RightsRequestKind.rectification, text="Mon adresse", created_at=datetime(2026, 11, 2, tzinfo=UTC),
        due_on=date(2026, 12, 2), state=RightsRequestState.open)]))
    page = await visit(rpc, f"/demandes-rgpd/{request_id}/reponse", {
        "back": f"/carnets/{NOTEBOOK}/demandes-rgpd", "decision": "accepter", "answer": answer})
    assert page.status_code == 422 and 'role="alert"' in page.text
    assert re.search(r"caractères de contrôle|3000", unescape(page.text))
    assert rpc.sent(AnswerRightsRequestV1) == []
