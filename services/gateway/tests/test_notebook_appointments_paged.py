"""The notebook page's appointments paged (issue 19): the HTML page asks for every upcoming appointment and the
10 latest past ones, and offers « Voir tous les rendez-vous » (a plain link, no script) when there are more; that
list's status forms come back to it; the JSON route still gives them all unless asked, with a notebook service
answering in memory."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from html import unescape

import httpx
import pytest
from pydantic_core import to_jsonable_python

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
from gateway.config import GatewaySettings
from gateway.main import create_app

pytestmark = pytest.mark.unit
TERRITORY, NOTEBOOK, ME = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
NOW = datetime.now(UTC)
AUTH = {"Authorization": "Bearer eyJ.access.token"}


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


class FakeRpc:
    """Stands for the RPC client: records the requests, answers the page it is given."""

    def __init__(self, more: bool) -> None:
        self.page, self.requests = page(more), []

    async def call(self, request, *, headers=None, timeout_s=None):
        self.requests.append(request)
        if isinstance(request, GetMeV1):
            return MeReply(account_id=uuid.uuid4(), email="pro@carnet.fr", phone=None, role=Role.professional,
                           deployment_id=TERRITORY, profile_id=ME, structure_ids=[], firstname="Pierre",
                           lastname="Chevalier")
        if isinstance(request, GetNotebookPageV1):
            return self.page
        if isinstance(request, GetReferentialsV1):
            return Referentials(themes={}, focus_themes=[], target_themes={}, situations=[], targets=[], actions=[])
        if isinstance(request, UpdateAppointmentV1):
            return VersionReply(id=request.appointment_id, version=2)
        assert isinstance(request, ListExchangesV1)
        return ExchangesReply(notebook_id=NOTEBOOK, unread=0, messages=[])

    async def call_json(self, request, *, headers=None, timeout_s=None) -> bytes:
        return json.dumps(to_jsonable_python(await self.call(request, headers=headers))).encode()

    def pages_asked(self) -> list[GetNotebookPageV1]:
        return [r for r in self.requests if isinstance(r, GetNotebookPageV1)]


async def answer(rpc: FakeRpc, method: str, path: str, **kwargs) -> httpx.Response:
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = rpc
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                                 cookies={"carnet_csrf": "jeton"}) as client:
        return await client.request(method, path, headers=AUTH, **kwargs)


def link_to_all(html: str) -> str | None:
    start = html.find("Voir tous les rendez-vous")
    if start < 0:
        return None
    href = html.rfind('href="', 0, start)
    return unescape(html[href + 6:html.index('"', href + 6)])


async def test_the_page_shows_the_latest_appointments_and_links_to_all_of_them():
    rpc = FakeRpc(more=True)

    html = (await answer(rpc, "GET", f"/carnets/{NOTEBOOK}", params={"historique": "focus"})).text

    assert rpc.pages_asked()[0].past_appointments_limit == 10
    assert link_to_all(html) == f"/carnets/{NOTEBOOK}?historique=focus&rendez-vous=tous#rendez-vous"
    assert f'action="/carnets/{NOTEBOOK}/statut-rendez-vous"' in html


async def test_every_appointment_is_shown_by_the_link_and_its_forms_come_back_to_it():
    rpc = FakeRpc(more=False)

    html = (await answer(rpc, "GET", f"/carnets/{NOTEBOOK}", params={"rendez-vous": "tous"})).text

    assert rpc.pages_asked()[0].past_appointments_limit is None
    assert link_to_all(html) is None and html.count('name="appointment_id"') == 3
    assert f'action="/carnets/{NOTEBOOK}/statut-rendez-vous?rendez-vous=tous"' in html
    back = await answer(rpc, "POST", f"/carnets/{NOTEBOOK}/statut-rendez-vous?rendez-vous=tous", data={
        "csrf": "jeton", "appointment_id": str(rpc.page.appointments[0].appointment_id), "version": "1",
        "at": rpc.page.appointments[0].at.isoformat(), "status": "present"})
    assert back.status_code == 303
    assert back.headers["location"] == f"/carnets/{NOTEBOOK}?notice=appointment&rendez-vous=tous#rendez-vous"


async def test_no_link_when_every_appointment_is_shown():
    rpc = FakeRpc(more=False)

    html = (await answer(rpc, "GET", f"/carnets/{NOTEBOOK}")).text

    assert link_to_all(html) is None and html.count('name="appointment_id"') == 3


async def test_the_json_page_gives_every_appointment_unless_asked():
    rpc = FakeRpc(more=True)

    assert (await answer(rpc, "GET", f"/api/v1/notebooks/{NOTEBOOK}")).status_code == 200
    limited = await answer(rpc, "GET", f"/api/v1/notebooks/{NOTEBOOK}", params={"past_appointments_limit": 3})
    refused = await answer(rpc, "GET", f"/api/v1/notebooks/{NOTEBOOK}", params={"past_appointments_limit": -1})

    assert [r.past_appointments_limit for r in rpc.pages_asked()] == [None, 3]
    assert limited.json()["appointments_more"] is True and refused.status_code == 422
