"""Imports of beneficiaries, rattachements and réorientations (spec §4.1 A, E, F): the import service sends the
rows it read and validated in batches, first to review (what would each row do? nothing changes), then to apply.

The import service alone may send these (bus permissions); it says who uploaded the file (``actor``), whose rights
are checked here as for a form: a manager imports beneficiaries and réorientations into their own territory, a
structure admin rattachements into their structures; anything else is refused.

Applying is exactly once per ``(import_id, row)``: each applied row is recorded in ``import_applied`` in the same
transaction as its effect, and a batch sent again answers the recorded outcomes and applies only the other rows.
One transaction per batch; each row in its own savepoint, so that a failing row is rejected whole and the others
go on. Kinds whose rows need no query once the batch is prepared (beneficiaries) are first applied all together,
flushed once: should the database refuse one of them (a form wrote the same person meanwhile), the batch is
replayed row by row.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from types import SimpleNamespace
from typing import Any, Protocol

import structlog
from pydantic import ValidationError
from sqlalchemy import event as sa_event
from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from contracts.base import IntegrationEvent
from contracts.identity import Role
from contracts.imports import (
    AppliedReply,
    ApplyNotebookImportV1,
    ImportActor,
    ImportBatch,
    ImportKind,
    ImportRowValues,
    Outcome,
    ReviewedReply,
    ReviewNotebookImportV1,
    RowOutcome,
    RowReview,
)
from contracts.notebook import ChangeSource
from notebook.adapters.orm import ImportApplied, Notebook, TimelineEvent
from notebook.handlers.beneficiaries import FIELD_LABELS
from notebook.handlers.caller import Caller
from notebook.handlers.deps import Deps
from servicekit.db import one_of, plan_for_now
from servicekit.errors import Forbidden, ServiceError

log = structlog.get_logger("notebook.imports")

NOT_ALLOWED = "Vous n'avez pas le droit d'importer ce type de fichier."
NO_TERRITORY = "Votre compte n'est rattaché à aucun territoire : vous ne pouvez pas importer ce fichier."
NOT_YOUR_STRUCTURE = "Vous ne pouvez importer des rattachements que pour les structures que vous gérez."
RACE = ("Ce bénéficiaire a été modifié par quelqu'un d'autre pendant l'import : cette ligne n'a pas été appliquée, "
        "importez-la de nouveau.")
NOT_A_NOTEBOOK_KIND = "Ce type d'import n'est pas traité par les carnets."
TIERS = 3  # beneficiaries, notebooks, what hangs from a notebook
UNACCEPTED = "Une valeur de cette ligne est refusée : vérifiez-la."


class Refused(Exception):
    """A row that cannot be applied, with the French sentences saying why; nothing of it was written."""

    def __init__(self, *messages: str):
        super().__init__(" ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class Scope:
    """Where the uploader may import: their territory, and for a structure admin the structures of the batch."""

    actor: ImportActor
    deployment_id: uuid.UUID
    structure_ids: frozenset[uuid.UUID]

    @property
    def caller(self) -> Caller:
        """The uploader as the notebook's own use cases know a caller (history author, member who added)."""
        return Caller(self.actor.account_id, self.actor.role, self.deployment_id, self.actor.profile_id,
                      frozenset(self.actor.structure_ids))

    @property
    def author(self) -> str:
        return self.actor.name or "Import de fichier"


class Record(SimpleNamespace):
    """A new row of a table, kept as plain attributes until it is inserted: a later row of the batch may still
    change it (the same person twice in a file). ORM objects would cost more than the rest of the row."""

    written: bool = False


@cache
def column_defaults(table: Table) -> tuple[tuple[str, Any, bool], ...]:
    """Each column of ``table`` with its default (a value, or a function to call), read once per table."""
    defaults = []
    for column in table.columns:
        default = column.default
        if default is not None and default.is_scalar:
            defaults.append((column.key, default.arg, False))
        elif default is not None and default.is_callable:
            defaults.append((column.key, default.arg, True))
        else:
            defaults.append((column.key, None, False))
    return tuple(defaults)


def full_row(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """Every column of ``table``: the value given, else the column's default, else NULL (an executemany needs the
    same keys in every row)."""
    row = {}
    for key, default, call in column_defaults(table):
        if key in values:
            row[key] = values[key]
        else:
            row[key] = default(None) if call else default
    return row


@dataclass
class Effects:
    """What rows applied together write: new rows by tier, each table in one INSERT of many rows (the models
    declare no relationships, so an ORM flush would not order them: each tier is written before the next, whose
    foreign keys point to it), then the changes of ORM objects, then the events, in one statement rather than one
    per event."""

    tiers: list[dict[Table, list[Record | dict]]] = field(default_factory=lambda: [{} for _ in range(TIERS)])
    events: list[IntegrationEvent] = field(default_factory=list)
    touched: dict[uuid.UUID, datetime] = field(default_factory=dict)  # existing notebooks: when last changed

    def touch(self, notebook_id: uuid.UUID, at: datetime) -> None:
        """An existing notebook changed now (its lists sort by it): one UPDATE for the batch, not an ORM one per
        notebook (each would be checked against the diagnostic's version, one statement at a time)."""
        self.touched[notebook_id] = at

    def insert(self, tier: int, table: Table, *rows: Record | dict) -> None:
        self.tiers[tier].setdefault(table, []).extend(rows)

    def publish(self, event: IntegrationEvent) -> None:
        self.events.append(event)

    async def add(self, _session: AsyncSession, event: IntegrationEvent) -> None:
        """As ``Outbox.add``: the notebook's use cases reused here publish into the batch's events."""
        self.publish(event)

    async def write(self, session: AsyncSession, deps: Deps) -> None:
        for tier in self.tiers:
            for table, rows in tier.items():
                if not rows:
                    continue
                await session.execute(insert(table), [
                    full_row(table, vars(r) if isinstance(r, Record) else r) for r in rows])
                for r in rows:
                    if isinstance(r, Record):
                        r.written = True
        self.tiers = [{} for _ in range(TIERS)]
        await session.flush()
        if self.touched:
            at = max(self.touched.values())
            await session.execute(update(Notebook.__table__).where(one_of(
                Notebook.__table__.c.id, self.touched, sqlite=session.bind.dialect.name == "sqlite"))
                                  .values(updated_at=at))
            self.touched = {}
        await deps.outbox.add_all(session, self.events)
        self.events = []


class KindImport(Protocol):
    # Whether ``apply`` only adds objects and events (no query, no flush): rows may then be applied all together.
    batchable: bool

    async def prepare(self, session: AsyncSession, deps: Deps, scope: Scope, rows: list[ImportRowValues]) -> Any:
        """What the rows need, read once for the whole batch."""

    def review(self, context: Any, row: ImportRowValues) -> RowReview: ...

    async def apply(self, session: AsyncSession, deps: Deps, context: Any, row: ImportRowValues,
                    effects: Effects) -> RowOutcome:
        """Applies one row, or raises ``Refused`` (or a ``ServiceError``) before writing anything."""


def kind_import(kind: ImportKind) -> KindImport:
    # Imported here: each kind module uses this module's Scope, Effects and Refused.
    from notebook.handlers import import_caf_msa
    from notebook.handlers import (import_beneficiaries, import_france_travail, import_rattachements,
                                   import_reorientations)
    kinds: dict[ImportKind, KindImport] = {
        ImportKind.beneficiaries: import_beneficiaries.BENEFICIARIES,
        ImportKind.referents: import_rattachements.RATTACHEMENTS,
        ImportKind.reorientations: import_reorientations.REORIENTATIONS,
        ImportKind.caf_msa: import_caf_msa.CAF_MSA,
        ImportKind.france_travail_principal: import_france_travail.PRINCIPAL,
        ImportKind.france_travail_actions: import_france_travail.ACTIONS,
    }
    if kind not in kinds:
        raise Forbidden(NOT_A_NOTEBOOK_KIND)
    return kinds[kind]


# Who may import which kind (default deny).
ROLES = {ImportKind.beneficiaries: frozenset({Role.manager}), ImportKind.reorientations: frozenset({Role.manager}),
         ImportKind.caf_msa: frozenset({Role.manager}),
         ImportKind.referents: frozenset({Role.admin_structure}),
         ImportKind.france_travail_principal: frozenset({Role.manager}),
         ImportKind.france_travail_actions: frozenset({Role.manager})}


def scope_of(batch: ImportBatch) -> Scope:
    actor = batch.actor
    if actor.role not in ROLES.get(batch.kind, frozenset()):
        raise Forbidden(NOT_ALLOWED, details={"kind": batch.kind.value})
    if actor.deployment_id is None:
        raise Forbidden(NO_TERRITORY)
    structure_ids: frozenset[uuid.UUID] = frozenset()
    if actor.role == Role.admin_structure:
        mine = frozenset(actor.structure_ids)
        if batch.structure_id is not None and batch.structure_id not in mine:
            raise Forbidden(NOT_YOUR_STRUCTURE)
        structure_ids = frozenset({batch.structure_id}) if batch.structure_id else mine
        if not structure_ids:
            raise Forbidden(NOT_YOUR_STRUCTURE)
    return Scope(actor, actor.deployment_id, structure_ids)


def history_from_import(session: AsyncSession) -> None:
    """Every history entry this batch's session writes, by this module or the use cases it reuses, says it came
    from an import."""
    def mark(_session, instance) -> None:
        if isinstance(instance, TimelineEvent):
            instance.source = ChangeSource.import_.value

    sa_event.listen(session.sync_session, "transient_to_pending", mark)


async def review_import(request: ReviewNotebookImportV1, ctx, deps: Deps) -> ReviewedReply:
    scope = scope_of(request)
    kind = kind_import(request.kind)
    async with deps.sessions() as session:
        context = await kind.prepare(session, deps, scope, request.rows)
        return ReviewedReply(results=[kind.review(context, row) for row in request.rows])


async def apply_import(request: ApplyNotebookImportV1, ctx, deps: Deps) -> AppliedReply:
    scope = scope_of(request)
    kind = kind_import(request.kind)
    async with deps.sessions.begin() as session:
        await plan_for_now(session)
        history_from_import(session)
        numbers = [row.row for row in request.rows]
        recorded = {a.row: RowOutcome(row=a.row, outcome=Outcome(a.outcome), target_id=a.target_id,
                                      messages=a.messages)
                    for a in (await session.execute(select(ImportApplied).where(
                        ImportApplied.import_id == request.import_id,
                        one_of(ImportApplied.row, numbers, sqlite=session.bind.dialect.name == "sqlite")))).scalars()}
        pending = [row for row in request.rows if row.row not in recorded]
        if pending:
            outcomes = None
            if kind.batchable:
                outcomes = await apply_together(session, deps, kind, scope, request.import_id, pending)
            if outcomes is None:
                outcomes = await apply_one_by_one(session, deps, kind, scope, request.import_id, pending)
            recorded.update({outcome.row: outcome for outcome in outcomes})
    return AppliedReply(results=[recorded[number] for number in numbers])


def applied(deps: Deps, import_id: uuid.UUID, outcome: RowOutcome) -> dict[str, Any]:
    return {"import_id": import_id, "row": outcome.row, "outcome": outcome.outcome.value,
            "target_id": outcome.target_id, "messages": outcome.messages, "applied_at": deps.clock()}


async def record_refused(session: AsyncSession, deps: Deps, import_id: uuid.UUID, outcome: RowOutcome) -> None:
    """A row refused is answered the same if sent again: recorded too, out of its undone savepoint."""
    await session.execute(insert(ImportApplied.__table__), [applied(deps, import_id, outcome)])


def rejected(row: ImportRowValues, messages: list[str]) -> RowOutcome:
    return RowOutcome(row=row.row, outcome=Outcome.rejected, messages=messages)


async def apply_together(session: AsyncSession, deps: Deps, kind: KindImport, scope: Scope, import_id: uuid.UUID,
                         rows: list[ImportRowValues]) -> list[RowOutcome] | None:
    """The fast way: every row applied in memory, then written table by table. None when the database refused one
    of them (the batch is then undone, to be applied row by row)."""
    try:
        async with session.begin_nested():
            context = await kind.prepare(session, deps, scope, rows)
            effects, outcomes = Effects(), []
            for row in rows:
                try:
                    outcome = await kind.apply(session, deps, context, row, effects)
                except Refused as refusal:
                    outcome = rejected(row, refusal.messages)
                except (ServiceError, ValidationError) as error:
                    outcome = rejected(row, [message_of(error)])
                effects.insert(0, ImportApplied.__table__, applied(deps, import_id, outcome))
                outcomes.append(outcome)
            await effects.write(session, deps)
        return outcomes
    except (IntegrityError, StaleDataError):
        log.info("import_batch_replayed_row_by_row", import_id=str(import_id))
        return None


async def apply_one_by_one(session: AsyncSession, deps: Deps, kind: KindImport, scope: Scope, import_id: uuid.UUID,
                           rows: list[ImportRowValues]) -> list[RowOutcome]:
    context = await kind.prepare(session, deps, scope, rows)
    outcomes = []
    for row in rows:
        effects = Effects()
        try:
            async with session.begin_nested():
                outcome = await kind.apply(session, deps, context, row, effects)
                effects.insert(0, ImportApplied.__table__, applied(deps, import_id, outcome))
                await effects.write(session, deps)
        except Refused as refusal:
            outcome = rejected(row, refusal.messages)
            await record_refused(session, deps, import_id, outcome)
        except (ServiceError, ValidationError) as error:
            outcome = rejected(row, [message_of(error)])
            await record_refused(session, deps, import_id, outcome)
        except (IntegrityError, StaleDataError):
            outcome = rejected(row, [RACE])
            await record_refused(session, deps, import_id, outcome)
            # What the prepared context said may be stale now: read it again for the rows left.
            context = await kind.prepare(session, deps, scope, rows)
        outcomes.append(outcome)
    return outcomes


def message_of(error: Exception) -> str:
    """A row's refusal in French, naming its field as the import's own messages name their column."""
    if isinstance(error, ServiceError):
        label = FIELD_LABELS.get(error.details.get("field", ""))
        return f"« {label[0].upper()}{label[1:]} » : {error.message}" if label else error.message
    fields = [str(e["loc"][0]) for e in error.errors() if e.get("loc")] if isinstance(error, ValidationError) else []
    names = ", ".join(dict.fromkeys(FIELD_LABELS.get(f, f) for f in fields))
    return f"Valeur refusée ({names}) : vérifiez-la." if names else UNACCEPTED
