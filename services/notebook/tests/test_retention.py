"""Retention in the notebook service (issue 21), on SQLite and PostgreSQL: the policy (managers of the territory, 1 to
36 months), what is due (old activity, no extension), the run (recorded and announced once, ids only), the values a
purging service may ask for, and the erasure once every service confirmed — the pilotage row kept, names wiped."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from contracts import notebook as c
from contracts import pilotage as p
from contracts.base import ErrorCode
from contracts.identity import Role
from contracts.profiles import DeploymentCreatedV1, ManagerCreatedV1
from contracts.retention import (
    ExtendRetentionV1,
    GetRetentionSubjectV1,
    GetRetentionV1,
    IdentityRetentionPurgedV1,
    ImportRetentionPurgedV1,
    NotifyRetentionPurgedV1,
    RetentionDueV1,
    RunRetentionV1,
    SetRetentionV1,
)
from notebook.adapters.orm import Beneficiary, ExportJob, Notebook, PilotageNotebook, SavedQueryRow, TimelineEvent
from notebook.adapters.retention_orm import RetentionPurge
from notebook.config import DEV_SECRET, NotebookSettings
from notebook.domain.protection import FieldProtection
from notebook.handlers import pilotage_facts, retention
from notebook.handlers.deps import Deps
from testkit.clock import paris_today
from testkit.handlers import InMemoryService, refused

LONG_AGO = datetime.now(UTC) - timedelta(days=100)


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


async def manager_of(notebook: InMemoryService, token_mint) -> tuple[uuid.UUID, str]:
    deployment, manager_id = uuid.uuid4(), uuid.uuid4()
    await notebook.deliver(DeploymentCreatedV1(deployment_id=deployment, label="Drôme", department_code="26"))
    await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=deployment, firstname="Marie",
                                            lastname="Gérante", email=f"g-{uuid.uuid4().hex[:6]}@cd26.fr"))
    return deployment, token_mint.token(Role.manager, deployment_id=deployment, profile_id=manager_id)


async def beneficiary(notebook: InMemoryService, manager: str, lastname: str, *, idle: bool) -> uuid.UUID:
    nir = f"2850226{uuid.uuid4().int % 10**6:06d}" if idle else ""  # the database is shared by the tests
    created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Anne", lastname=lastname, date_of_birth=date(1985, 2, 3), email=f"{lastname.lower()}@exemple.fr",
        mobile_number="06 11 22 33 44" if idle else "", nir=nir)), manager)
    if idle:
        async with notebook.sessions.begin() as session:
            await session.execute(update(TimelineEvent).where(TimelineEvent.notebook_id == created.notebook_id)
                                  .values(occurred_at=LONG_AGO))
            await session.execute(update(Notebook).where(Notebook.id == created.notebook_id)
                                  .values(updated_at=LONG_AGO))
    return created.notebook_id


async def test_managers_of_the_territory_set_1_to_36_months_and_extend_with_a_reason(notebook, token_mint):
    deployment, manager = await manager_of(notebook, token_mint)
    _, other_manager = await manager_of(notebook, token_mint)
    pro = token_mint.token(Role.professional, deployment_id=deployment, profile_id=uuid.uuid4())
    assert (await notebook.call(GetRetentionV1(), manager)).months == 24
    assert (await refused(notebook.call(SetRetentionV1(months=37), manager))).code == ErrorCode.invalid
    assert (await refused(notebook.call(SetRetentionV1(months=0), manager))).code == ErrorCode.invalid
    assert (await refused(notebook.call(GetRetentionV1(), pro))).code == ErrorCode.forbidden
    assert (await notebook.call(SetRetentionV1(months=1), manager)).months == 1
    assert (await notebook.call(GetRetentionV1(), other_manager)).months == 24  # per territory

    idle = await beneficiary(notebook, manager, "Dormant", idle=True)
    await beneficiary(notebook, manager, "Actif", idle=False)
    [due] = (await notebook.call(GetRetentionV1(), manager)).due
    assert due.notebook_id == idle and due.beneficiary_name == "Anne Dormant"

    until = paris_today() + timedelta(days=30)
    assert (await refused(notebook.call(ExtendRetentionV1(notebook_id=idle, until=until, reason=""),
                                        manager))).code == ErrorCode.invalid
    assert (await refused(notebook.call(ExtendRetentionV1(notebook_id=idle, until=until, reason="Contentieux"),
                                        other_manager))).code == ErrorCode.not_found
    await notebook.call(ExtendRetentionV1(notebook_id=idle, until=until, reason="Contentieux"), manager)
    policy = await notebook.call(GetRetentionV1(), manager)
    assert policy.due == [] and [(e.reason, e.extended_by_name) for e in policy.extensions] == [
        ("Contentieux", "Marie Gérante")]
    assert (await notebook.call(RunRetentionV1())).due == []


async def test_a_notebook_due_is_announced_once_with_ids_and_erased_when_every_service_confirmed(
        notebook, token_mint):
    deployment, manager = await manager_of(notebook, token_mint)
    await notebook.call(SetRetentionV1(months=1), manager)
    idle = await beneficiary(notebook, manager, "Dormant", idle=True)
    kept = await beneficiary(notebook, manager, "Actif", idle=False)
    async with notebook.sessions.begin() as session:
        await pilotage_facts.refresh_many(session, [idle, kept])
        before = await session.scalar(select(func.count()).select_from(PilotageNotebook).where(
            PilotageNotebook.deployment_id == deployment))

    assert (await notebook.call(RunRetentionV1(dry_run=True))).due == [idle]
    assert await notebook.events(RetentionDueV1.subject) == []
    assert (await notebook.call(RunRetentionV1())).due == [idle]
    [announced] = await notebook.events(RetentionDueV1.subject)
    assert announced.notebook_id == idle and "Dormant" not in announced.model_dump_json()
    assert (await notebook.call(RunRetentionV1())).due == []  # once

    subject = await notebook.call(GetRetentionSubjectV1(notebook_id=idle))
    assert (subject.known, subject.lastname, subject.nir[:7], subject.emails) == (
        True, "Dormant", "2850226", ["dormant@exemple.fr"])
    assert "+33611223344" in subject.phones
    assert (await refused(notebook.call(GetRetentionSubjectV1(notebook_id=kept)))).code == ErrorCode.not_found

    for confirmation in (IdentityRetentionPurgedV1(notebook_id=idle), NotifyRetentionPurgedV1(notebook_id=idle)):
        await notebook.deliver(confirmation)
    async with notebook.sessions() as session:
        assert await session.get(Notebook, idle) is not None  # the import service has not confirmed yet
    await notebook.deliver(ImportRetentionPurgedV1(notebook_id=idle))
    async with notebook.sessions.begin() as session:
        assert await session.get(Notebook, idle) is None and await session.get(Notebook, kept) is not None
        assert await session.get(Beneficiary, subject.beneficiary_id) is None
        assert await session.scalar(select(func.count()).select_from(TimelineEvent).where(
            TimelineEvent.notebook_id == idle)) == 0
        assert (await session.get(RetentionPurge, idle)).purged_at is not None
        await pilotage_facts.refresh_many(session, [idle, kept])  # a late recompute keeps the frozen row
        row = await session.get(PilotageNotebook, idle)
        assert (row.lastname, row.firstname, row.date_of_birth) == ("Anonymisé", "", None)
        assert await session.scalar(select(func.count()).select_from(PilotageNotebook).where(
            PilotageNotebook.deployment_id == deployment)) == before
    assert (await notebook.call(GetRetentionSubjectV1(notebook_id=idle))).known is False
    assert (await notebook.call(GetRetentionV1(), manager)).purged == 1


async def test_a_saved_query_and_an_export_named_after_her_lose_her_name_the_others_stay(notebook, token_mint):
    """A manager may name a query after the person it follows (« Suivi Quiescent »); its exports' labels carry that
    name. The purge keeps the query and the export record, without her name."""
    _, manager = await manager_of(notebook, token_mint)
    await notebook.call(SetRetentionV1(months=1), manager)
    idle = await beneficiary(notebook, manager, "Quiescent", idle=True)
    hers = (await notebook.call(p.SaveQueryV1(name="Suivi Quiescent", shared=True), manager)).query
    other = (await notebook.call(p.SaveQueryV1(name="Sans CER"), manager)).query
    named = (await notebook.call(p.StartExportV1(list_name=p.ExportList.beneficiaries, query_id=hers.query_id),
                                 manager)).export
    kept = (await notebook.call(p.StartExportV1(list_name=p.ExportList.beneficiaries, query_id=other.query_id),
                                manager)).export
    assert "Quiescent" in named.label

    assert idle in (await notebook.call(RunRetentionV1())).due
    for confirmation in (IdentityRetentionPurgedV1, NotifyRetentionPurgedV1, ImportRetentionPurgedV1):
        await notebook.deliver(confirmation(notebook_id=idle))
    async with notebook.sessions() as session:
        assert await session.get(Notebook, idle) is None
        assert (await session.get(ExportJob, named.export_id)).label == ""
        assert (await session.get(ExportJob, kept.export_id)).label == kept.label
        renamed = await session.get(SavedQueryRow, hers.query_id)
        assert renamed is not None and "quiescent" not in renamed.name.lower() and renamed.name
        assert (await session.get(SavedQueryRow, other.query_id)).name == "Sans CER"


async def test_the_night_runs_once_from_its_hour_whatever_the_replicas(notebook, token_mint):
    _, manager = await manager_of(notebook, token_mint)
    await notebook.call(SetRetentionV1(months=1), manager)
    idle = await beneficiary(notebook, manager, "Nocturne", idle=True)
    deps = night_deps(notebook)
    day = datetime(2031, 5, 4, tzinfo=ZoneInfo("Europe/Paris"))  # a night no other test claims
    assert await retention.night(deps, day.replace(hour=0, minute=30)) is None  # before the hour
    first, second = await asyncio.gather(retention.night(deps, day.replace(hour=1, minute=5)),
                                         retention.night(deps, day.replace(hour=3)))
    runs = [r for r in (first, second) if r is not None]
    assert len(runs) == 1 and idle in runs[0].due
    assert [e.notebook_id for e in await notebook.events(RetentionDueV1.subject)].count(idle) == 1


def night_deps(notebook: InMemoryService) -> Deps:
    return Deps(sessions=notebook.sessions, outbox=notebook.service.outbox, settings=NotebookSettings(),
                verifier=notebook.service.verifier, protection=FieldProtection(DEV_SECRET.encode()))
