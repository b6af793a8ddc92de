"""The notebook's lines of the audit trail (issue 21), written into the outbox in the transaction of what they
record: every read of a notebook by someone else than its beneficiary, every change of a notebook, every export
asked or downloaded. Ids, roles and action codes only: no name, no NIR (see contracts.audit).

Changes are found where the pilotage already finds them (``pilotage_events``: the notebooks a transaction changed,
whatever the use case), with the caller of the RPC being served, remembered by ``caller_of``. A change made by a
consumer (no RPC) or by an import batch (the import service records the import itself, once) writes no line.
"""
from __future__ import annotations

import uuid
from contextvars import ContextVar
from typing import Any

from structlog.contextvars import get_contextvars

from contracts.audit import NotebookAuditRecordedV1
from contracts.imports import OWNER_IMPORT_RPCS
from contracts.partners import TRUSTED_PARTNER_RPCS

# (request id, caller) of the RPC being served: the request id guards against a caller left by an earlier RPC.
CURRENT_CALLER: ContextVar[tuple[str, Any] | None] = ContextVar("audit_caller", default=None)
IMPORT_BATCHES = frozenset(rpc.subject for rpc in OWNER_IMPORT_RPCS)
PARTNER_RPCS = frozenset(rpc.subject for rpc in TRUSTED_PARTNER_RPCS)


def remember_caller(request_id: str, caller: Any) -> None:
    CURRENT_CALLER.set((request_id, caller))


def line(action: str, caller: Any, *, deployment_id: uuid.UUID | None, notebook_id: uuid.UUID | None = None,
         target_type: str = "notebook", target_id: Any = None, **details: str) -> NotebookAuditRecordedV1:
    return NotebookAuditRecordedV1(
        deployment_id=deployment_id, actor_account_id=getattr(caller, "account_id", None),
        actor_role=getattr(getattr(caller, "role", None), "value", None) or "system", action=action,
        target_type=target_type, target_id=str(target_id if target_id is not None else notebook_id or ""),
        notebook_id=notebook_id, details={k: str(v) for k, v in details.items()})


def read(caller: Any, notebook_id: uuid.UUID, deployment_id: uuid.UUID | None) -> NotebookAuditRecordedV1:
    return line("notebook.read", caller, deployment_id=deployment_id, notebook_id=notebook_id)


def changes(notebooks: dict[uuid.UUID, uuid.UUID | None]) -> list[NotebookAuditRecordedV1]:
    """One line per notebook changed by the RPC being served (none outside an RPC, none for an import batch)."""
    context = get_contextvars()
    subject = context.get("subject") or ""
    if not subject.startswith("rpc.") or subject in IMPORT_BATCHES:
        return []
    remembered = CURRENT_CALLER.get()
    request_id = context.get("request_id") or ""
    caller = remembered[1] if remembered and request_id and remembered[0] == request_id else None
    role = "partner" if subject in PARTNER_RPCS else None
    events = []
    for notebook_id, deployment_id in sorted(notebooks.items(), key=lambda item: str(item[0])):
        event = line("notebook.changed", caller, deployment_id=deployment_id, notebook_id=notebook_id, rpc=subject)
        events.append(event.model_copy(update={"actor_role": role}) if role else event)
    return events
