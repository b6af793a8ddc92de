"""The dashboards' counts (issue 18 item 5): how many facts rows (``pilotage_notebook``) and actions
(``pilotage_action``) share what a figure counts, kept in the very transaction that writes those rows, so that a
territory's dashboard sums a few thousand small rows instead of grouping 100,000 notebooks — and its numbers are
still exact at every read (no cache: a row's change and its counts' change commit, or roll back, together).

Three tables, each keyed by what the figures filter and group:

- ``pilotage_count_state``: the current state's cells (territory, structure, support, droits et devoirs, CER
  state), a few hundred for a territory;
- ``pilotage_count_referent``: the notebooks each référent follows (accompanied), per structure;
- ``pilotage_count_day``: dated facts whose figure depends on today's date — CER signed or validated by end date
  (« se terminant dans les 30 jours »), open reorientation requests by the Paris day they were asked (their age);
- ``pilotage_count_month``: the period's figures by Paris month of creation — arrivals by origin, days to first
  orientation and to first CER, actions by theme and status — per structure and for the whole territory
  (``ALL_STRUCTURES``: a territory's delays read a dozen rows a month, not one per structure and day count).
  A month the period only partly covers is counted from the facts themselves (the period's edges are days).

Kept in the same transaction as the rows, by their old and new contributions: the consumer ``notebook-pilotage``
writes its rows with Core statements, a batch at a time, and moves the counts itself (``apply``, from
handlers.pilotage_facts); a flush listener on every session (``after_flush``) does it for whatever writes facts or
actions through the ORM (tests). On PostgreSQL the consumer locks the facts row it recomputes (FOR UPDATE), so two
refreshes of one notebook never both subtract the same old row. Bulk writes bypassing the ORM (a benchmark's load) call ``recount``.
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    Integer,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, mapped_column

from notebook.adapters.orm import NO_STRUCTURE, Base, PilotageAction, PilotageNotebook
from servicekit.db import upsert_insert

PARIS = ZoneInfo("Europe/Paris")
ACCOMPANIED = "accompanied"
ALL_STRUCTURES = uuid.UUID(int=1)  # the month rows of a whole territory (every structure and none)
ENDING_STATES = ("signed", "validated")
NO_DAYS = ""  # a delay not known yet (no orientation, no CER): the figures' "sans orientation à ce jour"


class PilotageCountState(Base):
    __tablename__ = "pilotage_count_state"

    deployment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    structure_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # NO_STRUCTURE: followed by none
    support: Mapped[str] = mapped_column(String(20), primary_key=True)
    subject_to_right_and_duty: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    cer_state: Mapped[str] = mapped_column(String(10), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class PilotageCountReferent(Base):
    __tablename__ = "pilotage_count_referent"

    deployment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    structure_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # NO_STRUCTURE: followed by none
    referent_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class PilotageCountDay(Base):
    __tablename__ = "pilotage_count_day"

    deployment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    figure: Mapped[str] = mapped_column(String(12), primary_key=True)  # "cer_end" or "request"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    structure_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class PilotageCountMonth(Base):
    __tablename__ = "pilotage_count_month"

    structure_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # ALL_STRUCTURES: the territory's total
    deployment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    figure: Mapped[str] = mapped_column(String(12), primary_key=True)  # origin / orientation / cer / action
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the Paris month of creation
    value: Mapped[str] = mapped_column(String(60), primary_key=True)  # origin, days (NO_DAYS), action theme
    status: Mapped[str] = mapped_column(String(20), primary_key=True)  # the action's status ("" otherwise)
    n: Mapped[int] = mapped_column(Integer)


# Also the order in which the counts are written.
TABLES = (PilotageCountState, PilotageCountReferent, PilotageCountDay, PilotageCountMonth)
KEYS = {t: [c.name for c in t.__table__.primary_key.columns] for t in TABLES}


def paris_day(moment: datetime) -> date:
    if moment.tzinfo is None:  # read back naive (SQLite): stored as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).date()


def paris_month(moment: datetime) -> date:
    return paris_day(moment).replace(day=1)


def days_text(days: int | None) -> str:
    return NO_DAYS if days is None else str(days)


# --- What one row counts for -----------------------------------------------------------------------------------

FACT_COLUMNS = ("deployment_id", "structure_id", "referent_id", "support", "subject_to_right_and_duty", "cer_state",
                "cer_end_date", "pending_reorientation_since", "created_at", "origin", "orientation_days", "cer_days")
ACTION_COLUMNS = ("deployment_id", "structure_id", "theme", "status", "created_at")


def fact_keys(v: dict) -> Iterable[tuple]:
    """The counters one facts row adds 1 to: (table, key in the table's primary key order)."""
    deployment, structure = v["deployment_id"], v["structure_id"] or NO_STRUCTURE
    yield PilotageCountState, (deployment, structure, v["support"], bool(v["subject_to_right_and_duty"]),
                               v["cer_state"])
    if v["referent_id"] is not None and v["support"] == ACCOMPANIED:  # the « par référent » list's filters
        yield PilotageCountReferent, (deployment, structure, v["referent_id"])
    if v["cer_state"] in ENDING_STATES and v["cer_end_date"] is not None:
        yield PilotageCountDay, (deployment, "cer_end", v["cer_end_date"], structure)
    if v["pending_reorientation_since"] is not None:
        yield PilotageCountDay, (deployment, "request", paris_day(v["pending_reorientation_since"]), structure)
    month = paris_month(v["created_at"])
    for where in (structure, ALL_STRUCTURES):
        yield PilotageCountMonth, (where, deployment, "origin", month, v["origin"], "")
        yield PilotageCountMonth, (where, deployment, "orientation", month, days_text(v["orientation_days"]), "")
        yield PilotageCountMonth, (where, deployment, "cer", month, days_text(v["cer_days"]), "")


def action_keys(v: dict) -> Iterable[tuple]:
    month = paris_month(v["created_at"])
    for where in (v["structure_id"] or NO_STRUCTURE, ALL_STRUCTURES):
        yield PilotageCountMonth, (where, v["deployment_id"], "action", month, v["theme"], v["status"])


COUNTED = {PilotageNotebook: (FACT_COLUMNS, fact_keys), PilotageAction: (ACTION_COLUMNS, action_keys)}


def add(deltas: Counter, keys: Iterable[tuple], sign: int) -> None:
    for key in keys:
        deltas[key] += sign


# --- Kept at each flush ----------------------------------------------------------------------------------------

def _now(obj, columns) -> dict:
    return {c: getattr(obj, c) for c in columns}


def _before(obj, columns) -> dict:
    """The row as the database had it before this flush: a changed attribute's history holds its old value."""
    state = inspect(obj)
    values = {}
    for c in columns:
        history = state.attrs[c].history
        values[c] = history.deleted[0] if history.deleted else getattr(obj, c)
    return values


def _after_flush(session: Session, _flush_context) -> None:
    # Still the pre-flush state here (as pilotage_events reads it): new, dirty and deleted are the rows just written
    # and the attributes' history their old values.
    deltas: Counter = Counter()
    for obj in session.new:
        counted = COUNTED.get(type(obj))
        if counted:
            add(deltas, counted[1](_now(obj, counted[0])), 1)
    for obj in session.deleted:
        counted = COUNTED.get(type(obj))
        if counted:
            add(deltas, counted[1](_before(obj, counted[0])), -1)
    for obj in session.dirty:
        counted = COUNTED.get(type(obj))
        if counted and session.is_modified(obj, include_collections=False):
            add(deltas, counted[1](_before(obj, counted[0])), -1)
            add(deltas, counted[1](_now(obj, counted[0])), 1)
    if deltas:
        apply(session.connection(), deltas)


def apply(connection: Connection, deltas: Counter) -> None:
    """Adds each delta to its counter (created at need), table by table and key by key in one order, so that two
    transactions moving the same counters lock them in the same order (no deadlock on PostgreSQL); counters back
    to 0 are removed (the figures list only what exists)."""
    for table in TABLES:
        moved = sorted((key, n) for (t, key), n in deltas.items() if t is table and n)
        if not moved:
            continue
        columns = KEYS[table]
        rows = [{**dict(zip(columns, key, strict=True)), "n": n} for key, n in moved]
        statement = upsert_insert(connection.dialect.name)(table)
        connection.execute(statement.on_conflict_do_update(
            index_elements=columns, set_={"n": table.__table__.c.n + statement.excluded.n}), rows)
        emptied = [dict(zip(columns, key, strict=True)) for key, n in moved if n < 0]
        if emptied:
            t = table.__table__
            connection.execute(delete(t).where(t.c.n == 0, *(t.c[c] == bindparam(f"k_{c}") for c in columns)),
                               [{f"k_{c}": row[c] for c in columns} for row in emptied])


def install() -> None:
    """On every ORM session of the process (a flush without facts or actions costs a loop over its objects)."""
    if not sa_event.contains(Session, "after_flush", _after_flush):
        sa_event.listen(Session, "after_flush", _after_flush)


install()


# --- Counted again from the rows -------------------------------------------------------------------------------

def recount(connection: Connection) -> int:
    """Every counter computed again from the facts and actions (the migration that creates them, a bulk load, a
    drift found by the rebuild). On PostgreSQL the rows' writers wait meanwhile (SHARE lock): a consumer's change
    committed between the read and the write would otherwise be counted twice or not at all. SQLite's writing
    transactions already run one at a time. Returns how many counters were written."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE pilotage_notebook, pilotage_action IN SHARE MODE"))
    for table in TABLES:
        connection.execute(delete(table.__table__))
    deltas: Counter = Counter()
    for model, (columns, keys_of) in COUNTED.items():
        t = model.__table__
        result = connection.execute(select(*(t.c[c] for c in columns)).execution_options(yield_per=5000))
        for row in result:
            add(deltas, keys_of(dict(zip(columns, row, strict=True))), 1)
    written = 0
    for table in TABLES:
        columns = KEYS[table]
        rows = [{**dict(zip(columns, key, strict=True)), "n": n} for (t, key), n in deltas.items() if t is table]
        for start in range(0, len(rows), 5000):
            connection.execute(insert(table.__table__), rows[start:start + 5000])
        written += len(rows)
    return written


def drifted(connection: Connection) -> bool:
    """Whether the counters miss rows written around the ORM (a bulk load, a DELETE by hand): per territory, the
    state cells against the facts rows and the actions' month rows against the actions. Cheap (two GROUP BY on
    indexes), it does not see every drift: only what the rebuild can afford to check at each start."""
    facts = dict(connection.execute(select(PilotageNotebook.deployment_id, func.count())
                                    .group_by(PilotageNotebook.deployment_id)).all())
    cells = dict(connection.execute(select(PilotageCountState.deployment_id, func.sum(PilotageCountState.n))
                                    .group_by(PilotageCountState.deployment_id)).all())
    if {k: int(v) for k, v in cells.items() if v} != facts:
        return True
    actions = dict(connection.execute(select(PilotageAction.deployment_id, func.count())
                                      .group_by(PilotageAction.deployment_id)).all())
    m = PilotageCountMonth
    counted = dict(connection.execute(select(m.deployment_id, func.sum(m.n)).where(
        and_(m.structure_id == ALL_STRUCTURES, m.figure == "action")).group_by(m.deployment_id)).all())
    return {k: int(v) for k, v in counted.items() if v} != actions
