"""File imports (spec §4.1): the import service reads, reviews and reports; the owners apply.

Two conversations:

- the gateway and the import service (``rpc.data_import.*``): open an import, say the file is in the object store,
  follow its progress, page through its rows, apply it, fetch its report. The uploaded file and the reports travel
  through the JetStream object store bucket ``uploads`` (``UPLOADS_BUCKET``), never whole in a message.
- the import service and the owners of the data (``rpc.notebook.*_import.v1``, ``rpc.directory.*_import.v1``):
  batches of parsed rows, first to review (what would each row do?), then to apply. Only the import service may
  send them (bus permissions): it checked the uploader's token when the import was opened and sends who they are
  as ``actor``; the owner checks the actor's rights on every row, as it would for a form, in its own transaction.

A batch is applied exactly once per ``(import_id, row)``: the owner records each applied row with its outcome in
the same transaction as its effect, and answers a batch sent again (after a crash) with the recorded outcomes.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import Field

from contracts.base import IntegrationEvent, RpcReply, RpcRequest, WireModel
from contracts.identity import Role
from contracts.inputs import Line, Offset
from contracts.registry import register

UPLOADS_BUCKET = "uploads"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# Rows per batch sent to an owner: a batch and its reply stay well under NATS's 1 MB message limit.
BATCH_ROWS = 500
MAX_PAGE = 500


class ImportKind(StrEnum):
    beneficiaries = "beneficiaries"
    structures = "structures"
    professionals = "professionals"
    orientation_managers = "orientation-managers"
    referents = "referents"  # rattachement of notebooks to professionals
    reorientations = "reorientations"
    # Flux of the insertion's partners (spec §4.2–4.3): updates of what they know, matched within the territory.
    caf_msa = "caf-msa"  # the CAF or MSA RSA XML flux
    france_travail_principal = "france-travail-principal"  # the France Travail "principal" CSV
    france_travail_actions = "france-travail-actions"  # the France Travail "actions" CSV


# Which owner applies which kind.
NOTEBOOK_KINDS = frozenset({ImportKind.beneficiaries, ImportKind.referents, ImportKind.reorientations,
                            ImportKind.caf_msa, ImportKind.france_travail_principal,
                            ImportKind.france_travail_actions})
DIRECTORY_KINDS = frozenset({ImportKind.structures, ImportKind.professionals, ImportKind.orientation_managers})


class ImportState(StrEnum):
    receiving = "receiving"  # opened, the file is being uploaded
    parsing = "parsing"  # read, validated, then reviewed against the owner's data
    review = "review"  # waiting for the uploader to choose rows and apply
    applying = "applying"
    done = "done"
    failed = "failed"  # with a French reason


class ReviewStatus(StrEnum):
    new = "new"  # nothing matches: applying creates
    same = "same"  # matches an existing person or structure: applying updates its variable fields, if any changed
    conflict = "conflict"  # matches ambiguously or contradicts what exists (spec §4.1 messages): not applied
    invalid = "invalid"  # a cell is wrong or a mandatory one empty: not applied


class Outcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    rejected = "rejected"
    excluded = "excluded"  # deselected by the uploader


class ImportCounts(WireModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    excluded: int = 0


class ReviewCounts(WireModel):
    new: int = 0
    same: int = 0
    conflict: int = 0
    invalid: int = 0


class ImportView(RpcReply):
    import_id: uuid.UUID
    kind: ImportKind
    filename: str
    state: ImportState
    reason: str = ""  # why it failed, in French
    rows_total: int = 0
    rows_done: int = 0  # parsed rows while parsing, applied rows while applying
    counts: ImportCounts = Field(default_factory=ImportCounts)
    review: ReviewCounts = Field(default_factory=ReviewCounts)
    rows_per_s: float | None = None
    eta_s: float | None = None
    warnings: list[str] = Field(default_factory=list)  # unknown columns, file already imported on …
    created_at: datetime
    created_by_name: str = ""
    finished_at: datetime | None = None


class ImportsReply(RpcReply):
    imports: list[ImportView]


class MatchView(WireModel):
    """What a row matched in the owner's data: a beneficiary, a notebook, a structure, a person."""

    target_id: uuid.UUID | None = None
    label: str = ""  # e.g. "Hélène Çelik, née le 12/03/1985"


class ImportRowView(WireModel):
    row: int  # line number in the file, the header being line 1
    status: ReviewStatus
    outcome: Outcome | None = None
    values: dict[str, str]  # header as the file wrote it → cell as written
    match: MatchView | None = None
    messages: list[str] = Field(default_factory=list)  # French, errors first


class ImportRowsReply(RpcReply):
    rows: list[ImportRowView]
    total: int


class ImportOpenedReply(RpcReply):
    import_id: uuid.UUID
    object_name: str  # where the gateway puts the file in the ``uploads`` bucket
    max_bytes: int


class ImportObjectReply(RpcReply):
    """A file the import service left in the ``uploads`` bucket for the gateway to stream: a template, a report."""

    object_name: str
    filename: str
    content_type: str


# --- gateway → import service -----------------------------------------------------------------------------

@register
class OpenImportV1(RpcRequest):
    """Checks that the caller may import this kind, and reserves a place for the file."""

    subject: ClassVar[str] = "rpc.data_import.open.v1"
    reply_model: ClassVar = ImportOpenedReply

    kind: ImportKind
    filename: Line = Field(min_length=1, max_length=255)
    # A structure admin of several structures says which one professionals and rattachements are for.
    structure_id: uuid.UUID | None = None


@register
class FinishUploadV1(RpcRequest):
    """The file is in the object store (``error`` empty): parsing starts. Or the upload failed: the import is
    ``failed`` with ``error`` as its reason (e.g. over the size limit)."""

    subject: ClassVar[str] = "rpc.data_import.finish_upload.v1"
    reply_model: ClassVar = ImportView

    import_id: uuid.UUID
    error: Line = Field(default="", max_length=500)


@register
class GetImportV1(RpcRequest):
    subject: ClassVar[str] = "rpc.data_import.get.v1"
    reply_model: ClassVar = ImportView

    import_id: uuid.UUID


@register
class ListImportsV1(RpcRequest):
    """The imports of the caller's scope (their territory, or their structures), newest first."""

    subject: ClassVar[str] = "rpc.data_import.list.v1"
    reply_model: ClassVar = ImportsReply

    kind: ImportKind | None = None
    offset: Offset = 0
    limit: int = Field(default=50, ge=1, le=200)


@register
class ListImportRowsV1(RpcRequest):
    subject: ClassVar[str] = "rpc.data_import.rows.v1"
    reply_model: ClassVar = ImportRowsReply

    import_id: uuid.UUID
    status: ReviewStatus | None = None
    offset: Offset = 0
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)


@register
class ApplyImportV1(RpcRequest):
    """Applies every ``new`` and ``same`` row but the excluded ones; answers at once, the import goes on."""

    subject: ClassVar[str] = "rpc.data_import.apply.v1"
    reply_model: ClassVar = ImportView

    import_id: uuid.UUID
    exclude_rows: list[int] = Field(default_factory=list, max_length=200_000)


@register
class GetImportReportV1(RpcRequest):
    """Writes the per-row report into the object store: errors first, then every row with its outcome."""

    subject: ClassVar[str] = "rpc.data_import.report.v1"
    reply_model: ClassVar = ImportObjectReply

    import_id: uuid.UUID
    format: Literal["csv", "xlsx"] = "csv"


@register
class GetImportTemplateV1(RpcRequest):
    """The file to fill in for a kind: its header line, mandatory columns marked with ``*``."""

    subject: ClassVar[str] = "rpc.data_import.template.v1"
    reply_model: ClassVar = ImportObjectReply

    kind: ImportKind
    format: Literal["csv", "xlsx"] = "csv"


# --- import service → owners ------------------------------------------------------------------------------

class ImportActor(WireModel):
    """The uploader, as their token said when the import was opened."""

    account_id: uuid.UUID
    role: Role
    deployment_id: uuid.UUID | None = None
    profile_id: uuid.UUID | None = None
    structure_ids: list[uuid.UUID] = Field(default_factory=list)
    name: str = ""


class ImportRowValues(WireModel):
    row: int
    # Parsed cells by field name (``data_import.domain.kinds``): strings, ISO dates, booleans, lists of strings;
    # absent when the cell was empty.
    values: dict[str, Any]


class RowReview(WireModel):
    row: int
    status: ReviewStatus
    match: MatchView | None = None
    messages: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)  # for ``same``: the fields applying would change


class RowOutcome(WireModel):
    row: int
    outcome: Outcome
    target_id: uuid.UUID | None = None
    messages: list[str] = Field(default_factory=list)


class ReviewedReply(RpcReply):
    results: list[RowReview]


class AppliedReply(RpcReply):
    results: list[RowOutcome]


class ImportBatch(RpcRequest):
    import_id: uuid.UUID
    kind: ImportKind
    actor: ImportActor
    structure_id: uuid.UUID | None = None  # the structure the import is for (professionals, rattachements)
    rows: list[ImportRowValues] = Field(max_length=BATCH_ROWS)


@register
class ReviewNotebookImportV1(ImportBatch):
    """What each row of beneficiaries, rattachements or réorientations would do; changes nothing."""

    subject: ClassVar[str] = "rpc.notebook.review_import.v1"
    reply_model: ClassVar = ReviewedReply


@register
class ApplyNotebookImportV1(ImportBatch):
    """Applies the rows, each alone (a bad row never stops the others nor is half-applied), exactly once."""

    subject: ClassVar[str] = "rpc.notebook.apply_import.v1"
    reply_model: ClassVar = AppliedReply


@register
class ReviewDirectoryImportV1(ImportBatch):
    """What each row of structures, professionals or orientation managers would do; changes nothing."""

    subject: ClassVar[str] = "rpc.directory.review_import.v1"
    reply_model: ClassVar = ReviewedReply


@register
class ApplyDirectoryImportV1(ImportBatch):
    """Applies the rows, each alone, exactly once."""

    subject: ClassVar[str] = "rpc.directory.apply_import.v1"
    reply_model: ClassVar = AppliedReply


# Only the import service sends these (the gateway may not: they trust ``actor``).
OWNER_IMPORT_RPCS: tuple[type[ImportBatch], ...] = (
    ReviewNotebookImportV1, ApplyNotebookImportV1, ReviewDirectoryImportV1, ApplyDirectoryImportV1)


# --- events -----------------------------------------------------------------------------------------------

@register
class ImportCompletedV1(IntegrationEvent):
    """An import ended (``done`` or ``failed``): the uploader's summary email, the pilotage counters."""

    subject: ClassVar[str] = "import.job.completed.v1"

    import_id: uuid.UUID
    kind: ImportKind
    deployment_id: uuid.UUID | None = None
    account_id: uuid.UUID
    filename: str
    state: ImportState
    reason: str = ""
    counts: ImportCounts
    # For the uploader's summary (optional fields, added after the first version of this event):
    account_email: str = ""  # where to send it, as identity knew the uploader when the import was opened
    rows_total: int = 0
    review: ReviewCounts = Field(default_factory=ReviewCounts)  # rows not applicable (conflicts, invalid) among them
    flux_date: date | None = None  # the date a partner's flux says it was made (CAF/MSA ``DTCREAFLUX``)
    # The structure it was opened for (a structure admin's imports), for the structure's dashboard (issue 18).
    structure_id: uuid.UUID | None = None
