"""Bilans d'accompagnement: at a chosen date, the progress of each objective and action of the notebook since the
previous bilan (pre-filled from the notebook, never typed again), with the professional's assessment and next steps.
Written by the notebook's members, read by them, the territory and the beneficiary; a PDF of each."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from contracts.base import RpcReply, RpcRequest, WireModel
from contracts.inputs import Text
from contracts.notebook import BilanSummary, ContractPdfReply, NotebookEvent, VersionReply
from contracts.registry import register


class BilanChange(WireModel):
    """A change of status during the period: the day, the status before and after (in French)."""

    day: date
    before: str = ""
    after: str = ""


class BilanAction(WireModel):
    action_id: uuid.UUID
    action: str
    status: str  # ActionStatus's value at the bilan's date
    status_label: str = ""
    previous_status_label: str = ""  # at the previous bilan; empty when the action is new since
    new: bool = False  # created since the previous bilan (or, for the first one, since the notebook began)
    changes: list[BilanChange] = Field(default_factory=list)
    progress: str = ""  # a sentence: "Nouvelle", "Sans changement", "en projet → en cours"


class BilanObjective(WireModel):
    target_id: uuid.UUID
    theme_label: str = ""
    target: str
    status: str  # TargetStatus's value at the bilan's date
    status_label: str = ""
    previous_status_label: str = ""
    new: bool = False
    changes: list[BilanChange] = Field(default_factory=list)
    progress: str = ""
    actions: list[BilanAction] = Field(default_factory=list)


class BilanDraft(RpcReply):
    """What a bilan at ``bilan_date`` gathers from the notebook, before the professional writes his part."""

    notebook_id: uuid.UUID
    beneficiary_name: str = ""  # « Prénom Nom », for the page's breadcrumbs
    bilan_date: date
    previous_date: date | None = None  # the previous bilan's date; None for the first one
    objectives: list[BilanObjective] = Field(default_factory=list)


class BilanView(RpcReply):
    bilan_id: uuid.UUID
    notebook_id: uuid.UUID
    bilan_date: date
    previous_date: date | None = None
    territory_name: str = ""
    beneficiary_name: str = ""
    objectives: list[BilanObjective] = Field(default_factory=list)
    assessment: str = ""
    next_steps: str = ""
    created_at: datetime
    created_by_name: str = ""


class BilansReply(RpcReply):
    notebook_id: uuid.UUID
    bilans: list[BilanSummary] = Field(default_factory=list)
    allowed: list[str] = Field(default_factory=list)  # "write_bilan" when the caller may write one


@register
class ListBilansV1(RpcRequest):
    """The notebook's bilans, newest first (members, the territory, the beneficiary omitting the id)."""

    subject: ClassVar[str] = "rpc.notebook.list_bilans.v1"
    reply_model: ClassVar = BilansReply

    notebook_id: uuid.UUID | None = None


@register
class PrepareBilanV1(RpcRequest):
    """The pre-filled bilan at ``bilan_date`` (today when not given): nothing is stored."""

    subject: ClassVar[str] = "rpc.notebook.prepare_bilan.v1"
    reply_model: ClassVar = BilanDraft

    notebook_id: uuid.UUID
    bilan_date: date | None = None


@register
class CreateBilanV1(RpcRequest):
    """Saves a bilan: the progress is gathered again by the service at this instant, the caller writes only his
    assessment and the next steps."""

    subject: ClassVar[str] = "rpc.notebook.create_bilan.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    bilan_date: date | None = None
    assessment: Text = Field(default="", max_length=5000)
    next_steps: Text = Field(default="", max_length=5000)


@register
class GetBilanV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.get_bilan.v1"
    reply_model: ClassVar = BilanView

    bilan_id: uuid.UUID


@register
class GetBilanPdfV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.get_bilan_pdf.v1"
    reply_model: ClassVar = ContractPdfReply

    bilan_id: uuid.UUID


@register
class BilanCreatedV1(NotebookEvent):
    """A bilan was saved; who is told is carried along (notify keeps no directory of its own)."""

    subject: ClassVar[str] = "notebook.bilan.created.v1"

    bilan_id: uuid.UUID
    bilan_date: date
    author_name: str = ""
    referent_email: str = ""
    referent_firstname: str = ""
    beneficiary_email: str = ""
    beneficiary_firstname: str = ""
