"""The beneficiary's rights from her own login (RGPD art. 15, 16, 21): everything held about her, gathered from each
service that holds some (each answers for its own data, for the signed-in beneficiary only); her requests for a
rectification or her objection, kept by the notebook with their answer and due date (one month), answered by her
référent or the territory's managers, who are reminded of the ones due soon."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field

from contracts.base import RpcReply, RpcRequest, WireModel
from contracts.inputs import Line, Text
from contracts.notebook import ContractPdfReply, NotebookEvent, VersionReply
from contracts.registry import register
from contracts.retention import RetentionSubject


class SubjectDataSection(WireModel):
    """One part of what a service holds about the person: a French title and its data as JSON."""

    service: str
    key: str
    title: str
    data: Any = None


class SubjectDataReply(RpcReply):
    sections: list[SubjectDataSection] = Field(default_factory=list)


@register
class GetNotebookSubjectDataV1(RpcRequest):
    """What the notebook holds about the signed-in beneficiary (her notebook, whole, and its history)."""

    subject: ClassVar[str] = "rpc.notebook.get_subject_data.v1"
    reply_model: ClassVar = SubjectDataReply


@register
class GetIdentitySubjectDataV1(RpcRequest):
    """What identity holds about the signed-in beneficiary: her account, consents, logins and sessions."""

    subject: ClassVar[str] = "rpc.identity.get_subject_data.v1"
    reply_model: ClassVar = SubjectDataReply


@register
class GetNotifySubjectDataV1(RpcRequest):
    """The messages sent to the signed-in beneficiary (date, channel, subject; never a one-time secret)."""

    subject: ClassVar[str] = "rpc.notify.get_subject_data.v1"
    reply_model: ClassVar = SubjectDataReply


@register
class GetImportSubjectDataV1(RpcRequest):
    """The lines of imported files about the signed-in beneficiary: those applied to her notebook, and those of her
    territory's imports whose cells hold her NIR (a line refused, excluded or left in review) — never a match on
    names alone, which could be another person's line."""

    subject: ClassVar[str] = "rpc.data_import.get_subject_data.v1"
    reply_model: ClassVar = SubjectDataReply


@register
class GetMySubjectValuesV1(RpcRequest):
    """Services only (never the gateway): for the signed-in beneficiary, whose token the asking service forwards,
    the values it looks for in what it holds about her, as a purge does."""

    subject: ClassVar[str] = "rpc.notebook.get_my_subject_values.v1"
    reply_model: ClassVar = RetentionSubject


@register
class RenderSubjectDataPdfV1(RpcRequest):
    """The readable PDF of everything held about the signed-in beneficiary: the notebook adds its own sections to
    those the gateway gathered from the other services (hers, asked with her token) and renders them."""

    subject: ClassVar[str] = "rpc.notebook.render_subject_data_pdf.v1"
    reply_model: ClassVar = ContractPdfReply

    sections: list[SubjectDataSection] = Field(default_factory=list, max_length=50)


class RightsRequestKind(StrEnum):
    rectification = "rectification"
    objection = "objection"


class RightsRequestState(StrEnum):
    open = "open"
    accepted = "accepted"
    refused = "refused"


class RightsRequestView(WireModel):
    request_id: uuid.UUID
    notebook_id: uuid.UUID
    beneficiary_name: str = ""
    kind: RightsRequestKind
    field: str = ""  # which information (a rectification)
    text: str = ""   # what is wrong / the reason of the objection
    wanted: str = ""  # what it should be (a rectification)
    created_at: datetime
    due_on: date
    state: RightsRequestState
    overdue: bool = False
    answer: str = ""
    answered_by_name: str = ""
    answered_at: datetime | None = None


class RightsRequestsReply(RpcReply):
    requests: list[RightsRequestView] = Field(default_factory=list)
    may_answer: bool = False


@register
class CreateRightsRequestV1(RpcRequest):
    """The beneficiary asks a rectification of her data, or objects to their processing (her own notebook)."""

    subject: ClassVar[str] = "rpc.notebook.create_rights_request.v1"
    reply_model: ClassVar = VersionReply

    kind: RightsRequestKind
    field: Line = Field(default="", max_length=200)
    text: Text = Field(max_length=3000)
    wanted: Text = Field(default="", max_length=3000)


@register
class ListRightsRequestsV1(RpcRequest):
    """The requests of a notebook (its référent, the territory's managers; the beneficiary omits the id), or with no
    id, of the manager's whole territory; open ones first, the most urgent first."""

    subject: ClassVar[str] = "rpc.notebook.list_rights_requests.v1"
    reply_model: ClassVar = RightsRequestsReply

    notebook_id: uuid.UUID | None = None
    open_only: bool = False


@register
class AnswerRightsRequestV1(RpcRequest):
    """Accepted (what was corrected) or refused (why): once, by the référent (a rectification) or a manager."""

    subject: ClassVar[str] = "rpc.notebook.answer_rights_request.v1"
    reply_model: ClassVar = VersionReply

    request_id: uuid.UUID
    accepted: bool
    answer: Text = Field(max_length=3000)


class RightsRequestEvent(NotebookEvent):
    request_id: uuid.UUID
    kind: RightsRequestKind
    due_on: date
    beneficiary_name: str = ""


@register
class RightsRequestCreatedV1(RightsRequestEvent):
    """Told to whoever answers: the référent (a rectification) and the territory's managers."""

    subject: ClassVar[str] = "notebook.rights_request.created.v1"

    recipients: list[str] = Field(default_factory=list)


@register
class RightsRequestAnsweredV1(RightsRequestEvent):
    """Told to the beneficiary, with a link to read the answer from her login."""

    subject: ClassVar[str] = "notebook.rights_request.answered.v1"

    accepted: bool
    beneficiary_email: str = ""
    beneficiary_firstname: str = ""


@register
class RightsRequestsDueV1(NotebookEvent):
    """The nightly reminder of a request still open within 7 days of its due date, or past it (once a day)."""

    subject: ClassVar[str] = "notebook.rights_request.due.v1"

    request_id: uuid.UUID
    kind: RightsRequestKind
    due_on: date
    overdue: bool = False
    beneficiary_name: str = ""
    recipients: list[str] = Field(default_factory=list)


RIGHTS_EVENTS = (RightsRequestCreatedV1, RightsRequestAnsweredV1, RightsRequestsDueV1)
