"""Notebooks of partner software in the notebook service (issue 16), through its broker in memory on SQLite and
PostgreSQL: created over HTTP as the manager identity lent the token of (v1's conflicts: 409 with the notebook in the
territory, 400 elsewhere without saying where), and upserted over NATS once per partner message however often it
is delivered, the partner as author and source of every history entry; appointments recorded by the partner's id."""
from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from contracts.base import ErrorCode
from contracts.identity import Role
from contracts.notebook import JoinNotebookV1
from contracts.partners import (
    BAD_REQUEST,
    ApplyPartnerAppointmentV1,
    ApplyPartnerNotebookV1,
    CreatePartnerNotebookV1,
    PartnerAppointment,
    PartnerNotebook,
    PartnerOutcome,
)
from notebook.adapters.orm import Appointment, Beneficiary, TimelineEvent
from testkit.handlers import InMemoryService, refused
from services.notebook.tests.test_imports import a_nir, new_territory, notebook  # noqa: F401  (its territory)

pytestmark = pytest.mark.integration


def partner_notebook(nir: str, **changes) -> PartnerNotebook:
    values = {"nir": nir, "firstname": "Jay", "lastname": "Randévoui", "dateOfBirth": date(1978, 12, 1),
              "city": "Reims", **changes}
    return PartnerNotebook(**values)


async def count(notebook: InMemoryService, query) -> int:
    async with notebook.sessions() as session:
        return await session.scalar(query)


async def test_over_http_a_notebook_is_created_as_the_manager_then_refused_as_v1_did(notebook, token_mint):
    territory, other = await new_territory(notebook, token_mint), await new_territory(notebook, token_mint)
    nir = a_nir("1")
    request = CreatePartnerNotebookV1(partner="rdvi", deployment_id=territory.id, notebook=partner_notebook(nir))
    created = await notebook.call(request, territory.manager_token)

    conflict = await refused(notebook.call(request, territory.manager_token))
    assert conflict.code == ErrorCode.conflict and conflict.details["notebookId"] == str(created.notebook_id)
    elsewhere = await refused(notebook.call(request.model_copy(update={"deployment_id": other.id}),
                                            other.manager_token))
    assert elsewhere.code == ErrorCode.invalid and elsewhere.details["reason"] == BAD_REQUEST
    assert str(territory.id) not in str(elsewhere) and str(created.notebook_id) not in str(elsewhere.details)

    # Only a manager of that very territory: the token identity lends is the manager's.
    for token in (other.manager_token, token_mint.token(Role.professional, deployment_id=territory.id,
                                                        profile_id=territory.pierre)):
        denied = await refused(notebook.call(request.model_copy(update={"notebook": partner_notebook(a_nir())}),
                                             token))
        assert denied.code == ErrorCode.forbidden
    async with notebook.sessions() as session:
        sources = (await session.execute(select(TimelineEvent.source, TimelineEvent.author_name).where(
            TimelineEvent.notebook_id == created.notebook_id))).all()
    assert [source for source, _ in sources] == ["partner"] and sources[0][1] == "Agathe Deblouze"


async def test_over_nats_an_upsert_is_applied_once_however_often_it_comes(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    nir, event_id = a_nir("1"), uuid.uuid4()
    first = ApplyPartnerNotebookV1(partner="rdvi", event_id=event_id, deployment_id=territory.id,
                                   notebook=partner_notebook(nir, mobileNumber="06 12 34 56 78"))
    # Delivered three times, two of them at the same instant: one notebook, one history entry.
    replies = [await notebook.call(first), *await asyncio.gather(notebook.call(first), notebook.call(first))]
    assert [r.outcome for r in replies] == [PartnerOutcome.created] * 3
    assert [r.replayed for r in replies] == [False, True, True]
    notebook_id = replies[0].target_id
    index = select(func.count()).select_from(Beneficiary).where(Beneficiary.deployment_id == territory.id)
    assert await count(notebook, index) == 1

    moved = first.model_copy(update={"event_id": uuid.uuid4(), "notebook": partner_notebook(nir, city="Épernay")})
    assert (await notebook.call(moved)).outcome == PartnerOutcome.updated
    assert (await notebook.call(moved)).replayed
    same = moved.model_copy(update={"event_id": uuid.uuid4()})
    assert (await notebook.call(same)).outcome == PartnerOutcome.unchanged
    async with notebook.sessions() as session:
        beneficiary = await session.scalar(select(Beneficiary).where(Beneficiary.deployment_id == territory.id))
        entries = (await session.execute(select(TimelineEvent.kind, TimelineEvent.source, TimelineEvent.author_name)
                                         .where(TimelineEvent.notebook_id == notebook_id))).all()
    # What the partner left empty (the mobile number) stays.
    assert (beneficiary.city, beneficiary.mobile_number) == ("Épernay", "+33612345678")
    assert sorted(entries) == [("beneficiary", "partner", "Partenaire rdvi"), ("notebook", "partner", "Partenaire rdvi")]

    other = await new_territory(notebook, token_mint)
    elsewhere = await notebook.call(first.model_copy(update={"event_id": uuid.uuid4(), "deployment_id": other.id}))
    assert elsewhere.outcome == PartnerOutcome.rejected and "autre territoire" in elsewhere.reason
    bad = await notebook.call(first.model_copy(update={"event_id": uuid.uuid4(),
                                                       "notebook": partner_notebook(nir + "99")}))
    assert bad.outcome == PartnerOutcome.rejected and "sécurité sociale" in bad.reason


async def test_an_appointment_is_known_by_the_partner_s_id_and_only_with_a_member(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    nir = a_nir("1")
    created = await notebook.call(ApplyPartnerNotebookV1(partner="rdvi", event_id=uuid.uuid4(),
                                                         deployment_id=territory.id, notebook=partner_notebook(nir)))
    pierre = token_mint.token(Role.professional, deployment_id=territory.id, profile_id=territory.pierre)
    await notebook.call(JoinNotebookV1(notebook_id=created.target_id), pierre)
    at = datetime(2026, 12, 15, 9, 30, tzinfo=timezone(timedelta(hours=1)))

    def appointment(status: str, email: str | None = None) -> ApplyPartnerAppointmentV1:
        return ApplyPartnerAppointmentV1(partner="rdvi", event_id=uuid.uuid4(), deployment_id=territory.id,
                                         appointment=PartnerAppointment(
                                             appointmentId="rdv-1", nir=nir, at=at, status=status,
                                             professionalEmail=email or f"PIERRE.{str(territory.id)[:8]}@test.carnet.fr"))

    planned = appointment("planned")
    assert (await notebook.call(planned)).outcome == PartnerOutcome.created
    assert (await notebook.call(planned)).replayed
    present = await notebook.call(appointment("present"))
    assert present.outcome == PartnerOutcome.updated
    async with notebook.sessions() as session:
        [row] = (await session.execute(select(Appointment).where(Appointment.notebook_id == created.target_id))
                 ).scalars().all()
    assert (row.status, row.version, row.person_id) == ("present", 2, territory.pierre)
    stranger = await notebook.call(appointment("planned", email=f"simon.{str(territory.id)[:8]}@test.carnet.fr"))
    assert stranger.outcome == PartnerOutcome.rejected and "groupe de suivi" in stranger.reason
