"""Another territory (issue 17 item 5): a notebook **transferred** when the beneficiary moves (asked by a manager of
the origin, accepted or refused by a manager of the destination; on acceptance the notebook and its history belong
to the destination), and a **referral** (a professional of another territory invited into the group until a date;
the owner territory stays).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from contracts.base import RpcReply, RpcRequest, WireModel
from contracts.inputs import Line, Text
from contracts.notebook import NotebookEvent, VersionReply
from contracts.registry import register


class TransferStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    refused = "refused"


class TransferView(WireModel):
    transfer_id: uuid.UUID
    notebook_id: uuid.UUID
    beneficiary_name: str = ""
    date_of_birth: date | None = None
    from_deployment_id: uuid.UUID
    from_label: str = ""
    to_deployment_id: uuid.UUID
    to_label: str = ""
    status: TransferStatus
    reason: str = ""
    requested_at: datetime
    requested_by_name: str = ""
    decided_at: datetime | None = None
    decided_by_name: str = ""
    decision_reason: str = ""


class ReferralView(WireModel):
    referral_id: uuid.UUID
    notebook_id: uuid.UUID
    person_name: str = ""
    person_email: str = ""
    territory_label: str = ""
    until: date
    active: bool = False  # today is on or before ``until`` (checked when read: no job ends it)
    reason: str = ""
    granted_at: datetime
    granted_by_name: str = ""


class TerritoryChoice(WireModel):
    deployment_id: uuid.UUID
    label: str
    department_code: str = ""


class NotebookTransfersReply(RpcReply):
    """A notebook's transfers and referrals, and what the caller may do (destination territories to choose)."""

    notebook_id: uuid.UUID
    beneficiary_name: str = ""
    territory_label: str = ""
    transfers: list[TransferView] = Field(default_factory=list)
    referrals: list[ReferralView] = Field(default_factory=list)
    territories: list[TerritoryChoice] = Field(default_factory=list)  # where it may be transferred
    allowed: list[str] = Field(default_factory=list)


class TransfersReply(RpcReply):
    """The manager's page « Transferts »: those waiting for their territory's decision, and those it asked."""

    incoming: list[TransferView] = Field(default_factory=list)
    outgoing: list[TransferView] = Field(default_factory=list)


@register
class GetNotebookTransfersV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.get_notebook_transfers.v1"
    reply_model: ClassVar = NotebookTransfersReply

    notebook_id: uuid.UUID


@register
class ListTransfersV1(RpcRequest):
    """Managers: the transfers to their territory waiting for a decision, and the recent ones it asked."""

    subject: ClassVar[str] = "rpc.notebook.list_transfers.v1"
    reply_model: ClassVar = TransfersReply


@register
class RequestTransferV1(RpcRequest):
    """A manager of the notebook's territory asks that it move to another territory (the beneficiary moved)."""

    subject: ClassVar[str] = "rpc.notebook.request_transfer.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    to_deployment_id: uuid.UUID
    reason: Text = Field(max_length=2000)


@register
class DecideTransferV1(RpcRequest):
    """A manager of the destination accepts (the notebook and its history move) or refuses with a reason."""

    subject: ClassVar[str] = "rpc.notebook.decide_transfer.v1"
    reply_model: ClassVar = VersionReply

    transfer_id: uuid.UUID
    accepted: bool
    reason: Text = Field(default="", max_length=2000)


@register
class GrantReferralV1(RpcRequest):
    """A manager of the notebook's territory invites a professional of another territory (by their address) into
    the group until a date."""

    subject: ClassVar[str] = "rpc.notebook.grant_referral.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    email: Line = Field(max_length=320)
    until: date
    reason: Text = Field(default="", max_length=2000)


class TransferEvent(NotebookEvent):
    """A transfer's step; ``deployment_id`` is the notebook's territory after the step."""

    transfer_id: uuid.UUID
    from_deployment_id: uuid.UUID
    from_label: str = ""
    to_deployment_id: uuid.UUID
    to_label: str = ""
    requested_by_email: str = ""


@register
class TransferRequestedV1(TransferEvent):
    subject: ClassVar[str] = "notebook.transfer.requested.v1"

    reason: str = ""
    # The destination's managers, who decide.
    manager_emails: list[str] = Field(default_factory=list)


@register
class TransferAcceptedV1(TransferEvent):
    """The notebook now belongs to ``to_deployment_id``; the beneficiary is told."""

    subject: ClassVar[str] = "notebook.transfer.accepted.v1"

    beneficiary_email: str = ""
    beneficiary_firstname: str = ""


@register
class TransferRefusedV1(TransferEvent):
    subject: ClassVar[str] = "notebook.transfer.refused.v1"

    reason: str = ""


@register
class ReferralGrantedV1(NotebookEvent):
    subject: ClassVar[str] = "notebook.referral.granted.v1"

    referral_id: uuid.UUID
    person_id: uuid.UUID
    person_email: str = ""
    person_firstname: str = ""
    territory_label: str = ""  # the notebook's
    until: date


TRANSFER_EVENTS = (TransferRequestedV1, TransferAcceptedV1, TransferRefusedV1, ReferralGrantedV1)
