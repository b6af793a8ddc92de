"""The beneficiary's home page at a glance (issue 20): his next appointment (date, time, with whom), the messages
shared with him (how many, the latest, a link to them), his CER's state and end, his référent with her e-mail and
phone — read from what /mon-carnet already asks (the notebook page and the messages shared with him), each linking to
his own pages, names printed as text; without a notebook the home still shows its links."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest

from contracts.exchanges import ExchangesReply, ExchangeView, ListExchangesV1
from contracts.identity import GetMeV1, MeReply, Role
from contracts.notebook import (
    Access,
    AppointmentView,
    BeneficiaryView,
    ContractLink,
    ContractStatus,
    ContractSummary,
    GetNotebookPageV1,
    MemberType,
    MemberView,
    NotebookPage,
    PersonRef,
)
from gateway.web.formatting import PARIS
from services.gateway.tests.fake_bus import FakeRpc, visit
from servicekit.errors import NotFound

pytestmark = pytest.mark.unit
NOTEBOOK = uuid.uuid4()
NOW = datetime.now(UTC)
TODAY = date.today()
HOSTILE = '<script>alert("x")</script>'
SEBASTIEN = MeReply(account_id=uuid.uuid4(), email="beneficiaire2@demo.carnet.test", phone=None,
                    role=Role.beneficiary, deployment_id=uuid.uuid4(), profile_id=uuid.uuid4(),
                    firstname="Sébastien", lastname="Dupont")


def referent(**contact) -> PersonRef:
    return PersonRef(person_id=uuid.uuid4(), firstname="Paul", lastname="Camara", structure_name="CCAS de Lyon",
                     **contact)


def his_notebook(**update) -> NotebookPage:
    paul = referent(email="pro5@demo.carnet.test", phone="+33612345678")
    return NotebookPage(
        notebook_id=NOTEBOOK, deployment_id=SEBASTIEN.deployment_id, access=Access.full,
        beneficiary=BeneficiaryView(beneficiary_id=uuid.uuid4(), version=1, firstname="Sébastien",
                                    lastname="Dupont", date_of_birth=date(1985, 3, 2)),
        members=[MemberView(member_id=uuid.uuid4(), person=paul, member_type=MemberType.referent,
                            started_at=NOW - timedelta(days=60))],
        appointments=[
            AppointmentView(appointment_id=uuid.uuid4(), person=paul, at=NOW + timedelta(days=9),
                            status="planned", version=1),
            AppointmentView(appointment_id=uuid.uuid4(), person=paul, at=NOW + timedelta(days=2),
                            status="planned", version=1)],
        contracts=[ContractSummary(contract_id=uuid.uuid4(), kind=ContractLink.cer, status=ContractStatus.signed,
                                   active=True, start_date=TODAY - timedelta(days=30),
                                   end_date=TODAY + timedelta(days=150))],
        allowed=["view_full", "view_contracts", "view_shared_exchanges"]).model_copy(update=update)


def shared(*authors: str) -> ExchangesReply:
    return ExchangesReply(notebook_id=NOTEBOOK, messages=[
        ExchangeView(exchange_id=uuid.uuid4(), author_name=author, created_at=NOW - timedelta(days=len(authors) - i),
                     text="Bonjour", shared_with_beneficiary=True) for i, author in enumerate(authors)])


def bus(page=None, exchanges=None) -> FakeRpc:
    return FakeRpc({GetMeV1: SEBASTIEN, GetNotebookPageV1: page or his_notebook(),
                    ListExchangesV1: exchanges or shared("Paul CAMARA", HOSTILE)})


def glance(html: str) -> dict[str, str]:
    """Each entry of « Mon carnet en bref »: its text, tags taken out."""
    band = html.split('aria-labelledby="t-my-summary"', 1)[1].split("</section>", 1)[0]
    return {key: " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())
            for key, body in re.findall(r'data-summary="(\w+)">(.*?)</div>', band, re.S)}


async def test_his_home_shows_his_next_appointment_messages_cer_and_referent():
    rpc = bus()
    page = await visit(rpc, "/")
    assert page.status_code == 200, page.text
    items = glance(page.text)
    coming = (NOW + timedelta(days=2)).astimezone(PARIS)
    assert list(items) == ["appointment", "exchanges", "cer", "referent"]
    assert items["appointment"] == (f"Mon prochain rendez-vous {coming:%d/%m/%Y} à {coming:%H:%M} "
                                    "Avec Paul CAMARA")
    latest = (NOW - timedelta(days=1)).astimezone(PARIS)
    assert items["exchanges"] == (f"Messages 2 messages partagés avec moi Le dernier le {latest:%d/%m/%Y}, "
                                  f"de {HOSTILE}")
    end = TODAY + timedelta(days=150)
    assert items["cer"] == (f"Mon contrat d'engagement (CER) En vigueur Du {TODAY - timedelta(days=30):%d/%m/%Y} "
                            f"au {end:%d/%m/%Y}")
    assert items["referent"] == ("Mon référent Paul CAMARA CCAS de Lyon Contact : écrire à pro5@demo.carnet.test "
                                 "ou appeler le 06 12 34 56 78")
    for href in ('href="/mon-carnet#rendez-vous"', 'href="/mon-carnet/echanges"', 'href="/mon-carnet#contrats"',
                 'href="/mon-carnet#groupe"', 'href="mailto:pro5@demo.carnet.test"', 'href="tel:+33612345678"'):
        assert href in page.text
    assert HOSTILE not in page.text  # the author's name printed as text
    # What /mon-carnet asks, no more: his notebook (without its history nor its past appointments, the home shows
    # only the next one) and the messages shared with him.
    assert [type(r) for r in rpc.asked] == [GetMeV1, GetNotebookPageV1, ListExchangesV1]
    asked = rpc.sent(GetNotebookPageV1)[0]
    assert (asked.notebook_id, asked.timeline_limit, asked.past_appointments_limit) == (None, 1, 0)
    assert rpc.sent(ListExchangesV1)[0].mark_read is False  # the home does not mark them read


async def test_nothing_planned_nor_shared_nor_signed_reads_plainly():
    waiting = his_notebook(members=[], appointments=[], contracts=[])
    items = glance((await visit(bus(waiting, ExchangesReply(notebook_id=NOTEBOOK)), "/")).text)
    assert items == {"appointment": "Mon prochain rendez-vous Aucun rendez-vous prévu",
                     "exchanges": "Messages Aucun message",
                     "cer": "Mon contrat d'engagement (CER) Aucun CER",
                     "referent": "Mon référent Aucun accompagnement pour le moment"}


async def test_a_referent_without_email_nor_phone_has_no_contact_line():
    quiet = his_notebook(members=[MemberView(member_id=uuid.uuid4(), person=referent(),
                                             member_type=MemberType.referent, started_at=NOW)])
    items = glance((await visit(bus(quiet), "/")).text)
    assert items["referent"] == "Mon référent Paul CAMARA CCAS de Lyon"


async def test_without_a_notebook_his_home_still_shows_its_links():
    rpc = FakeRpc({GetMeV1: SEBASTIEN, GetNotebookPageV1: NotFound("Carnet introuvable.")})
    page = await visit(rpc, "/")
    assert page.status_code == 200, page.text
    assert "Mon carnet en bref" not in page.text
    assert '<a href="/mon-carnet">Mon carnet de bord</a>' in page.text


async def test_a_professionals_home_asks_for_no_notebook():
    rpc = FakeRpc({GetMeV1: SEBASTIEN.model_copy(update={"role": Role.professional})})
    page = await visit(rpc, "/")
    assert page.status_code == 200, page.text
    assert "Mon carnet en bref" not in page.text and rpc.sent(GetNotebookPageV1) == []
