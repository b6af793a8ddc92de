"""Retention (issue 21): each territory keeps a notebook a number of months without activity (24 by default, 1 to 36,
set by its managers); past that, the notebook service records it as due and publishes ``notebook.retention.due.v1``
— ids only — and every service erases what it holds about that beneficiary.

Services that hold values without the notebook's ids (a message's recipient, an import row's cells) ask the notebook
for the values to look for (``rpc.notebook.get_retention_subject.v1``, answered on core NATS: the values never
rest on a stream), erase, then confirm with their own ``<owner>.retention.purged.v1``. The notebook erases its own
rows once every service confirmed: until then the values can still be asked for.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from contracts.base import IntegrationEvent, RpcReply, RpcRequest, WireModel
from contracts.inputs import Text
from contracts.registry import register

DEFAULT_MONTHS = 24
MIN_MONTHS = 1
MAX_MONTHS = 36
# The services that confirm a purge before the notebook erases its own rows (the values they look for come from it).
PURGING_SERVICES = ("identity", "notify", "import")


class DueNotebook(WireModel):
    notebook_id: uuid.UUID
    beneficiary_name: str = ""
    last_activity_at: datetime | None = None
    due_since: date
    extended_until: date | None = None  # set: an extension passed (it is due again)


class RetentionExtensionView(WireModel):
    extension_id: uuid.UUID
    notebook_id: uuid.UUID
    beneficiary_name: str = ""
    until: date
    reason: str = ""
    extended_by_name: str = ""
    extended_at: datetime


class RetentionReply(RpcReply):
    """The page « Conservation des données »: the territory's months, what is due now (the dry run: nothing is erased
    by reading it), the extensions granted, and how many notebooks were purged."""

    months: int = DEFAULT_MONTHS
    updated_by_name: str = ""
    updated_at: datetime | None = None
    due: list[DueNotebook] = Field(default_factory=list)
    extensions: list[RetentionExtensionView] = Field(default_factory=list)
    purged: int = 0


@register
class GetRetentionV1(RpcRequest):
    """Managers: their territory's policy and the dry run of the next purge."""

    subject: ClassVar[str] = "rpc.notebook.get_retention.v1"
    reply_model: ClassVar = RetentionReply


@register
class SetRetentionV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.set_retention.v1"
    reply_model: ClassVar = RetentionReply

    months: int


class ExtensionReply(RpcReply):
    extension_id: uuid.UUID


@register
class ExtendRetentionV1(RpcRequest):
    """« Prolonger »: the notebook is kept until ``until`` (the day included); the reason is required and recorded."""

    subject: ClassVar[str] = "rpc.notebook.extend_retention.v1"
    reply_model: ClassVar = ExtensionReply

    notebook_id: uuid.UUID
    until: date
    reason: Text = Field(default="", max_length=2000)


class RetentionRunReply(RpcReply):
    due: list[uuid.UUID] = Field(default_factory=list)  # notebooks found due (recorded and published unless dry run)
    purged: list[uuid.UUID] = Field(default_factory=list)  # notebooks erased by this run (every service confirmed)


@register
class RunRetentionV1(RpcRequest):
    """What the night does, now (operators' ``carnet retention run``, tests): only what the policy says is due."""

    subject: ClassVar[str] = "rpc.notebook.run_retention.v1"
    reply_model: ClassVar = RetentionRunReply

    dry_run: bool = False


class RetentionSubject(RpcReply):
    """The values a service looks for in what it holds without the notebook's ids. Empty once the notebook is
    erased."""

    notebook_id: uuid.UUID
    beneficiary_id: uuid.UUID
    known: bool = False  # False: the notebook's rows are gone (nothing left to look for)
    firstname: str = ""
    lastname: str = ""
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    nir: str = ""
    # Rows of file imports that created or updated this notebook: (import id, line) as recorded when applied.
    import_rows: list[tuple[uuid.UUID, int]] = Field(default_factory=list)


@register
class GetRetentionSubjectV1(RpcRequest):
    """Services only (never the gateway): asked by a consumer of ``notebook.retention.due.v1``."""

    subject: ClassVar[str] = "rpc.notebook.get_retention_subject.v1"
    reply_model: ClassVar = RetentionSubject

    notebook_id: uuid.UUID


@register
class RetentionDueV1(IntegrationEvent):
    """A notebook past its territory's retention (and not extended): erase what you hold about it. Ids only."""

    subject: ClassVar[str] = "notebook.retention.due.v1"

    notebook_id: uuid.UUID
    deployment_id: uuid.UUID
    beneficiary_id: uuid.UUID
    due_since: date


class RetentionPurgedEvent(IntegrationEvent):
    notebook_id: uuid.UUID
    service: ClassVar[str]


@register
class IdentityRetentionPurgedV1(RetentionPurgedEvent):
    subject: ClassVar[str] = "identity.retention.purged.v1"
    service: ClassVar[str] = "identity"


@register
class NotifyRetentionPurgedV1(RetentionPurgedEvent):
    subject: ClassVar[str] = "notify.retention.purged.v1"
    service: ClassVar[str] = "notify"


@register
class ImportRetentionPurgedV1(RetentionPurgedEvent):
    subject: ClassVar[str] = "import.retention.purged.v1"
    service: ClassVar[str] = "import"


PURGED_EVENTS = (IdentityRetentionPurgedV1, NotifyRetentionPurgedV1, ImportRetentionPurgedV1)
