"""The audit trail (issue 21): who read or changed which notebook, every export, every partner call, every account
action. Each owner publishes what happened on its own subject (a service publishes only ``<owner>.>``), in the
transaction of the action (its outbox); the audit service appends every one to its hash-chained log.

Lines carry ids, roles and action codes only, never a name, an email or a NIR: the retention purge of a beneficiary
then has nothing to rewrite in the chain.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from contracts.base import IntegrationEvent, RpcReply, RpcRequest, WireModel
from contracts.inputs import Line, Offset
from contracts.registry import register


class AuditRecorded(IntegrationEvent):
    """One line of the audit trail, as its owner saw it happen (``occurred_at``). Not on the wire itself: each
    owner has its subclass on its own subject."""

    deployment_id: uuid.UUID | None = None  # the territory whose managers may read the line (None: national)
    actor_account_id: uuid.UUID | None = None  # None: the system itself, or a partner named in ``details``
    actor_role: str = ""  # a Role's value, "partner" or "system"
    action: str  # e.g. "notebook.read", "notebook.changed", "export.requested", "account.login"
    target_type: str = ""  # "notebook", "account", "export", "import"…
    target_id: str = ""
    notebook_id: uuid.UUID | None = None
    # Ids and codes only (an RPC's subject, an import's kind): never personal data.
    details: dict[str, str] = Field(default_factory=dict)


@register
class NotebookAuditRecordedV1(AuditRecorded):
    """A notebook was read or changed by someone, or exported."""

    subject: ClassVar[str] = "notebook.audit.recorded.v1"


@register
class IdentityAuditRecordedV1(AuditRecorded):
    """An account action: a login (or its refusal), a refresh, an account confirmed, deactivated, reactivated."""

    subject: ClassVar[str] = "identity.audit.recorded.v1"


@register
class ImportAuditRecordedV1(AuditRecorded):
    """A file import was started, or a partner's message was received (and applied or refused)."""

    subject: ClassVar[str] = "import.audit.recorded.v1"


AUDIT_EVENTS: tuple[type[AuditRecorded], ...] = (NotebookAuditRecordedV1, IdentityAuditRecordedV1,
                                                ImportAuditRecordedV1)


class AuditLineView(WireModel):
    seq: int
    recorded_at: datetime
    occurred_at: datetime
    deployment_id: uuid.UUID | None
    actor_account_id: uuid.UUID | None
    actor_role: str
    action: str
    target_type: str
    target_id: str
    notebook_id: uuid.UUID | None
    details: dict[str, str]


class AuditLinesReply(RpcReply):
    total: int
    lines: list[AuditLineView]


@register
class ListAuditLinesV1(RpcRequest):
    """The audit trail, newest first: a manager reads their territory's lines, admin_cdb every line; anyone else
    is refused. Filters: the period (Paris days, both included), the actor, the notebook, the action."""

    subject: ClassVar[str] = "rpc.audit.list_lines.v1"
    reply_model: ClassVar = AuditLinesReply

    period_from: date | None = None
    period_to: date | None = None
    actor_account_id: uuid.UUID | None = None
    notebook_id: uuid.UUID | None = None
    action: Line = Field(default="", max_length=60)
    offset: Offset = 0
    limit: int = Field(default=50, ge=1, le=5000)
