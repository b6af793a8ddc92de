"""The pilotage read model kept by events: on ``notebook.notebook.changed.v1`` a notebook's facts row and its
actions are recomputed from the write tables (a few indexed queries, for one notebook or a batch of them).
Idempotent and order-independent: it always reads the current state, so a late or repeated event does no harm
and needs no inbox. A notebook gone loses its rows; one transferred gets its new territory.

``rebuild`` gives a row to every notebook without one (run once in the background when the service starts, and
by benchmarks and tests), and the dashboards' counts (adapters.pilotage_counts, moved by every flush of these rows)
are made again from the rows if they disagree with them."""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from contracts.pilotage import NotebookChangedV1
from notebook.adapters.orm import (
    Action,
    Beneficiary,
    BeneficiaryStructure,
    Contract,
    ExternalData,
    Focus,
    Member,
    Notebook,
    OrientationRequest,
    PilotageAction,
    PilotageNotebook,
    Target,
    TimelineEvent,
)
from notebook.adapters import pilotage_counts
from notebook.adapters.pilotage_counts import ACTION_COLUMNS, FACT_COLUMNS, action_keys, fact_keys
from notebook.adapters.pilotage_query import paris_midnight, themes_text
from notebook.adapters.retention_orm import RetentionPurge
from notebook.domain.pilotage import CerFacts, cer_summary, origin_of, support_of
from notebook.domain.pilotage_figures import days_from
from notebook.handlers.deps import Deps
from servicekit.db import one_of

CONSUMER = "notebook-pilotage"
CREATION_WINDOW = timedelta(minutes=5)  # a flux's data received with the notebook's creation tells its origin
log = logging.getLogger(__name__)
MAX_CONFLICTS = 20  # batches of rebuild undone by a concurrent write, before it gives up until the next start


async def refresh(session: AsyncSession, notebook_id: uuid.UUID) -> None:
    """Recomputes one notebook's pilotage rows in the caller's transaction."""
    await refresh_many(session, [notebook_id])


async def refresh_many(session: AsyncSession, notebook_ids: list[uuid.UUID]) -> None:
    """Recomputes these notebooks' pilotage rows: one query per kind of fact for the whole batch."""
    ids = list(dict.fromkeys(notebook_ids))
    if not ids:
        return
    sqlite = session.bind.dialect.name == "sqlite"

    def among(column, values):  # a batch's ids as one array parameter on PostgreSQL (servicekit.db.one_of)
        return one_of(column, values, sqlite=sqlite)

    # A notebook erased by retention keeps its row as it was (names wiped): the dashboards' counts stay right.
    purged = set((await session.scalars(select(RetentionPurge.notebook_id).where(
        among(RetentionPurge.notebook_id, ids), RetentionPurge.purged_at.is_not(None)))).all())
    ids = [i for i in ids if i not in purged]
    if not ids:
        return
    # The rows first, locked (PostgreSQL; SQLite's writers run one at a time): the counts move by each row's old
    # contribution, which a concurrent refresh of the same notebook must not subtract too (adapters.pilotage_counts).
    # In the order of their ids: two batches sharing notebooks wait for each other rather than deadlock.
    existing = {r["notebook_id"]: r for r in (await session.execute(
        select(*(FACTS.c[c] for c in ("notebook_id", *FACT_COLUMNS))).where(among(FACTS.c.notebook_id, ids))
        .order_by(FACTS.c.notebook_id).with_for_update())).mappings()}
    old_actions = {r["id"]: r for r in (await session.execute(
        select(*(ACTIONS.c[c] for c in ("id", "notebook_id", *ACTION_COLUMNS)))
        .where(among(ACTIONS.c.notebook_id, ids)))).mappings()}
    # The columns used, not ORM objects (two per notebook, each tracked by the session).
    found = {r.id: r for r in (await session.execute(
        select(Notebook.id, Notebook.deployment_id, Notebook.created_at, Notebook.updated_at, Notebook.oriented_at,
               Notebook.orientation_system_id, Beneficiary.id.label("beneficiary_id"), Beneficiary.lastname,
               Beneficiary.firstname, Beneficiary.date_of_birth, Beneficiary.right_rsa,
               Beneficiary.subject_to_right_and_duty)
        .join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id).where(among(Notebook.id, ids)))).all()}
    # Written with Core statements, a few for the whole batch (one ORM object per notebook and action cost more
    # than the rest of the recompute); the dashboards' counts moved here by each row's old and new contribution,
    # as pilotage_counts' flush listener does for rows written through the ORM.
    writes = Writes()
    for notebook_id in ids:
        if notebook_id not in found and notebook_id in existing:
            writes.gone.append(notebook_id)
            pilotage_counts.add(writes.deltas, fact_keys(existing.pop(notebook_id)), -1)
    ids = list(found)
    if not ids:
        for action in old_actions.values():
            writes.drop_action(action)
        await session.run_sync(writes.run)
        return
    structures: dict[uuid.UUID, uuid.UUID] = {}
    for notebook_id, structure_id in (await session.execute(
            select(BeneficiaryStructure.notebook_id, BeneficiaryStructure.structure_id)
            .where(among(BeneficiaryStructure.notebook_id, ids), BeneficiaryStructure.status == "current")
            .order_by(BeneficiaryStructure.started_at, BeneficiaryStructure.id))).all():
        structures.setdefault(notebook_id, structure_id)  # the first by start date
    referents = dict((await session.execute(
        select(Member.notebook_id, Member.person_id).where(
            among(Member.notebook_id, ids), Member.member_type == "referent", Member.ended_at.is_(None)))).all())
    orientation_managers = dict((await session.execute(
        select(Member.notebook_id, Member.person_id).where(
            among(Member.notebook_id, ids), Member.member_type == "orientation_manager", Member.ended_at.is_(None))
        .order_by(Member.started_at))).all())  # one at a time; the latest if ever more
    cers: dict[uuid.UUID, list[CerFacts]] = defaultdict(list)
    for row in (await session.execute(
            select(Contract.notebook_id, Contract.status, Contract.created_at, Contract.end_date, Contract.signed_on)
            .where(among(Contract.notebook_id, ids), Contract.kind == "cer"))).all():
        cers[row.notebook_id].append(CerFacts(row.status, row.created_at, row.end_date, row.signed_on))
    pending = dict((await session.execute(
        select(OrientationRequest.notebook_id, OrientationRequest.created_at).where(
            among(OrientationRequest.notebook_id, ids), OrientationRequest.status == "pending"))).all())
    activity = {r.notebook_id: r for r in (await session.execute(
        select(TimelineEvent.notebook_id, func.max(TimelineEvent.occurred_at).label("last"),
               func.min(TimelineEvent.occurred_at).label("first"))
        .where(among(TimelineEvent.notebook_id, ids)).group_by(TimelineEvent.notebook_id))).all()}
    oriented = dict((await session.execute(
        select(TimelineEvent.notebook_id, func.min(TimelineEvent.occurred_at))
        .where(among(TimelineEvent.notebook_id, ids), TimelineEvent.kind == "orientation")
        .group_by(TimelineEvent.notebook_id))).all())
    # The source of the first entry ("Carnet créé"): how the notebook was made.
    first_sources: dict[uuid.UUID, str] = {}
    firsts = {(r.notebook_id, r.first) for r in activity.values()}
    if firsts:
        for notebook_id, occurred_at, source in (await session.execute(
                select(TimelineEvent.notebook_id, TimelineEvent.occurred_at, TimelineEvent.source)
                .where(among(TimelineEvent.notebook_id, ids),
                       TimelineEvent.occurred_at.in_(list({f for _, f in firsts})))
                .order_by(TimelineEvent.occurred_at, TimelineEvent.id))).all():
            if (notebook_id, occurred_at) in firsts:
                first_sources.setdefault(notebook_id, source)
    imported = [found[i].beneficiary_id for i, s in first_sources.items() if s == "import"]
    external: dict[uuid.UUID, set[str]] = defaultdict(set)
    if imported:
        for beneficiary_id, source, created_at in (await session.execute(
                select(ExternalData.beneficiary_id, ExternalData.source, ExternalData.created_at)
                .where(among(ExternalData.beneficiary_id, imported)))).all():
            external[beneficiary_id].add((source, created_at))
    themes: dict[uuid.UUID, set[str]] = defaultdict(set)
    for notebook_id, theme in (await session.execute(
            select(Focus.notebook_id, Focus.theme).where(among(Focus.notebook_id, ids), Focus.deleted_at.is_(None)))):
        themes[notebook_id].add(theme)
    actions = (await session.execute(
        select(Action.id, Focus.notebook_id, Focus.theme, Action.status, Action.created_at)
        .join(Target, Target.id == Action.target_id).join(Focus, Focus.id == Target.focus_id)
        .where(among(Focus.notebook_id, ids), Focus.deleted_at.is_(None), Target.deleted_at.is_(None),
               Action.deleted_at.is_(None)))).all()

    now = datetime.now(UTC)
    for notebook_id in ids:
        current = found[notebook_id]  # the notebook and its beneficiary
        cer = cer_summary(cers.get(notebook_id, []))
        times = activity.get(notebook_id)
        first_oriented = oriented.get(notebook_id) or current.oriented_at
        if first_oriented is None and current.orientation_system_id is not None:
            first_oriented = current.created_at  # oriented when it was made (an import), with no history entry
        at_creation = {source for source, created_at in external.get(current.beneficiary_id, set())
                       if created_at <= current.created_at + CREATION_WINDOW}
        values = dict(
            deployment_id=current.deployment_id, lastname=current.lastname, firstname=current.firstname,
            date_of_birth=current.date_of_birth, structure_id=structures.get(notebook_id),
            referent_id=referents.get(notebook_id), orientation_manager_id=orientation_managers.get(notebook_id),
            orientation_system_id=current.orientation_system_id,
            support=support_of(notebook_id in referents, notebook_id in structures).value,
            rsa_right=current.right_rsa, subject_to_right_and_duty=bool(current.subject_to_right_and_duty),
            cer_state=cer.state.value, cer_end_date=cer.end_date,
            last_activity_at=times.last if times else (current.updated_at or current.created_at),
            created_at=current.created_at, first_oriented_at=first_oriented,
            first_cer_at=paris_midnight(cer.first_signed_on) if cer.first_signed_on else None,
            origin=origin_of(first_sources.get(notebook_id), at_creation).value,
            themes=themes_text(themes.get(notebook_id, ())),
            pending_reorientation_since=pending.get(notebook_id), refreshed_at=now)
        values.update(orientation_days=days_from(values["created_at"], values["first_oriented_at"]),
                      cer_days=days_from(values["created_at"], values["first_cer_at"]))
        old = existing.get(notebook_id)
        if old is None:
            writes.facts_added.append({"notebook_id": notebook_id, **values})
        else:
            writes.facts_changed.append({"b_notebook_id": notebook_id, **values})
            pilotage_counts.add(writes.deltas, fact_keys(old), -1)
        pilotage_counts.add(writes.deltas, fact_keys(values), 1)
    # The actions as they are now: those unchanged stay (no write, no count moved), the others are updated, added
    # or removed.
    for a in actions:
        values = dict(notebook_id=a.notebook_id, deployment_id=found[a.notebook_id].deployment_id,
                      structure_id=structures.get(a.notebook_id), theme=a.theme, status=a.status,
                      created_at=a.created_at)
        old = old_actions.pop(a.id, None)
        if old is None:
            writes.actions_added.append({"id": a.id, **values})
        elif any(old[key] != value for key, value in values.items()):
            writes.actions_changed.append({"b_id": a.id, **values})
            pilotage_counts.add(writes.deltas, action_keys(old), -1)
        else:
            continue
        pilotage_counts.add(writes.deltas, action_keys(values), 1)
    for action in old_actions.values():
        writes.drop_action(action)
    await session.run_sync(writes.run)


FACTS, ACTIONS = PilotageNotebook.__table__, PilotageAction.__table__
UPDATE_FACTS = update(FACTS).where(FACTS.c.notebook_id == bindparam("b_notebook_id"))
UPDATE_ACTION = update(ACTIONS).where(ACTIONS.c.id == bindparam("b_id"))


class Writes:
    """A batch's writes to the read model and the counts they move, run together at the end."""

    def __init__(self) -> None:
        self.gone: list[uuid.UUID] = []  # notebooks deleted: their facts row goes
        self.facts_added: list[dict] = []
        self.facts_changed: list[dict] = []  # b_notebook_id: the row's key
        self.actions_added: list[dict] = []
        self.actions_changed: list[dict] = []  # b_id: the row's key
        self.actions_dropped: list[uuid.UUID] = []
        self.deltas: Counter = Counter()

    def drop_action(self, old) -> None:
        self.actions_dropped.append(old["id"])
        pilotage_counts.add(self.deltas, action_keys(old), -1)

    def run(self, session: Session) -> None:
        connection = session.connection()
        if self.gone:
            connection.execute(delete(FACTS).where(FACTS.c.notebook_id.in_(self.gone)))
        if self.actions_dropped:
            connection.execute(delete(ACTIONS).where(ACTIONS.c.id.in_(self.actions_dropped)))
        for statement, rows in ((insert(FACTS), self.facts_added), (UPDATE_FACTS, self.facts_changed),
                                (insert(ACTIONS), self.actions_added), (UPDATE_ACTION, self.actions_changed)):
            if rows:
                connection.execute(statement, rows)
        if self.deltas:
            pilotage_counts.apply(connection, self.deltas)


async def on_notebook_changed(event: NotebookChangedV1, _meta, deps: Deps) -> None:
    """Consumer ``notebook-pilotage``: the notebook's facts as they are now."""
    async with deps.sessions.begin() as session:
        await refresh(session, event.notebook_id)


async def _changed_together(events: Sequence[NotebookChangedV1], deps: Deps) -> None:
    """The events waiting behind the first (an import publishes one per notebook, thousands at once): their
    notebooks recomputed in one transaction, a query per kind of fact for all. One event at a time, each notebook
    cost a transaction and a dozen queries: the consumer lagged far behind an import. Recomputing is idempotent, so
    a batch delivered again (it outlived its ack wait) does no harm."""
    async with deps.sessions.begin() as session:
        await refresh_many(session, [event.notebook_id for event in events])


# servicekit.consumers hands the events waiting over together to a handler that says how (Subscription.together).
on_notebook_changed.together = _changed_together


async def rebuild(deps: Deps, batch: int = 500) -> int:
    """Rows for the notebooks that have none, and none for notebooks gone: ``batch`` notebooks per transaction.
    Returns how many notebooks were computed."""
    done, conflicts = 0, 0
    while True:
        try:
            async with deps.sessions.begin() as session:
                ids = list((await session.execute(
                    select(Notebook.id).outerjoin(PilotageNotebook, PilotageNotebook.notebook_id == Notebook.id)
                    .where(PilotageNotebook.notebook_id.is_(None)).limit(batch))).scalars())
                if not ids:
                    orphans = select(PilotageNotebook.notebook_id).outerjoin(
                        Notebook, Notebook.id == PilotageNotebook.notebook_id).where(Notebook.id.is_(None))
                    # Those erased by retention keep their row (the counts): not orphans.
                    orphans = orphans.where(PilotageNotebook.notebook_id.not_in(select(RetentionPurge.notebook_id)))
                    gone = list((await session.execute(orphans.limit(batch))).scalars())
                    if gone:
                        await refresh_many(session, gone)
                        continue  # the next batch of them, if any
                    # The rows computed here moved their counts; rows written around the ORM (a bulk load, a
                    # restore) did not: the counts are made again from the rows when they disagree.
                    if await session.run_sync(lambda s: pilotage_counts.drifted(s.connection())):
                        written = await session.run_sync(lambda s: pilotage_counts.recount(s.connection()))
                        log.info("pilotage: %d counters recounted", written)
                    return done
                await refresh_many(session, ids)
            done += len(ids)
        except IntegrityError:
            # The consumer (or another replica's rebuild) wrote one of these rows meanwhile: the batch is undone,
            # and the next one no longer holds it.
            conflicts += 1
            if conflicts > MAX_CONFLICTS:
                raise


async def recount(deps: Deps) -> int:
    """The dashboards' counts made again from the rows (after a bulk load that bypassed the ORM)."""
    async with deps.sessions.begin() as session:
        return await session.run_sync(lambda s: pilotage_counts.recount(s.connection()))


async def rebuild_in_background(deps: Deps) -> None:
    """Once when the service starts: another replica doing it too only recomputes the same rows."""
    try:
        computed = await rebuild(deps)
        if computed:
            log.info("pilotage: %d notebooks computed", computed)
    except asyncio.CancelledError:
        raise
    except Exception:  # the events keep the model; the next start tries again
        log.exception("pilotage: the rebuild failed")
