"""One ``notebook.notebook.changed.v1`` per notebook and transaction that changes it, whatever the use case: a
session listener collects the notebooks of the rows flushed (new, changed, deleted; a child row is mapped to its
notebook) and of the Core INSERT/UPDATE statements run through the session (imports write in bulk), and writes the
events into the outbox just before the commit, in the same transaction. The pilotage read model recomputes each
notebook's row from them (handlers.pilotage_facts).

Installed on the service's sessionmaker (``install``): the handlers need not think of it, and a new use case
publishes too. Rows that do not change what pilotage shows (visits, read marks, the read model itself) do not count.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from functools import partial
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import Insert, Update, visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter

from contracts.base import construct_validated
from contracts.pilotage import NotebookChangedV1
from notebook.adapters import audit_trail
from notebook.adapters.orm import Contract, Focus, Notebook, Target
from servicekit.messaging import outbox_table
from servicekit.outbox import Outbox, outbox_rows

KEY = "pilotage_changed"  # session.info: what this transaction changed, until it commits or rolls back
# Tables whose rows never change a notebook's facts: access log, read marks, API sync leases, import ledger, the
# read models (of directory, and pilotage's own: the consumer writing them would otherwise publish again).
IGNORED_TABLES = frozenset({
    "notebook_visit", "exchange_read", "france_travail_sync", "import_applied", "pilotage_notebook",
    "pilotage_action", "saved_query", "person", "structure", "orientation_system", "territory", "outbox", "inbox",
    "ref_theme", "ref_situation", "ref_target", "ref_action", "rome_code", "export_job", "pilotage_snapshot",
    "pilotage_count_state", "pilotage_count_day", "pilotage_count_month",
})
# Columns a page view or a bounce touches: a change of these alone is not a change of the notebook.
IGNORED_COLUMNS = {
    "member": frozenset({"last_visited_at", "last_contact_at", "last_modified_at"}),
    "beneficiary": frozenset({"mobile_failed_at", "email_failed_at"}),
}
# Rows that reach their notebook through a parent: table → (column holding the parent's id, kind of parent).
THROUGH = {"beneficiary": ("id", "beneficiary"), "external_data": ("beneficiary_id", "beneficiary"),
           "target": ("focus_id", "focus"), "action": ("target_id", "target"),
           "contract_version": ("contract_id", "contract")}


class Changed:
    """The notebooks a transaction changed, and the parents still to map to theirs."""

    def __init__(self) -> None:
        self.notebooks: dict[uuid.UUID, uuid.UUID | None] = {}  # id → deployment when known (a deleted notebook)
        self.parents: dict[str, set] = {"beneficiary": set(), "focus": set(), "target": set(), "contract": set()}

    def add(self, table: str, values: dict[str, Any]) -> None:
        if table == "notebook":
            if values.get("id"):
                self.notebooks.setdefault(as_uuid(values["id"]), None)
        elif table in THROUGH:
            column, parent = THROUGH[table]
            if values.get(column):
                self.parents[parent].add(as_uuid(values[column]))
        elif values.get("notebook_id"):
            self.notebooks.setdefault(as_uuid(values["notebook_id"]), None)

    def __bool__(self) -> bool:
        return bool(self.notebooks) or any(self.parents.values())


def as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def changed_of(session: Session) -> Changed:
    changed = session.info.get(KEY)
    if changed is None:
        changed = session.info[KEY] = Changed()
    return changed


def mark_changed(session: AsyncSession | Session, notebook_ids: Iterable[uuid.UUID]) -> None:
    """For a statement the listener cannot read (an UPDATE whose WHERE does not name the notebooks): these
    notebooks changed in this transaction."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    changed = changed_of(sync)
    for notebook_id in notebook_ids:
        changed.notebooks.setdefault(as_uuid(notebook_id), None)


def _after_flush(session: Session, _flush_context) -> None:
    # Still the pre-flush state here: new, dirty and deleted are the rows just written.
    changed = changed_of(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", "")
        if not table or table in IGNORED_TABLES:
            continue
        if obj in session.dirty and not _really_changed(session, obj, table):
            continue
        values = {c: getattr(obj, c, None) for c in ("id", "notebook_id", *(t[0] for t in THROUGH.values()))
                  if hasattr(obj, c)}
        changed.add(table, values)
        if table == "notebook" and obj in session.deleted:
            changed.notebooks[obj.id] = obj.deployment_id


def _really_changed(session: Session, obj, table: str) -> bool:
    if not session.is_modified(obj, include_collections=False):
        return False
    ignored = IGNORED_COLUMNS.get(table)
    if not ignored:
        return True
    state = inspect(obj)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in ignored)


def _on_execute(orm_execute_state) -> None:
    """Core INSERTs and UPDATEs run through the session (imports insert many rows at once, handlers end
    memberships with one UPDATE): their notebooks, from the rows inserted or the UPDATE's WHERE."""
    statement = orm_execute_state.statement
    if not isinstance(statement, Insert | Update):
        return
    table = getattr(statement.table, "name", "")
    if not table or table in IGNORED_TABLES:
        return
    changed = changed_of(orm_execute_state.session)
    if isinstance(statement, Insert):
        params = orm_execute_state.parameters
        rows = params if isinstance(params, list | tuple) else [params] if params else []
        if statement._values:  # insert().values(...)
            rows = [*rows, {key if isinstance(key, str) else key.key: getattr(value, "value", value)
                            for key, value in statement._values.items()}]
        for row in rows:
            changed.add(table, dict(row))
        return
    # UPDATE: the notebooks (or parents) its WHERE names, "column = :value" or "column IN (:values)".
    if table in IGNORED_COLUMNS and set(_updated_columns(statement)) <= IGNORED_COLUMNS[table]:
        return
    key = "id" if table == "notebook" else THROUGH.get(table, ("notebook_id",))[0]
    if statement.whereclause is None:
        return
    for element in visitors.iterate(statement.whereclause):
        if isinstance(element, BinaryExpression) and getattr(element.left, "key", None) == key \
                and getattr(getattr(element.left, "table", None), "name", None) == table \
                and isinstance(element.right, BindParameter):
            value = element.right.effective_value
            for v in value if isinstance(value, list | tuple | set) else [value]:
                if v is not None:
                    changed.add(table, {key: v})


def _updated_columns(statement: Update) -> list[str]:
    return [key if isinstance(key, str) else key.key for key in (statement._values or {})]


def _publish(session: Session) -> None:
    """Before the commit: flush what is left (so that it is collected), map the parents, write one event per
    notebook into the outbox, in the transaction itself. SQLAlchemy calls this too when a savepoint is released
    (an import's row applied alone): its notebooks are published then, inside it, undone with it if need be."""
    session.flush()
    changed: Changed | None = session.info.pop(KEY, None)
    if not changed:
        return
    notebooks = dict(changed.notebooks)
    with session.no_autoflush:
        for parent, ids in changed.parents.items():
            if ids:
                for notebook_id in session.execute(PARENT_QUERIES[parent](list(ids))).scalars():
                    notebooks.setdefault(notebook_id, None)
        ids = [i for i in notebooks if notebooks[i] is None]
        for chunk in range(0, len(ids), 1000):
            for notebook_id, deployment_id in session.execute(select(Notebook.id, Notebook.deployment_id).where(
                    Notebook.id.in_(ids[chunk:chunk + 1000]))).all():
                notebooks[notebook_id] = deployment_id
    # Ids (UUIDs already) not validated again: one event per notebook, an import's thousands.
    events = [(partial(construct_validated, NotebookChangedV1) if isinstance(n, uuid.UUID) and isinstance(d, uuid.UUID)
               else NotebookChangedV1)(notebook_id=n, deployment_id=d) for n, d in notebooks.items() if d is not None]
    if not events:
        return
    # The same notebooks make the audit trail's lines of who changed them (issue 21).
    audit = audit_trail.changes({e.notebook_id: e.deployment_id for e in events})
    session.execute(insert(outbox_table), outbox_rows(sorted(events, key=lambda e: str(e.notebook_id)) + audit))
    type(session).pilotage_outbox.wake_replicas(session)  # the other replicas' relays, as Outbox.add does
    session.info["pilotage_published"] = True


PARENT_QUERIES = {
    "beneficiary": lambda ids: select(Notebook.id).where(Notebook.beneficiary_id.in_(ids)),
    "focus": lambda ids: select(Focus.notebook_id).where(Focus.id.in_(ids)),
    "target": lambda ids: select(Focus.notebook_id).join(Target, Target.focus_id == Focus.id).where(
        Target.id.in_(ids)),
    "contract": lambda ids: select(Contract.notebook_id).where(Contract.id.in_(ids)),
}


def _forget(session: Session, transaction) -> None:
    """The transaction is over (committed or rolled back): nothing is left to publish. Only the outermost one: a
    savepoint rolled back (an import's refused row) must not forget the rows applied before it (what it had
    collected stays: a notebook recomputed for nothing is harmless)."""
    if transaction.parent is None:
        session.info.pop(KEY, None)
        session.info.pop("pilotage_published", None)


def install(sessions: async_sessionmaker, outbox: Outbox) -> None:
    """Sessions of ``sessions`` publish the changed notebooks (a Session class of their own: another service in
    the same process, or a test's own sessionmaker, is left alone)."""
    base = sessions.kw.get("sync_session_class") or Session
    if getattr(base, "pilotage_outbox", None) is not None:
        return  # installed already
    tracked = type("PilotageTrackedSession", (base,), {"pilotage_outbox": outbox})

    def wake(session: Session) -> None:
        if session.info.pop("pilotage_published", False):
            outbox.committed.set()  # the relay publishes now rather than at its next poll

    sa_event.listen(tracked, "after_flush", _after_flush)
    sa_event.listen(tracked, "do_orm_execute", _on_execute)
    sa_event.listen(tracked, "before_commit", _publish)
    sa_event.listen(tracked, "after_commit", wake)
    sa_event.listen(tracked, "after_transaction_end", _forget)
    sessions.configure(sync_session_class=tracked)
