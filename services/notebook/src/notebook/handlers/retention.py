"""Retention (issue 21): each territory's months without activity, the dry run its managers see, their extensions,
and the nightly run that records each notebook due and publishes ``notebook.retention.due.v1`` (ids only).

The notebook's own rows go last: the other services ask it for the values to look for (``get_retention_subject``),
erase, and confirm (``<owner>.retention.purged.v1``); once all of ``PURGING_SERVICES`` confirmed, every row of
the notebook and its beneficiary is deleted here. The pilotage read model keeps the notebook's row, names wiped and
frozen (``pilotage_facts`` skips purged notebooks), so that the dashboards' counts stay as they were.

The night runs once across replicas: its run is claimed in the inbox (one key per Paris night), like France
Travail's nightly refresh."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.retention import (
    PURGING_SERVICES,
    DueNotebook,
    ExtendRetentionV1,
    ExtensionReply,
    GetRetentionSubjectV1,
    GetRetentionV1,
    RetentionDueV1,
    RetentionExtensionView,
    RetentionPurgedEvent,
    RetentionReply,
    RetentionRunReply,
    RetentionSubject,
    RunRetentionV1,
    SetRetentionV1,
)
from notebook.adapters.orm import (
    Beneficiary,
    ExportJob,
    ImportApplied,
    Notebook,
    PilotageNotebook,
    SavedQueryRow,
    TimelineEvent,
    metadata,
)
from notebook.adapters.retention_orm import RetentionExtension, RetentionPolicy, RetentionPurge
from notebook.domain import retention as rules
from notebook.handlers.caller import NOT_FOUND, caller_of, name_of
from notebook.handlers.deps import Deps
from servicekit import inbox
from servicekit.errors import Forbidden, NotFound
from servicekit.periodic import repeat
from servicekit.retention import SWEPT_STREAMS, forget_in_streams, forget_published

log = structlog.get_logger("notebook.retention")
PARIS = ZoneInfo("Europe/Paris")
RENAMED_QUERY = "Requête renommée (conservation des données)"
ONLY_MANAGERS = "Seuls les gestionnaires de territoire gèrent la conservation des données."
NIGHTLY = "notebook-retention-nightly"
NIGHTS = uuid.UUID("6f1d2a4e-8c3b-4b7a-9e15-3c2d7f9a0b41")  # namespace of the nights' ids
ANONYMISED = "Anonymisé"
# Tables whose rows outlive the notebook: pilotage's (anonymised, for the counts) and the purge's own record.
KEPT = frozenset({"pilotage_notebook", "pilotage_action", "pilotage_snapshot", "retention_purge"})


def paris_today(deps: Deps) -> date:
    return deps.clock().astimezone(PARIS).date()


def paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), PARIS)


# --- What is due --------------------------------------------------------------------------------------------------

async def months_of(session: AsyncSession, deployment_id: uuid.UUID) -> RetentionPolicy | None:
    return await session.get(RetentionPolicy, deployment_id)


async def due_notebooks(session: AsyncSession, today: date, deployment_id: uuid.UUID | None = None) -> list[dict]:
    """The notebooks past their territory's months without activity, not covered by an extension, not yet recorded.
    Activity: the newest entry of the history, else the notebook's last change or creation (as pilotage counts it)."""
    policies = dict((await session.execute(select(RetentionPolicy.deployment_id, RetentionPolicy.months))).all())
    deployments = [deployment_id] if deployment_id else list((await session.scalars(
        select(Notebook.deployment_id).distinct())).all())
    last_entry = (select(TimelineEvent.notebook_id, func.max(TimelineEvent.occurred_at).label("last"))
                  .group_by(TimelineEvent.notebook_id).subquery())
    last = func.coalesce(last_entry.c.last, Notebook.updated_at, Notebook.created_at)
    extended = (select(RetentionExtension.notebook_id, func.max(RetentionExtension.until).label("until"))
                .group_by(RetentionExtension.notebook_id).subquery())
    due = []
    for territory in deployments:
        months = rules.months_or_default(policies.get(territory))
        cutoff = paris_midnight(rules.cutoff(today, months))
        rows = (await session.execute(
            select(Notebook.id, Notebook.deployment_id, Notebook.beneficiary_id, Beneficiary.firstname,
                   Beneficiary.lastname, last.label("last"), extended.c.until)
            .join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
            .outerjoin(last_entry, last_entry.c.notebook_id == Notebook.id)
            .outerjoin(extended, extended.c.notebook_id == Notebook.id)
            .outerjoin(RetentionPurge, RetentionPurge.notebook_id == Notebook.id)
            .where(Notebook.deployment_id == territory, last < cutoff, RetentionPurge.notebook_id.is_(None))
            .order_by(Beneficiary.lastname, Beneficiary.firstname, Notebook.id))).all()
        for row in rows:
            if row.until is not None and row.until >= today:
                continue  # kept by an extension
            since = rules.due_since(row.last.astimezone(PARIS).date(), months)
            if row.until is not None:
                since = max(since, row.until + timedelta(days=1))
            due.append(dict(notebook_id=row.id, deployment_id=row.deployment_id, beneficiary_id=row.beneficiary_id,
                            name=f"{row.firstname} {row.lastname}".strip(), last_activity_at=row.last,
                            due_since=since, extended_until=row.until))
    return due


# --- Managers -------------------------------------------------------------------------------------------------------

def manager_territory(caller) -> uuid.UUID:
    if caller.role != Role.manager or caller.deployment_id is None:
        raise Forbidden(ONLY_MANAGERS)
    return caller.deployment_id


async def reply_for(session: AsyncSession, deployment_id: uuid.UUID, today: date) -> RetentionReply:
    policy = await months_of(session, deployment_id)
    due = await due_notebooks(session, today, deployment_id)
    extensions = (await session.execute(
        select(RetentionExtension, Beneficiary.firstname, Beneficiary.lastname)
        .join(Notebook, Notebook.id == RetentionExtension.notebook_id)
        .join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
        .where(RetentionExtension.deployment_id == deployment_id)
        .order_by(RetentionExtension.created_at.desc()).limit(200))).all()
    purged = await session.scalar(select(func.count()).select_from(RetentionPurge).where(
        RetentionPurge.deployment_id == deployment_id, RetentionPurge.purged_at.is_not(None)))
    return RetentionReply(
        months=rules.months_or_default(policy.months if policy else None),
        updated_by_name=policy.updated_by_name if policy else "", updated_at=policy.updated_at if policy else None,
        due=[DueNotebook(notebook_id=d["notebook_id"], beneficiary_name=d["name"],
                         last_activity_at=d["last_activity_at"], due_since=d["due_since"],
                         extended_until=d["extended_until"]) for d in due],
        extensions=[RetentionExtensionView(
            extension_id=e.id, notebook_id=e.notebook_id, beneficiary_name=f"{first} {last}".strip(), until=e.until,
            reason=e.reason, extended_by_name=e.extended_by_name, extended_at=e.created_at)
            for e, first, last in extensions],
        purged=purged or 0)


async def get_retention(_request: GetRetentionV1, ctx, deps: Deps) -> RetentionReply:
    caller = await caller_of(ctx, deps)
    territory = manager_territory(caller)
    async with deps.sessions() as session:
        return await reply_for(session, territory, caller.today or paris_today(deps))


async def set_retention(request: SetRetentionV1, ctx, deps: Deps) -> RetentionReply:
    caller = await caller_of(ctx, deps)
    territory = manager_territory(caller)
    months = rules.check_months(request.months)
    async with deps.sessions.begin() as session:
        policy = await months_of(session, territory)
        if policy is None:
            policy = RetentionPolicy(deployment_id=territory, months=months, updated_at=deps.clock())
            session.add(policy)
        policy.months, policy.updated_at = months, deps.clock()
        policy.updated_by_name = await name_of(session, caller)
    async with deps.sessions() as session:
        return await reply_for(session, territory, caller.today or paris_today(deps))


async def extend_retention(request: ExtendRetentionV1, ctx, deps: Deps) -> ExtensionReply:
    """Another territory's notebook (or one already purged) is not found, as everywhere."""
    caller = await caller_of(ctx, deps)
    territory = manager_territory(caller)
    today = caller.today or paris_today(deps)
    reason = rules.check_extension(today, request.until, request.reason)
    async with deps.sessions.begin() as session:
        notebook = await session.get(Notebook, request.notebook_id)
        if notebook is None or notebook.deployment_id != territory or await session.get(RetentionPurge, notebook.id):
            raise NotFound(NOT_FOUND, details={"reason": "not_imported"})
        extension = RetentionExtension(
            notebook_id=notebook.id, deployment_id=territory, until=request.until, reason=reason,
            extended_by_id=caller.profile_id, extended_by_name=await name_of(session, caller),
            created_at=deps.clock())
        session.add(extension)
    return ExtensionReply(extension_id=extension.id)


# --- The run: record and publish what is due; erase what every service confirmed -----------------------------------

async def run(deps: Deps, today: date, dry_run: bool = False) -> RetentionRunReply:
    try:
        async with deps.sessions.begin() as session:
            due = await due_notebooks(session, today)
            if not dry_run:
                now = deps.clock()
                for d in due:
                    # Recorded, then published in the same transaction (outbox): a due notebook is announced once.
                    session.add(RetentionPurge(notebook_id=d["notebook_id"], deployment_id=d["deployment_id"],
                                               beneficiary_id=d["beneficiary_id"], due_since=d["due_since"],
                                               recorded_at=now, confirmed=""))
                await deps.outbox.add_all(session, [RetentionDueV1(
                    notebook_id=d["notebook_id"], deployment_id=d["deployment_id"],
                    beneficiary_id=d["beneficiary_id"], due_since=d["due_since"]) for d in due])
    except IntegrityError:  # another run (a replica, an operator) recorded them at the same instant: it announces them
        log.info("retention_run_concurrent")
        return RetentionRunReply()
    purged = [] if dry_run else await purge_confirmed(deps)
    if due or purged:
        log.info("retention_run", due=len(due), purged=len(purged), dry_run=dry_run)
    return RetentionRunReply(due=[d["notebook_id"] for d in due], purged=purged)


async def run_now(request: RunRetentionV1, _ctx, deps: Deps) -> RetentionRunReply:
    """No token: it does what the night does, only what the policies say (the bus's permissions keep the gateway and
    partners from sending it)."""
    return await run(deps, paris_today(deps), request.dry_run)


async def night(deps: Deps, now: datetime) -> RetentionRunReply | None:
    """The night's run, from the configured hour (Paris): None before it, or when this night was claimed already (by
    another replica, or an earlier tick)."""
    local = now.astimezone(PARIS)
    if local.hour < deps.settings.retention_nightly_hour:
        return None

    async def nothing_else(_session: AsyncSession) -> None:
        return None

    # Claimed in a transaction of its own, before the work: one run per night whatever the replicas.
    if not await inbox.apply_once(deps.sessions, NIGHTLY, uuid.uuid5(NIGHTS, local.date().isoformat()), nothing_else):
        return None
    return await run(deps, local.date())


async def run_nights(deps: Deps) -> None:
    """Each tick runs the night's purge once per Paris night (``night``); a database hiccup: the next tick (or
    night) tries again."""
    await repeat(lambda: night(deps, deps.clock()), deps.settings.retention_schedule_interval_s,
                 "retention_night_failed", log)


# --- For the other services -------------------------------------------------------------------------------------------

def phone_forms(number: str) -> list[str]:
    """The number as typed and as notify sends to it (E.164): a message log holds the latter."""
    digits = "".join(c for c in number if c.isdigit())
    forms = {number.strip()} if number.strip() else set()
    if len(digits) == 10 and digits.startswith("0"):
        forms |= {digits, "+33" + digits[1:]}
    elif digits:
        forms |= {digits, "+" + digits}
    return sorted(forms)


async def get_retention_subject(request: GetRetentionSubjectV1, _ctx, deps: Deps) -> RetentionSubject:
    """Services only: answered only for a notebook recorded as due (nothing else can be asked this way)."""
    async with deps.sessions() as session:
        purge = await session.get(RetentionPurge, request.notebook_id)
        if purge is None:
            raise NotFound(NOT_FOUND)
        beneficiary = await session.get(Beneficiary, purge.beneficiary_id)
        if purge.purged_at is not None or beneficiary is None:
            return RetentionSubject(notebook_id=purge.notebook_id, beneficiary_id=purge.beneficiary_id)
        return await subject_values(session, deps, purge.notebook_id, beneficiary)


async def subject_values(session: AsyncSession, deps: Deps, notebook_id: uuid.UUID,
                         beneficiary: Beneficiary) -> RetentionSubject:
    """What another service looks for in what it holds about her: her names, addresses, NIR and the import rows
    recorded as applied to her notebook (for a purge, and for her own copy of her data)."""
    rows = (await session.execute(select(ImportApplied.import_id, ImportApplied.row).where(
        ImportApplied.target_id.in_([notebook_id, beneficiary.id])))).all()
    return RetentionSubject(
        notebook_id=notebook_id, beneficiary_id=beneficiary.id, known=True,
        firstname=beneficiary.firstname, lastname=beneficiary.lastname,
        emails=[beneficiary.email] if beneficiary.email else [], phones=phone_forms(beneficiary.mobile_number),
        nir=deps.protection.decrypt(beneficiary.nir_encrypted) if beneficiary.nir_encrypted else "",
        import_rows=[(r.import_id, r.row) for r in rows])


async def on_purged(event: RetentionPurgedEvent, _meta, deps: Deps) -> None:
    """Consumer of each service's confirmation: once all confirmed, the notebook's rows go, then its messages on the
    stream NOTEBOOK that name her (profile and appointment events carry her names and contact details)."""
    async with deps.sessions.begin() as session:
        purge = await session.get(RetentionPurge, event.notebook_id, with_for_update=True)
        if purge is None:
            return
        confirmed = set(filter(None, purge.confirmed.split("|"))) | {event.service}
        purge.confirmed = "|".join(sorted(confirmed))
        if purge.purged_at is None and confirmed >= set(PURGING_SERVICES):
            await erase(session, deps, purge)
        ids = [purge.notebook_id, purge.beneficiary_id] if purge.purged_at is not None else []
    if ids:  # after the commit (and again on a later confirmation or redelivery: deleting twice does no harm)
        await forget_in_stream_of(deps, ids)


async def forget_in_exports(session: AsyncSession, deps: Deps, deployment_id: uuid.UUID,
                            beneficiary: Beneficiary) -> None:
    """The exports' record (who exported what) stays, but a search typed to find her (« Tifour ») leaves its label
    and filters, and a saved query named after her is renamed. The files themselves are lists of many people: the
    exports bucket keeps them 7 days, its own limit, and they go with it."""
    nir = deps.protection.decrypt(beneficiary.nir_encrypted) if beneficiary.nir_encrypted else ""
    digits = "".join(c for c in beneficiary.mobile_number if c.isdigit())
    values = {v.lower() for v in (beneficiary.lastname, beneficiary.email, beneficiary.mobile_number, digits, nir)
              if len(v.strip()) >= 3}
    for job in (await session.scalars(select(ExportJob).where(or_(
            ExportJob.deployment_id == deployment_id, ExportJob.deployment_id.is_(None))))).all():
        written = f"{job.label} {json.dumps(job.filters, ensure_ascii=False)}".lower()
        if any(v in written for v in values):
            job.label, job.filters = "", {}
    # The saved queries those labels come from: the query stays (its filters hold no name), renamed.
    for query in (await session.scalars(select(SavedQueryRow).where(or_(
            SavedQueryRow.deployment_id == deployment_id, SavedQueryRow.deployment_id.is_(None))))).all():
        if any(v in query.name.lower() for v in values):
            query.name = RENAMED_QUERY


async def forget_in_stream_of(deps: Deps, ids: list[uuid.UUID]) -> None:
    if deps.bus is not None:
        await forget_in_streams(deps.bus.stream_context, SWEPT_STREAMS["notebook"], ids)


async def purge_confirmed(deps: Deps) -> list[uuid.UUID]:
    """Those every service confirmed but not erased yet (a failure after the last confirmation)."""
    erased = []
    async with deps.sessions.begin() as session:
        for purge in (await session.scalars(select(RetentionPurge).where(RetentionPurge.purged_at.is_(None)))).all():
            if set(filter(None, purge.confirmed.split("|"))) >= set(PURGING_SERVICES):
                await erase(session, deps, purge)
                erased.append((purge.notebook_id, purge.beneficiary_id))
    for ids in erased:
        await forget_in_stream_of(deps, list(ids))
    return [notebook_id for notebook_id, _ in erased]


def owned_by(table, notebook_id: uuid.UUID, beneficiary_id: uuid.UUID, depth: int = 0):
    """The condition selecting ``table``'s rows about this notebook (directly, or through a parent row), or None.
    Read from the metadata: a table added later with a ``notebook_id`` (or a foreign key to such a table) is erased
    without anyone remembering to list it here."""
    if table.name == "notebook":
        return table.c.id == notebook_id
    if table.name == "beneficiary":
        return table.c.id == beneficiary_id
    if table.name == "import_applied":
        return table.c.target_id.in_([notebook_id, beneficiary_id])
    if "notebook_id" in table.c:
        return table.c.notebook_id == notebook_id
    if "beneficiary_id" in table.c:
        return table.c.beneficiary_id == beneficiary_id
    if depth > 4:
        return None
    for fk in table.foreign_keys:
        parent = fk.column.table
        if parent is table or parent.name in KEPT:
            continue
        condition = owned_by(parent, notebook_id, beneficiary_id, depth + 1)
        if condition is not None:
            return fk.parent.in_(select(fk.column).where(condition))
    return None


async def erase(session: AsyncSession, deps: Deps, purge: RetentionPurge) -> None:
    """Every row about the notebook and its beneficiary, children first; pilotage's row kept without names."""
    beneficiary = await session.get(Beneficiary, purge.beneficiary_id)
    values = [beneficiary.email, beneficiary.mobile_number,
              f"{beneficiary.firstname} {beneficiary.lastname}"] if beneficiary else []
    for table in reversed(metadata.sorted_tables):
        if table.name in KEPT:
            continue
        condition = owned_by(table, purge.notebook_id, purge.beneficiary_id)
        if condition is not None:
            await session.execute(delete(table).where(condition))
    await session.execute(update(PilotageNotebook).where(PilotageNotebook.notebook_id == purge.notebook_id).values(
        lastname=ANONYMISED, firstname="", date_of_birth=None))
    if beneficiary is not None:
        await forget_in_exports(session, deps, purge.deployment_id, beneficiary)
    await forget_published(session, [purge.notebook_id, purge.beneficiary_id, *values])
    purge.purged_at = deps.clock()
