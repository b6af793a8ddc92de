"""The beneficiary answers a message shared with her on /mon-carnet/echanges: a « Répondre » form under each
professional's message (none under her own answers), her answer sent to notebook as ReplyExchangeV1 (which checks
she may), then back to her messages with a notice; a refusal shows in French with what she typed. The professionals'
thread marks her answers. Through the gateway with the fake bus."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from contracts.exchanges import ExchangePostedReply, ExchangesReply, ExchangeView, ListExchangesV1, ReplyExchangeV1
from contracts.identity import GetMeV1, MeReply, Role
from services.gateway.tests.fake_bus import FakeRpc, visit
from servicekit.errors import NotFound

pytestmark = pytest.mark.unit
NOTEBOOK = uuid.uuid4()
NOW = datetime.now(UTC)
HOSTILE = '<script>alert("x")</script>'
SOPHIE = MeReply(account_id=uuid.uuid4(), email="sophie@demo.carnet.test", phone=None, role=Role.beneficiary,
                 deployment_id=uuid.uuid4(), profile_id=uuid.uuid4(), firstname="Sophie", lastname="Tifour")
PIERRE = SOPHIE.model_copy(update={"role": Role.professional, "firstname": "Pierre", "lastname": "Chevalier"})
SHARED = ExchangeView(exchange_id=uuid.uuid4(), author_name="Pierre Chevalier", author_structure="CCAS",
                      created_at=NOW - timedelta(days=1), text="Votre dossier est complet.",
                      shared_with_beneficiary=True)
ANSWER = ExchangeView(exchange_id=uuid.uuid4(), author_name="Sophie Tifour", created_at=NOW, text=HOSTILE,
                      shared_with_beneficiary=True, by_beneficiary=True, reply_to=SHARED.exchange_id,
                      addressed_to_name="Pierre Chevalier", mentioned_names=["Pierre Chevalier"])


def hers(*messages: ExchangeView, allowed=("view_shared_exchanges", "reply_shared_exchange")) -> ExchangesReply:
    return ExchangesReply(notebook_id=NOTEBOOK, beneficiary_name="Sophie Tifour", allowed=list(allowed),
                          messages=list(messages))


def bus(reply=None, thread=None, me=SOPHIE) -> FakeRpc:
    return FakeRpc({GetMeV1: me, ListExchangesV1: thread or hers(SHARED, ANSWER.model_copy(update={"mine": True})),
                    ReplyExchangeV1: reply or ExchangePostedReply(exchange_id=ANSWER.exchange_id, mentioned=1)})


async def test_she_may_answer_each_professionals_message_but_not_her_own_answer():
    rpc = bus()
    response = await visit(rpc, "/mon-carnet/echanges")
    assert response.status_code == 200
    html = response.text
    assert html.count("Répondre à ce message") == 1
    assert f'action="/mon-carnet/echanges/{SHARED.exchange_id}/repondre"' in html
    assert f'<label for="r-{SHARED.exchange_id}">Votre réponse à Pierre Chevalier</label>' in html
    assert "Votre réponse</h3>" not in html  # the heading names her answer, not her name
    assert "Votre réponse, le" in html and "En réponse à Pierre Chevalier" in html
    assert f'href="#echange-{SHARED.exchange_id}"' in html
    assert HOSTILE not in html and unescape(HOSTILE) in unescape(html)
    assert "Pour répondre, adressez-vous" not in html


async def test_without_the_right_to_answer_no_form_shows():
    html = (await visit(bus(thread=hers(SHARED, allowed=("view_shared_exchanges",))), "/mon-carnet/echanges")).text
    assert "Répondre à ce message" not in html and "/repondre" not in html


async def test_her_answer_is_sent_and_she_comes_back_to_her_messages():
    rpc = bus()
    response = await visit(rpc, f"/mon-carnet/echanges/{SHARED.exchange_id}/repondre", {"text": "  Merci !  "})
    assert response.status_code == 303
    assert response.headers["location"] == f"/mon-carnet/echanges?notice=answered#echange-{ANSWER.exchange_id}"
    [sent] = rpc.sent(ReplyExchangeV1)
    assert sent.exchange_id == SHARED.exchange_id and sent.text.strip() == "Merci !"
    page = await visit(rpc, "/mon-carnet/echanges?notice=answered")
    assert "Votre réponse est envoyée" in unescape(page.text)


async def test_a_message_she_may_not_answer_shows_the_refusal_with_what_she_typed():
    rpc = bus(reply=NotFound("Ce message n'existe pas ou ne vous est pas destiné."))
    response = await visit(rpc, f"/mon-carnet/echanges/{SHARED.exchange_id}/repondre", {"text": HOSTILE})
    assert response.status_code == 404
    html = unescape(response.text)
    assert "Ce message n'existe pas ou ne vous est pas destiné." in html
    assert f"{HOSTILE}</textarea>" in html and HOSTILE + "</textarea>" not in response.text
    assert '<details class="reply" open>' in response.text


async def test_a_blank_or_too_long_answer_is_refused_in_french_before_the_service():
    rpc = bus()
    response = await visit(rpc, f"/mon-carnet/echanges/{SHARED.exchange_id}/repondre", {"text": "x" * 4001})
    assert response.status_code == 422 and rpc.sent(ReplyExchangeV1) == []
    assert 'role="alert"' in response.text


async def test_the_professionals_thread_marks_her_answer():
    thread = ExchangesReply(notebook_id=NOTEBOOK, beneficiary_name="Sophie Tifour",
                            allowed=["view_exchanges", "post_exchange"], messages=[SHARED, ANSWER])
    html = unescape((await visit(bus(thread=thread, me=PIERRE), f"/carnets/{NOTEBOOK}/echanges")).text)
    assert "Réponse de la personne accompagnée à Pierre Chevalier" in html
    assert "Répondre à ce message" not in html
    assert html.count("Partagé avec la personne") == 2  # the original's note and the form's checkbox label
