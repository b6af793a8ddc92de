"""Pilotage (issue 18): the beneficiaries' filter builder and its saved queries, the dashboards, and the exports of
every list a role can see.

All of it is served by the notebook service from its **pilotage read model**: one row of facts per notebook
(structure, référent, orientation, rights, CER state, last activity, themes, origin), kept by the event
``notebook.notebook.changed.v1`` that every transaction touching a notebook publishes. Dashboards and queries read
that table only, never the write tables, so a count on a dashboard equals the exported list for the same filters.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from contracts.base import IntegrationEvent, RpcReply, RpcRequest, WireModel
from contracts.imports import ImportKind
from contracts.inputs import Line, Offset
from contracts.notebook import RightRsa, SupportStatus
from contracts.registry import register

MAX_CHOICES = 50  # ids or values one filter may list
# Export files: the notebook writes them, the gateway streams them; apart from ``uploads`` (imported files hold
# NIRs the notebook has no business reading), and kept as long (7 days).
EXPORTS_BUCKET = "exports"


class CerState(StrEnum):
    """The state of a notebook's current CER (the latest one not renewed); ``none``: it never had one."""

    none = "none"
    draft = "draft"
    submitted = "submitted"
    validated = "validated"
    signed = "signed"
    ended = "ended"


class Origin(StrEnum):
    """Where a notebook came from: typed by a professional, a file import, a flux, a partner's software."""

    manual = "manual"
    file_import = "import"
    cafmsa = "cafmsa"
    france_travail = "france_travail"
    partner = "partner"


class BeneficiaryFilters(WireModel):
    """The filter builder of the beneficiaries' list. Every field narrows the list; an empty one does not filter.
    Lists are OR within a field (structure A or B), fields are AND between them."""

    structure_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_CHOICES)
    without_structure: bool = False  # with ``structure_ids``: or following no structure
    referent_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_CHOICES)
    orientation_system_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_CHOICES)
    support: list[SupportStatus] = Field(default_factory=list, max_length=MAX_CHOICES)
    rsa_rights: list[RightRsa] = Field(default_factory=list, max_length=MAX_CHOICES)
    subject_to_right_and_duty: bool | None = None
    cer_states: list[CerState] = Field(default_factory=list, max_length=MAX_CHOICES)
    cer_end_from: date | None = None
    cer_end_to: date | None = None
    last_activity_from: date | None = None
    last_activity_to: date | None = None
    themes: list[Line] = Field(default_factory=list, max_length=MAX_CHOICES)  # theme codes of the work axes
    created_from: date | None = None
    created_to: date | None = None
    origins: list[Origin] = Field(default_factory=list, max_length=MAX_CHOICES)
    # A reorientation request waiting for a decision, asked between these days (the dashboards' ages of requests).
    reorientation_from: date | None = None
    reorientation_to: date | None = None
    # Whole days from entry to the first orientation / the first CER (the dashboards' delay buckets, bounds
    # included; a date typed before the entry counts as 0 day there, so no lower bound takes those in).
    orientation_days_min: int | None = Field(default=None, ge=0, le=100_000)
    orientation_days_max: int | None = Field(default=None, ge=0, le=100_000)
    cer_days_min: int | None = Field(default=None, ge=0, le=100_000)
    cer_days_max: int | None = Field(default=None, ge=0, le=100_000)
    # Followed by a référent other than these (the « Autres » of the référents' load: all but the most loaded).
    other_than_referent_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_CHOICES)
    # The actions' list only (QueryActionsV1, the actions export): their status (``themes`` is then the action's
    # theme, ``created_from``/``created_to`` the days it was created, the structures the notebook's).
    action_statuses: list[Line] = Field(default_factory=list, max_length=MAX_CHOICES)

    @model_validator(mode="after")
    def _ranges_in_order(self) -> BeneficiaryFilters:
        for start, end, label in (("cer_end_from", "cer_end_to", "fin du CER"),
                                  ("last_activity_from", "last_activity_to", "dernière activité"),
                                  ("created_from", "created_to", "création"),
                                  ("reorientation_from", "reorientation_to", "demande de réorientation"),
                                  ("orientation_days_min", "orientation_days_max", "délai d'orientation"),
                                  ("cer_days_min", "cer_days_max", "délai du premier CER")):
            low, high = getattr(self, start), getattr(self, end)
            if low is not None and high is not None and low > high:
                raise ValueError(f"La période « {label} » finit avant de commencer.")
        return self


class BeneficiaryFact(WireModel):
    """One row of the beneficiaries' list of pilotage (and of its export)."""

    notebook_id: uuid.UUID
    deployment_id: uuid.UUID
    lastname: str
    firstname: str
    date_of_birth: date | None = None
    structure_id: uuid.UUID | None = None
    structure_name: str = ""
    referent_id: uuid.UUID | None = None
    referent_name: str = ""
    orientation_system_id: uuid.UUID | None = None
    orientation_system_name: str = ""
    support: SupportStatus
    orientation_manager_id: uuid.UUID | None = None  # the active chargé d'orientation
    orientation_manager_name: str = ""
    rsa_right: RightRsa | None = None
    subject_to_right_and_duty: bool = False
    cer_state: CerState = CerState.none
    cer_end_date: date | None = None
    last_activity_at: datetime | None = None
    created_at: datetime
    first_oriented_at: datetime | None = None
    first_cer_at: datetime | None = None
    origin: Origin = Origin.manual
    themes: list[str] = Field(default_factory=list)
    pending_reorientation_since: datetime | None = None


class Count(WireModel):
    """A count of the list by one key (a structure, a référent…); ``key`` is the id or value to filter on."""

    key: str = ""
    label: str
    count: int


class BeneficiaryFactsReply(RpcReply):
    rows: list[BeneficiaryFact] = Field(default_factory=list)
    total: int = 0
    by_structure: list[Count] = Field(default_factory=list)  # the whole filtered list, counted per structure


@register
class QueryBeneficiariesV1(RpcRequest):
    """The filtered beneficiaries the caller may see: a territory for its managers and orientation managers,
    the structures of a structure admin, the notebooks a professional is a member of; every territory, or the one
    given, for admin_cdb."""

    subject: ClassVar[str] = "rpc.notebook.query_beneficiaries.v1"
    reply_model: ClassVar = BeneficiaryFactsReply

    filters: BeneficiaryFilters = Field(default_factory=BeneficiaryFilters)
    deployment_id: uuid.UUID | None = None  # admin_cdb only
    offset: Offset = 0
    limit: int = Field(default=50, ge=1, le=500)


class ActionFact(WireModel):
    """One row of the actions' list of pilotage (a dashboard's « actions par thème et statut » drill-down)."""

    action_id: uuid.UUID
    notebook_id: uuid.UUID
    lastname: str
    firstname: str
    structure_name: str = ""
    theme: str  # the theme's code
    theme_label: str = ""
    status: str
    created_at: datetime


class ActionFactsReply(RpcReply):
    rows: list[ActionFact] = Field(default_factory=list)
    total: int = 0


@register
class QueryActionsV1(RpcRequest):
    """The actions of the notebooks the caller may see (as QueryBeneficiariesV1), filtered by their theme
    (``themes``), status (``action_statuses``), creation days (``created_from``/``created_to``) and notebook's
    structure; any other filter is refused."""

    subject: ClassVar[str] = "rpc.notebook.query_actions.v1"
    reply_model: ClassVar = ActionFactsReply

    filters: BeneficiaryFilters = Field(default_factory=BeneficiaryFilters)
    deployment_id: uuid.UUID | None = None  # admin_cdb only
    offset: Offset = 0
    limit: int = Field(default=50, ge=1, le=500)


# --- Saved queries -------------------------------------------------------------------------------------------

class SavedQuery(WireModel):
    query_id: uuid.UUID
    name: str
    filters: BeneficiaryFilters
    shared: bool = False  # seen and re-run by every manager and professional of the territory who may list
    owner_name: str = ""
    mine: bool = False  # the caller saved it: she may rename, share or delete it
    created_at: datetime
    updated_at: datetime | None = None


class SavedQueryReply(RpcReply):
    query: SavedQuery


class SavedQueriesReply(RpcReply):
    queries: list[SavedQuery] = Field(default_factory=list)


@register
class SaveQueryV1(RpcRequest):
    """Saves a new query, or renames, re-filters or (un)shares one of the caller's (``query_id``)."""

    subject: ClassVar[str] = "rpc.notebook.save_query.v1"
    reply_model: ClassVar = SavedQueryReply

    query_id: uuid.UUID | None = None
    name: Line = Field(min_length=1, max_length=120)
    filters: BeneficiaryFilters = Field(default_factory=BeneficiaryFilters)
    shared: bool = False


@register
class ListSavedQueriesV1(RpcRequest):
    """The caller's queries and those shared in her territory."""

    subject: ClassVar[str] = "rpc.notebook.list_saved_queries.v1"
    reply_model: ClassVar = SavedQueriesReply


@register
class GetSavedQueryV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.get_saved_query.v1"
    reply_model: ClassVar = SavedQueryReply

    query_id: uuid.UUID


@register
class DeleteSavedQueryV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.delete_saved_query.v1"
    reply_model: ClassVar = SavedQueryReply

    query_id: uuid.UUID


# --- Dashboards ----------------------------------------------------------------------------------------------

class PilotageScope(StrEnum):
    territory = "territory"
    structure = "structure"
    national = "national"


class Point(WireModel):
    """One bar or point: its label, its value, and the filters of the list behind it (the drill-down)."""

    label: str
    value: float
    drill: BeneficiaryFilters | None = None
    drill_deployment_id: uuid.UUID | None = None  # national figures: the territory of the point
    # No number was recorded for it (a past month without a daily snapshot): shown as missing, never as 0.
    missing: bool = False
    # Which list ``drill`` filters: the beneficiaries' (QueryBeneficiariesV1) or the actions' (QueryActionsV1); or
    # the imports' (ListImportsV1, the caller's own scope, of ``drill_import_kind``), which takes no ``drill``.
    drill_list: Literal["beneficiaries", "actions", "imports"] = "beneficiaries"
    drill_import_kind: ImportKind | None = None
    # Set when the list behind is not this number's own (a past month's state is kept as counts only): what the
    # list is instead, in French; otherwise the list's count is the value.
    drill_note: str = ""


class Series(WireModel):
    name: str
    points: list[Point] = Field(default_factory=list)


class Figure(WireModel):
    """A chart and the table of the same numbers."""

    key: str  # stable, for the CSV/PNG download and the page anchor
    title: str
    kind: Literal["bar", "stacked", "line", "histogram"] = "bar"
    unit: str = ""  # "bénéficiaires", "jours"…
    series: list[Series] = Field(default_factory=list)
    summary: str = ""  # one French sentence: "Médiane : 34 jours"
    note: str = ""  # how the figure is counted


class Choice(WireModel):
    id: uuid.UUID
    label: str


class PilotageDashboardReply(RpcReply):
    scope: PilotageScope
    label: str  # "Territoire de la Drôme", "Structure Insertion 26", "National"
    period_from: date
    period_to: date
    figures: list[Figure] = Field(default_factory=list)
    structures: list[Choice] = Field(default_factory=list)  # the structures the caller may pick


@register
class GetPilotageDashboardV1(RpcRequest):
    """The dashboard of the caller's territory, of one structure (a structure admin: one of hers), or national
    (admin_cdb), over a period (default: the last twelve months)."""

    subject: ClassVar[str] = "rpc.notebook.get_pilotage_dashboard.v1"
    reply_model: ClassVar = PilotageDashboardReply

    scope: PilotageScope = PilotageScope.territory
    structure_id: uuid.UUID | None = None
    deployment_id: uuid.UUID | None = None  # admin_cdb looking at one territory
    period_from: date | None = None
    period_to: date | None = None


# --- Exports -------------------------------------------------------------------------------------------------

class ExportList(StrEnum):
    beneficiaries = "beneficiaries"  # the pilotage list: référent, structure, orientation, rights, CER state
    professionals = "professionals"
    structures = "structures"
    orientation_requests = "orientation_requests"
    appointments = "appointments"
    actions = "actions"
    imports = "imports"


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


class ExportState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    expired = "expired"  # its file was kept 7 days


class ExportView(WireModel):
    export_id: uuid.UUID
    list_name: ExportList
    format: ExportFormat
    label: str = ""  # "Bénéficiaires — requête « Sans CER »"
    filters: BeneficiaryFilters = Field(default_factory=BeneficiaryFilters)
    state: ExportState
    rows_total: int | None = None
    rows_done: int = 0
    requested_by_name: str = ""
    requested_at: datetime
    finished_at: datetime | None = None
    expires_at: datetime | None = None
    filename: str = ""
    error: str = ""  # in French, when failed
    filters_summary: list[str] = Field(default_factory=list)  # the filters in French, with names: « Structure : … »


class ExportReply(RpcReply):
    export: ExportView


class ExportsReply(RpcReply):
    exports: list[ExportView] = Field(default_factory=list)
    total: int = 0


@register
class StartExportV1(RpcRequest):
    """Records an export and starts it in the background; the file is kept 7 days in the object store."""

    subject: ClassVar[str] = "rpc.notebook.start_export.v1"
    reply_model: ClassVar = ExportReply

    list_name: ExportList
    filters: BeneficiaryFilters = Field(default_factory=BeneficiaryFilters)
    format: ExportFormat = ExportFormat.csv
    query_id: uuid.UUID | None = None  # a saved query: its filters, and its name in the label
    deployment_id: uuid.UUID | None = None  # admin_cdb only


@register
class GetExportV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.get_export.v1"
    reply_model: ClassVar = ExportReply

    export_id: uuid.UUID


@register
class ListExportsV1(RpcRequest):
    """The caller's exports; a territory's managers see every export of their territory (who, which filter,
    how many rows)."""

    subject: ClassVar[str] = "rpc.notebook.list_exports.v1"
    reply_model: ClassVar = ExportsReply

    offset: Offset = 0
    limit: int = Field(default=50, ge=1, le=200)


class ExportFileReply(RpcReply):
    object_name: str  # in the object store's exports bucket; the gateway streams it
    filename: str
    content_type: str


@register
class GetExportFileV1(RpcRequest):
    """Where the finished file of an export the caller may download lies."""

    subject: ClassVar[str] = "rpc.notebook.get_export_file.v1"
    reply_model: ClassVar = ExportFileReply

    export_id: uuid.UUID


# --- Events --------------------------------------------------------------------------------------------------

@register
class NotebookChangedV1(IntegrationEvent):
    """Something of a notebook changed (one per notebook and transaction): the pilotage read model recomputes the
    notebook's row. It carries ids only: whoever needs the state reads it from its owner."""

    subject: ClassVar[str] = "notebook.notebook.changed.v1"

    notebook_id: uuid.UUID
    deployment_id: uuid.UUID


@register
class ExportRequestedV1(IntegrationEvent):
    """An export was recorded: a replica's export worker writes its file."""

    subject: ClassVar[str] = "notebook.export.requested.v1"

    export_id: uuid.UUID
    deployment_id: uuid.UUID | None = None


# --- The filter builder's choices (added by the queries' page) ------------------------------------------------

class QueryChoicesReply(RpcReply):
    """What the filter builder offers: the structures, référents and orientation systems of the caller's scope."""

    structures: list[Choice] = Field(default_factory=list)
    referents: list[Choice] = Field(default_factory=list)
    orientation_systems: list[Choice] = Field(default_factory=list)


@register
class GetQueryChoicesV1(RpcRequest):
    """The choices of the filter builder: a territory's for its managers, orientation managers and professionals,
    a structure admin's structures and their professionals; the territory given for admin_cdb."""

    subject: ClassVar[str] = "rpc.notebook.get_query_choices.v1"
    reply_model: ClassVar = QueryChoicesReply

    deployment_id: uuid.UUID | None = None  # admin_cdb only
