"""Exports of the lists (issue 18): recorded by ``start_export`` with ``notebook.export.requested.v1`` in the same
transaction, written in the background by the worker (durable ``notebook-exports``), followed and downloaded by
whoever asked, and listed for the territory's managers (who exported what, with which filter, how many rows).

The worker reads the rows the asker may see (``pilotage_query.scope_of`` as of the request: her territory, her
structures, or the notebooks she follows), writes them into a temporary file (``adapters.export_files``), updating
its progress every few thousand rows in short transactions of their own, then streams the file into the object
store, where it is kept 7 days. A job already done is not redone on redelivery; one left running by a replica that
died (no progress for ``LEASE``) starts over.

The imports' list belongs to the import service: it is read when the export is asked, with the asker's token
(which the background would not have any more), and written at once (200 imports at most)."""
from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.imports import ListImportsV1
from contracts.pilotage import (
    EXPORTS_BUCKET,
    BeneficiaryFilters,
    ExportFileReply,
    ExportFormat,
    ExportList,
    ExportReply,
    ExportRequestedV1,
    ExportsReply,
    ExportState,
    ExportView,
    GetExportFileV1,
    GetExportV1,
    ListExportsV1,
    StartExportV1,
)
from notebook.adapters import audit_trail, export_files
from notebook.adapters import pilotage_query as pq
from notebook.adapters.orm import (
    Action,
    Appointment,
    Beneficiary,
    BeneficiaryStructure,
    ExportJob,
    Focus,
    Member,
    Notebook,
    OrientationRequest,
    OrientationSystemRead,
    Person,
    PilotageAction,
    RefTheme,
    SavedQueryRow,
    StructureRead,
    Target,
)
from notebook.domain import export_lists as lists
from notebook.handlers.caller import Caller, caller_of, name_of
from notebook.handlers.deps import Deps
from notebook.handlers.search import has_current_structure, is_member
from servicekit.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from servicekit.objects import bucket, put_stream

log = structlog.get_logger("notebook.exports")

CONSUMER = "notebook-exports"
EXPORT_NOT_FOUND = "Cet export n'existe pas."
QUERY_NOT_FOUND = "Cette requête enregistrée n'existe pas."
NOT_READY = "L'export n'est pas encore terminé : le fichier sera disponible dans un instant."
FAILED = "Cet export a échoué : relancez-le."
GONE = "Ce fichier n'est plus disponible : les exports sont gardés 7 jours. Relancez l'export."
WRITE_FAILED = "L'export n'a pas pu être écrit. Relancez-le ; si l'erreur revient, signalez-la au support."
LEASE = timedelta(minutes=2)  # a running export that has not progressed for this long was left by a dead replica
PROGRESS_EVERY = 5000  # rows between two progress updates
BATCH = 1000
MAX_FILE_BYTES = 1024 ** 3
# Roles that may run an export at all (each list narrows further: domain.export_lists.ALLOWED).
EXPORT_ROLES = lists.TERRITORY_ROLES


class StillRunning(Exception):
    """Another replica is writing this export: the event comes back later (NAK), in case that replica dies."""


# --- Who sees which export ---------------------------------------------------------------------------------------

def owner_id(caller: Caller) -> uuid.UUID:
    return caller.profile_id or caller.account_id


def visible(caller: Caller):
    """Conditions on ExportJob: one's own exports; a manager every export of her territory; admin_cdb all."""
    if caller.role == Role.admin_cdb:
        return []
    mine = ExportJob.requested_by == owner_id(caller)
    if caller.role == Role.manager and caller.deployment_id is not None:
        return [or_(mine, ExportJob.deployment_id == caller.deployment_id)]
    return [mine]


def state_of(job: ExportJob, now: datetime) -> ExportState:
    if job.state == ExportState.done.value and job.expires_at is not None and job.expires_at <= now:
        return ExportState.expired
    return ExportState(job.state)


def view_of(job: ExportJob, now: datetime, names: dict[uuid.UUID, str] | None = None) -> ExportView:
    filters = BeneficiaryFilters.model_validate(job.filters or {})
    return ExportView(filters_summary=lists.filters_summary(filters, lambda i: (names or {}).get(i, "")),
        export_id=job.id, list_name=ExportList(job.list_name), format=ExportFormat(job.format), label=job.label,
        filters=filters, state=state_of(job, now),
        rows_total=job.rows_total, rows_done=job.rows_done, requested_by_name=job.requested_by_name,
        requested_at=job.requested_at, finished_at=job.finished_at, expires_at=job.expires_at,
        filename=job.filename, error=job.error)


async def names_of(session: AsyncSession, jobs) -> dict[uuid.UUID, str]:
    """The names of the structures, référents and orientation systems the jobs' filters name."""
    ids: set[uuid.UUID] = set()
    for job in jobs:
        filters = BeneficiaryFilters.model_validate(job.filters or {})
        ids.update(filters.structure_ids, filters.referent_ids, filters.orientation_system_ids)
    if not ids:
        return {}
    names = dict((await session.execute(select(StructureRead.id, StructureRead.name)
                                        .where(StructureRead.id.in_(ids)))).all())
    names.update((i, f"{first} {last}".strip()) for i, first, last in (await session.execute(
        select(Person.id, Person.firstname, Person.lastname).where(Person.id.in_(ids)))).all())
    names.update((await session.execute(select(OrientationSystemRead.id, OrientationSystemRead.name)
                                        .where(OrientationSystemRead.id.in_(ids)))).all())
    return names


async def visible_job(session: AsyncSession, caller: Caller, export_id: uuid.UUID) -> ExportJob:
    job = (await session.execute(select(ExportJob).where(ExportJob.id == export_id, *visible(caller))))\
        .scalar_one_or_none()
    if job is None:  # someone else's, or another territory's: the same answer as an unknown id
        raise NotFound(EXPORT_NOT_FOUND)
    return job


# --- RPCs ----------------------------------------------------------------------------------------------------------

async def saved_filters(session: AsyncSession, caller: Caller, query_id: uuid.UUID) -> tuple[BeneficiaryFilters, str]:
    """A saved query the caller may re-run (hers, or shared in her territory): its filters and name."""
    query = await session.get(SavedQueryRow, query_id)
    if query is None or not (query.owner_id == owner_id(caller) or (
            query.shared and (caller.role == Role.admin_cdb or query.deployment_id == caller.deployment_id))):
        raise NotFound(QUERY_NOT_FOUND, details={"field": "query_id"})
    return BeneficiaryFilters.model_validate(query.filters or {}), query.name


async def start_export(request: StartExportV1, ctx, deps: Deps) -> ExportReply:
    caller = await caller_of(ctx, deps)
    if caller.role not in EXPORT_ROLES or not lists.may_export(caller.role, request.list_name):
        raise Forbidden(lists.NOT_ALLOWED, details={"list": request.list_name.value})
    scope = pq.scope_of(caller, request.deployment_id)
    filters, query_name, changed = request.filters, "", False
    imports = None
    if request.list_name == ExportList.imports:
        imports = await imports_of(deps, ctx)
    now = deps.clock()
    async with deps.sessions.begin() as session:
        if request.query_id is not None:
            if request.list_name != ExportList.beneficiaries:
                raise Invalid(lists.FILTERS_ONLY_FOR_BENEFICIARIES, details={"field": "query_id"})
            saved, query_name = await saved_filters(session, caller, request.query_id)
            # The query's page sends what it shows: its filters, or the user's changes to them since opening it.
            if filters == BeneficiaryFilters():
                filters = saved
            changed = filters != saved
        if request.list_name == ExportList.actions:
            pq.action_conditions(filters, scope)  # the actions' list's filters (a dashboard's drill-down) only
        elif request.list_name == ExportList.beneficiaries:
            pq.conditions(filters, scope)  # refused now (an action's status), not failed in the background
        elif request.list_name != ExportList.beneficiaries and filters != BeneficiaryFilters():
            raise Invalid(lists.FILTERS_ONLY_FOR_BENEFICIARIES, details={"field": "filters"})
        job = ExportJob(
            id=uuid.uuid4(), deployment_id=scope.deployment_id, requested_by=owner_id(caller),
            requested_by_name=await name_of(session, caller), role=caller.role.value,
            structure_ids=[str(s) for s in scope.structure_ids or ()], list_name=request.list_name.value,
            format=request.format.value, filters=filters.model_dump(mode="json"),
            label=lists.label_of(request.list_name, query_name, changed), state=ExportState.queued.value, rows_done=0,
            filename=lists.filename_of(request.list_name, request.format, now), requested_at=now)
        session.add(job)
        await deps.outbox.add(session, audit_trail.line(
            "export.requested", caller, deployment_id=job.deployment_id, target_type="export", target_id=job.id,
            list=job.list_name, format=job.format))
        if imports is None:
            await deps.outbox.add(session, ExportRequestedV1(export_id=job.id, deployment_id=job.deployment_id))
    if imports is not None:
        await write_now(deps, job.id, imports)
        async with deps.sessions() as session:
            job = await session.get(ExportJob, job.id)
    return ExportReply(export=view_of(job, deps.clock()))


async def get_export(request: GetExportV1, ctx, deps: Deps) -> ExportReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        job = await visible_job(session, caller, request.export_id)
        return ExportReply(export=view_of(job, deps.clock(), await names_of(session, [job])))


async def list_exports(request: ListExportsV1, ctx, deps: Deps) -> ExportsReply:
    caller = await caller_of(ctx, deps)
    if caller.role not in EXPORT_ROLES:
        raise Forbidden(lists.NOT_ALLOWED)
    where = visible(caller)
    async with deps.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(ExportJob).where(*where)) or 0
        jobs = (await session.execute(select(ExportJob).where(*where)
                                      .order_by(ExportJob.requested_at.desc(), ExportJob.id)
                                      .offset(request.offset).limit(request.limit))).scalars().all()
        names = await names_of(session, jobs)
    now = deps.clock()
    return ExportsReply(exports=[view_of(j, now, names) for j in jobs], total=total)


async def get_export_file(request: GetExportFileV1, ctx, deps: Deps) -> ExportFileReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        job = await visible_job(session, caller, request.export_id)
    state = state_of(job, deps.clock())
    if state == ExportState.expired:
        raise NotFound(GONE, details={"reason": "expired"})
    if state == ExportState.failed:
        raise Conflict(job.error or FAILED, details={"reason": "failed"})
    if state != ExportState.done:
        raise Conflict(NOT_READY, details={"reason": "not_ready"})
    async with deps.sessions.begin() as session:  # every download, in the audit trail (issue 21)
        await deps.outbox.add(session, audit_trail.line(
            "export.downloaded", caller, deployment_id=job.deployment_id, target_type="export", target_id=job.id,
            list=job.list_name, format=job.format))
    return ExportFileReply(object_name=job.object_name, filename=job.filename,
                           content_type=export_files.CONTENT_TYPES[job.format])


# --- The worker ----------------------------------------------------------------------------------------------------

async def on_export_requested(event: ExportRequestedV1, _meta, deps: Deps) -> None:
    job = await claim(deps, event.export_id)
    if job is not None:
        await run(deps, job)


async def claim(deps: Deps, export_id: uuid.UUID) -> ExportJob | None:
    """The job, marked running by this replica; None when there is nothing to do (unknown, done, failed)."""
    now = deps.clock()
    async with deps.sessions.begin() as session:
        job = await session.get(ExportJob, export_id, with_for_update=True)
        if job is None or job.state in (ExportState.done.value, ExportState.failed.value):
            return None
        if job.state == ExportState.running.value and job.heartbeat_at and now - job.heartbeat_at < LEASE:
            raise StillRunning(str(export_id))
        job.state, job.started_at, job.heartbeat_at = ExportState.running.value, now, now
        job.rows_done, job.error = 0, ""
        return job


def scope_of_job(job: ExportJob) -> pq.PilotageScope:
    """What the asker could see when she asked (her role, territory and structures then)."""
    role = Role(job.role)
    if role == Role.admin_cdb or role in pq.TERRITORY_ROLES:
        return pq.PilotageScope(deployment_id=job.deployment_id)
    if role == Role.admin_structure:
        return pq.PilotageScope(deployment_id=job.deployment_id,
                                structure_ids=tuple(sorted((uuid.UUID(s) for s in job.structure_ids), key=str)))
    return pq.PilotageScope(deployment_id=job.deployment_id, member_id=job.requested_by)


async def progress(deps: Deps, export_id: uuid.UUID, **values: Any) -> None:
    async with deps.sessions.begin() as session:
        await session.execute(update(ExportJob).where(ExportJob.id == export_id)
                              .values(heartbeat_at=deps.clock(), **values))


async def run(deps: Deps, job: ExportJob, lines: AsyncIterator[Sequence[Any]] | None = None) -> None:
    """Writes the job's file (``lines``: given by the imports' export, else read here), stores it, and says
    done, or failed with a French reason."""
    list_name, file_format = ExportList(job.list_name), ExportFormat(job.format)
    filters = BeneficiaryFilters.model_validate(job.filters or {})
    scope = scope_of_job(job)
    name = f"exports/{job.id}.{file_format.value}"
    try:
        if lines is None:
            await progress(deps, job.id, rows_total=await count_rows(deps, list_name, filters, scope))
            lines = lines_of(deps, list_name, filters, scope)
        with tempfile.TemporaryDirectory(prefix="carnet-export-") as directory:
            path = Path(directory) / f"export.{file_format.value}"
            done = await write_file(deps, path, file_format, lists.sheet_of(list_name), lines, job.id)
            await store_file(deps, name, path)
    except Exception as error:
        log.exception("export_failed", export_id=str(job.id))
        reason = error.message if isinstance(error, ServiceError) else WRITE_FAILED
        await progress(deps, job.id, state=ExportState.failed.value, error=reason, finished_at=deps.clock())
        return
    now = deps.clock()
    await progress(deps, job.id, state=ExportState.done.value, rows_done=done, rows_total=done, object_name=name,
                   finished_at=now, expires_at=now + timedelta(days=lists.EXPORT_DAYS))


async def write_file(deps: Deps, path: Path, file_format: ExportFormat, sheet: lists.Sheet,
                     lines: AsyncIterator[Sequence[Any]], export_id: uuid.UUID | None = None) -> int:
    """Writes the lines into ``path`` a batch at a time, off the event loop; progress every PROGRESS_EVERY rows."""
    writer = export_files.open_sheet(path, file_format.value, sheet)
    done, batch, reported = 0, [], 0

    def write_batch(rows: list) -> None:
        for row in rows:
            writer.write(row)

    try:
        async for line in lines:
            batch.append(line)
            if len(batch) >= BATCH:
                await asyncio.to_thread(write_batch, batch)
                done += len(batch)
                batch = []
                if export_id is not None and done - reported >= PROGRESS_EVERY:
                    await progress(deps, export_id, rows_done=done)
                    reported = done
        if batch:
            await asyncio.to_thread(write_batch, batch)
            done += len(batch)
    finally:
        await asyncio.to_thread(writer.close)
    return done


async def store_file(deps: Deps, name: str, path: Path) -> None:
    """Streams the file into the ``exports`` bucket (kept 7 days). Tests without a NATS server replace it."""
    store = await bucket(deps.bus.stream_context, EXPORTS_BUCKET)
    await put_stream(store, name, export_files.file_chunks(path), max_bytes=MAX_FILE_BYTES)


# --- Rows of each list ----------------------------------------------------------------------------------------

def notebook_scope(scope: pq.PilotageScope) -> list:
    """The scope on the write tables (Notebook), for the lists that are not in the pilotage read model."""
    where = []
    if scope.deployment_id is not None:
        where.append(Notebook.deployment_id == scope.deployment_id)
    if scope.structure_ids is not None:
        where.append(has_current_structure(list(scope.structure_ids)) if scope.structure_ids else false())
    if scope.member_id is not None:
        where.append(is_member(scope.member_id))
    return where


PEOPLE_ROLES = (Role.professional.value, Role.orientation_manager.value, Role.admin_structure.value)


def people_query(scope: pq.PilotageScope):
    query = select(Person).where(Person.role.in_(PEOPLE_ROLES))
    if scope.deployment_id is not None:
        query = query.where(Person.deployment_id == scope.deployment_id)
    return query.order_by(Person.lastname, Person.firstname, Person.id)


def in_scope(person: Person, scope: pq.PilotageScope) -> bool:
    return scope.structure_ids is None or person.works_in(scope.structure_ids)


def orientation_requests_query(scope: pq.PilotageScope):
    return (select(OrientationRequest, Beneficiary.lastname, Beneficiary.firstname, Beneficiary.date_of_birth)
            .join(Notebook, Notebook.id == OrientationRequest.notebook_id)
            .join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
            .where(*notebook_scope(scope))
            .order_by(OrientationRequest.created_at.desc(), OrientationRequest.id))


def appointments_query(scope: pq.PilotageScope):
    return (select(Appointment, Beneficiary.lastname, Beneficiary.firstname, Beneficiary.date_of_birth,
                   (Person.firstname + " " + Person.lastname).label("with_name"))
            .join(Notebook, Notebook.id == Appointment.notebook_id)
            .join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
            .outerjoin(Person, Person.id == Appointment.person_id)
            .where(*notebook_scope(scope))
            .order_by(Appointment.at.desc(), Appointment.id))


def actions_query(scope: pq.PilotageScope, filters: BeneficiaryFilters | None = None):
    """The actions, narrowed by the actions' list's filters when given: the rows of the pilotage read model that
    the dashboard counted (``pilotage_query.action_conditions``), with their words from the write tables."""
    query = actions_of(scope)
    if filters is not None and filters != BeneficiaryFilters():
        query = query.where(Action.id.in_(select(PilotageAction.id).where(*pq.action_conditions(filters, scope))))
    return query


def actions_of(scope: pq.PilotageScope):
    return (select(Action, Target.target, Focus.theme, Beneficiary.lastname, Beneficiary.firstname,
                   Beneficiary.date_of_birth)
            .join(Target, Target.id == Action.target_id).join(Focus, Focus.id == Target.focus_id)
            .join(Notebook, Notebook.id == Focus.notebook_id)
            .join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
            .where(Action.deleted_at.is_(None), Target.deleted_at.is_(None), Focus.deleted_at.is_(None),
                   *notebook_scope(scope))
            .order_by(Beneficiary.lastname, Beneficiary.firstname, Action.starting_at, Action.id))


def structures_query(scope: pq.PilotageScope):
    query = select(StructureRead).order_by(StructureRead.name, StructureRead.id)
    if scope.deployment_id is not None:
        query = query.where(StructureRead.deployment_id == scope.deployment_id)
    return query


async def count_rows(deps: Deps, list_name: ExportList, filters: BeneficiaryFilters,
                     scope: pq.PilotageScope) -> int | None:
    async with deps.sessions() as session:
        if list_name == ExportList.beneficiaries:
            return await pq.count(session, filters, scope)
        if list_name == ExportList.actions:
            return await session.scalar(select(func.count()).select_from(
                actions_query(scope, filters).order_by(None).subquery()))
        query = {ExportList.orientation_requests: orientation_requests_query, ExportList.appointments:
                 appointments_query, ExportList.structures: structures_query}.get(list_name)
        if query is None:  # professionals: a structure admin's are filtered on their structures as they are read
            return None
        return await session.scalar(select(func.count()).select_from(query(scope).order_by(None).subquery()))


async def theme_labels(deps: Deps) -> dict[str, str]:
    async with deps.sessions() as session:
        return dict((await session.execute(select(RefTheme.name, RefTheme.label))).all())


async def streamed(deps: Deps, query) -> AsyncIterator[Any]:
    """The rows of ``query`` as the database hands them, a batch at a time (a server-side cursor on PostgreSQL)."""
    async with deps.sessions() as session:
        result = await session.stream(query.execution_options(yield_per=BATCH))
        async for row in result:
            yield row


async def lines_of(deps: Deps, list_name: ExportList, filters: BeneficiaryFilters,
                   scope: pq.PilotageScope) -> AsyncIterator[Sequence[Any]]:
    if list_name == ExportList.beneficiaries:
        labels = await theme_labels(deps)
        async for fact in pq.iterate(deps.sessions, filters, scope, batch=BATCH):
            yield lists.beneficiary_line(fact, labels)
    elif list_name == ExportList.professionals:
        async with deps.sessions() as session:
            structures = dict((await session.execute(select(StructureRead.id, StructureRead.name))).all())
            referent_of = dict((await session.execute(
                select(Member.person_id, func.count()).where(Member.member_type == "referent",
                                                             Member.ended_at.is_(None))
                .group_by(Member.person_id))).all())
        names = {str(k): v for k, v in structures.items()}
        async for row in streamed(deps, people_query(scope)):
            person: Person = row[0]
            if in_scope(person, scope):
                yield lists.person_line(person.lastname, person.firstname, person.role,
                                        [names.get(str(s), "") for s in person.structure_ids], person.email,
                                        person.phone, referent_of.get(person.id, 0), person.deactivated_at is None)
    elif list_name == ExportList.structures:
        async with deps.sessions() as session:
            followed = dict((await session.execute(
                select(BeneficiaryStructure.structure_id, func.count())
                .where(BeneficiaryStructure.status == "current").group_by(BeneficiaryStructure.structure_id))).all())
            people: dict[str, int] = {}
            for ids in (await session.execute(select(Person.structure_ids).where(
                    Person.role.in_(PEOPLE_ROLES), Person.deactivated_at.is_(None),
                    *([Person.deployment_id == scope.deployment_id] if scope.deployment_id else [])))).scalars():
                for s in ids or ():
                    people[str(s)] = people.get(str(s), 0) + 1
        async for row in streamed(deps, structures_query(scope)):
            s: StructureRead = row[0]
            yield (s.name, s.city, s.postal_code, s.phone, s.email, followed.get(s.id, 0), people.get(str(s.id), 0))
    elif list_name == ExportList.orientation_requests:
        async with deps.sessions() as session:
            systems = dict((await session.execute(select(OrientationSystemRead.id, OrientationSystemRead.name))).all())
        async for r, lastname, firstname, born in streamed(deps, orientation_requests_query(scope)):
            yield lists.request_line(lastname, firstname, born, r.created_at, r.requested_by_name,
                                     systems.get(r.requested_orientation_system_id, ""), r.reason, r.status,
                                     r.decided_at, r.decided_by_name, systems.get(r.decided_orientation_system_id, ""),
                                     r.decision_reason)
    elif list_name == ExportList.appointments:
        async for a, lastname, firstname, born, with_name in streamed(deps, appointments_query(scope)):
            yield lists.appointment_line(lastname, firstname, born, a.at, (with_name or "").strip(), a.status,
                                         a.created_at)
    elif list_name == ExportList.actions:
        labels = await theme_labels(deps)
        async for a, target, theme, lastname, firstname, born in streamed(deps, actions_query(scope, filters)):
            yield lists.action_line(lastname, firstname, born, labels.get(theme, theme), target, a.action, a.status,
                                    a.starting_at, a.created_at, a.created_by_name)


# --- The imports' list, written at once ---------------------------------------------------------------------

IMPORTS_PAGE = 200  # ListImportsV1's largest page


async def imports_of(deps: Deps, ctx) -> list:
    """Every import of the caller's scope, as the import service lists them to her (her token forwarded), page
    after page: a territory's daily flux pass 200 imports in a few months."""
    found = []
    while True:
        reply = await deps.bus.client.call(ListImportsV1(offset=len(found), limit=IMPORTS_PAGE),
                                           headers={"Authorization": f"Bearer {ctx.bearer_token}"})
        found += reply.imports
        if len(reply.imports) < IMPORTS_PAGE:
            return found


async def write_now(deps: Deps, export_id: uuid.UUID, imports: list) -> None:
    job = await claim(deps, export_id)
    if job is None:
        return

    async def lines() -> AsyncIterator[Sequence[Any]]:
        for view in imports:
            yield lists.import_line(view)

    await run(deps, job, lines())
