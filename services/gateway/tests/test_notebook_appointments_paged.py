"""The notebook page's appointments paged (issue 19): the HTML page asks for every upcoming appointment and the
10 latest past ones, and offers « Voir tous les rendez-vous » (a plain link, no script) when there are more; that
list's status forms come back to it; the JSON route still gives them all unless asked, with a notebook service
answering in memory."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest

from contracts.exchanges import ExchangesReply, ListExchangesV1
from contracts.identity import GetMeV1, MeReply, Role
from contracts.notebook import (
    Access,
    AppointmentView,
    BeneficiaryView,
    GetNotebookPageV1,
    GetReferentialsV1,
    NotebookPage,
    PersonRef,
    Referentials,
    UpdateAppointmentV1,
    VersionReply,
)
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
TERRITORY, NOTEBOOK, ME = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
NOW = datetime.now(UTC)


def page(more: bool) -> NotebookPage:
    pierre = PersonRef(person_id=ME, firstname="Pierre", lastname="Chevalier")
    return NotebookPage(
        notebook_id=NOTEBOOK, deployment_id=TERRITORY, access=Access.full,
        beneficiary=BeneficiaryView(beneficiary_id=uuid.uuid4(), version=1, firstname="Sophie", lastname="Tifour",
                                    date_of_birth=date(1981, 1, 11)),
        appointments=[AppointmentView(appointment_id=uuid.uuid4(), person=pierre, at=NOW - timedelta(days=days),
                                      status="planned" if days < 0 else "present", version=1)
                      for days in (-7, 3, 10)],
        appointments_more=more, allowed=["manage_appointments"])


def bus(more: bool) -> FakeRpc:
    me = MeReply(account_id=uuid.uuid4(), email="pro@carnet.fr", phone=None, role=Role.professional,
                 deployment_id=TERRITORY, profile_id=ME, structure_ids=[], firstname="Pierre", lastname="Chevalier")
    return FakeRpc({
        GetMeV1: me, GetNotebookPageV1: page(more),
        GetReferentialsV1: Referentials(themes={}, focus_themes=[], target_themes={}, situations=[], targets=[],
                                        actions=[]),
        UpdateAppointmentV1: lambda request: VersionReply(id=request.appointment_id, version=2),
        ListExchangesV1: ExchangesReply(notebook_id=NOTEBOOK, unread=0, messages=[])})


def link_to_all(html: str) -> str | None:
    start = html.find("Voir tous les rendez-vous")
    if start < 0:
        return None
    href = html.rfind('href="', 0, start)
    return unescape(html[href + 6:html.index('"', href + 6)])


async def test_the_page_shows_the_latest_appointments_and_links_to_all_of_them():
    rpc = bus(more=True)

    html = (await visit(rpc, f"/carnets/{NOTEBOOK}?historique=focus")).text

    assert rpc.sent(GetNotebookPageV1)[0].past_appointments_limit == 10
    assert link_to_all(html) == f"/carnets/{NOTEBOOK}?historique=focus&rendez-vous=tous#rendez-vous"
    assert f'action="/carnets/{NOTEBOOK}/statut-rendez-vous"' in html


async def test_every_appointment_is_shown_by_the_link_and_its_forms_come_back_to_it():
    rpc = bus(more=False)
    shown = rpc.answers[GetNotebookPageV1].appointments[0]

    html = (await visit(rpc, f"/carnets/{NOTEBOOK}?rendez-vous=tous")).text

    assert rpc.sent(GetNotebookPageV1)[0].past_appointments_limit is None
    assert link_to_all(html) is None and html.count('name="appointment_id"') == 3
    assert f'action="/carnets/{NOTEBOOK}/statut-rendez-vous?rendez-vous=tous"' in html
    back = await visit(rpc, f"/carnets/{NOTEBOOK}/statut-rendez-vous?rendez-vous=tous", {
        "appointment_id": str(shown.appointment_id), "version": "1", "at": shown.at.isoformat(),
        "status": "present"})
    assert back.status_code == 303
    assert back.headers["location"] == f"/carnets/{NOTEBOOK}?notice=appointment&rendez-vous=tous#rendez-vous"


async def test_no_link_when_every_appointment_is_shown():
    rpc = bus(more=False)

    html = (await visit(rpc, f"/carnets/{NOTEBOOK}")).text

    assert link_to_all(html) is None and html.count('name="appointment_id"') == 3


async def test_the_json_page_gives_every_appointment_unless_asked():
    rpc = bus(more=True)

    assert (await visit(rpc, f"/api/v1/notebooks/{NOTEBOOK}")).status_code == 200
    limited = await visit(rpc, f"/api/v1/notebooks/{NOTEBOOK}?past_appointments_limit=3")
    refused = await visit(rpc, f"/api/v1/notebooks/{NOTEBOOK}?past_appointments_limit=-1")

    assert [r.past_appointments_limit for r in rpc.sent(GetNotebookPageV1)] == [None, 3]
    assert limited.json()["appointments_more"] is True and refused.status_code == 422
