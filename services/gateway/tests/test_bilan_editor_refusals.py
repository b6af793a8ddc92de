"""The bilan editor's refusals (issue 20 walkthrough), through the gateway's routes with a fake bus: a date refused
because a bilan already exists that day keeps everything typed, even when no bilan can be prepared at all (the
latest one is today's); a NUL byte or a text past its length is said in French, never sent, never a 500."""
from __future__ import annotations

import uuid
from datetime import date
from html import unescape

import httpx
import pytest

from contracts.bilans import BilanDraft, CreateBilanV1, PrepareBilanV1
from contracts.identity import GetMeV1, MeReply, Role
from servicekit.errors import Invalid
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
NOTEBOOK = uuid.uuid4()
ME = MeReply(account_id=uuid.uuid4(), email="pro@carnet.fr", phone=None, role=Role.professional,
             deployment_id=uuid.uuid4(), profile_id=uuid.uuid4(), structure_ids=[uuid.uuid4()], firstname="Paul",
             lastname="Pro")
TAKEN = Invalid("Un bilan existe déjà à cette date ou après : la date d'un nouveau bilan suit celle du dernier "
                "(29/11/2026).", details={"field": "bilan_date"})


async def post(rpc: FakeRpc, data: dict) -> httpx.Response:
    return await visit(rpc, f"/carnets/{NOTEBOOK}/bilans/nouveau", data)


def draft() -> BilanDraft:
    return BilanDraft(notebook_id=NOTEBOOK, beneficiary_name="Sophie Tifour", bilan_date=date(2026, 11, 29))


async def test_a_day_already_taken_keeps_what_was_typed_when_no_bilan_can_be_prepared():
    rpc = FakeRpc({GetMeV1: ME, PrepareBilanV1: TAKEN, CreateBilanV1: TAKEN})
    page = await post(rpc, {"bilan_date": "2026-11-29", "assessment": "Sophie <avance> bien\nsur deux lignes",
                            "next_steps": "Deux entretiens & un atelier"})
    assert page.status_code == 422
    text = unescape(page.text)
    assert "Un bilan existe déjà à cette date" in text
    assert "Sophie &lt;avance&gt; bien\nsur deux lignes</textarea>" in page.text
    assert "Deux entretiens &amp; un atelier</textarea>" in page.text
    # The date can be changed and the bilan sent again from the same form.
    assert 'type="date" id="b-bilan-date" name="bilan_date" required value="2026-11-29"' in page.text
    assert 'action="/carnets/{}/bilans/nouveau"'.format(NOTEBOOK) in page.text and 'method="post"' in page.text


async def test_a_day_already_taken_keeps_what_was_typed_under_the_bilan_of_today():
    rpc = FakeRpc({GetMeV1: ME, PrepareBilanV1: draft(), CreateBilanV1: TAKEN})
    page = await post(rpc, {"bilan_date": "2026-11-29", "assessment": "Mon appréciation", "next_steps": "La suite"})
    assert page.status_code == 422 and "existe déjà" in unescape(page.text)
    assert "Mon appréciation</textarea>" in unescape(page.text) and "La suite</textarea>" in page.text


@pytest.mark.parametrize(("field", "value", "message"), [
    ("assessment", "Avant\x00après", "caractères de contrôle"),
    ("next_steps", "Avant\x00après", "caractères de contrôle"),
    ("assessment", "a" * 5001, "5000"),
    ("next_steps", "a" * 100_000, "5000"),
    ("bilan_date", "2026-11-29\x00", "date"),
    ("bilan_date", "9" * 10_000, "date"),
])
async def test_a_nul_byte_or_a_long_text_is_said_in_french_and_not_sent(field, value, message):
    rpc = FakeRpc({GetMeV1: ME, PrepareBilanV1: draft(), CreateBilanV1: TAKEN})
    page = await post(rpc, {"assessment": "Mon appréciation", "next_steps": "", **{field: value}})
    assert page.status_code == 422, page.text
    assert message in unescape(page.text) and 'role="alert"' in page.text
    assert rpc.sent(CreateBilanV1) == []
