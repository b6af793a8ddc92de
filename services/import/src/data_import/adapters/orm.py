"""Tables of the import service: one row per import (its state, counts, lease) and one per row of its file.

SQLAlchemy Core tables, not mapped classes: rows are written and updated in bulk (100,000 per import), which Core's
executemany does without building an object per row.
"""
from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, Index, Integer, String, Table, Text, Uuid

from servicekit.db import UtcDateTime, new_metadata

metadata = new_metadata()

imports = Table(
    "imports", metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("deployment_id", Uuid, nullable=True),
    Column("structure_id", Uuid, nullable=True),
    Column("account_id", Uuid, nullable=False),
    Column("actor", JSON, nullable=False),  # ImportActor, as the uploader's token said when the import was opened
    Column("created_by_name", String(250), nullable=False),
    Column("state", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("fingerprint", String(64), nullable=True),  # SHA-256 of the file: "already imported on …"
    Column("header", JSON, nullable=False),  # the header line as written: names the cells of import_rows
    Column("rows_total", Integer, nullable=False),
    Column("rows_done", Integer, nullable=False),
    Column("rows_per_s", Float, nullable=True),
    Column("created", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("excluded", Integer, nullable=False),
    Column("review_new", Integer, nullable=False),
    Column("review_same", Integer, nullable=False),
    Column("review_conflict", Integer, nullable=False),
    Column("review_invalid", Integer, nullable=False),
    Column("warnings", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("apply_started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    # With several replicas, one works on an import; another takes it over once the lease has expired.
    Column("worker", String(64), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Index("ix_imports_deployment_created", "deployment_id", "created_at"),
    Index("ix_imports_fingerprint", "deployment_id", "kind", "fingerprint"),
    Index("ix_imports_state", "state"),
)

import_rows = Table(
    "import_rows", metadata,
    Column("import_id", Uuid, primary_key=True),
    Column("row", Integer, primary_key=True),  # the line number in the file, the header being line 1
    Column("status", String(10), nullable=False),  # ReviewStatus
    Column("cells", JSON, nullable=False),  # the cells as written, in the order of imports.header
    Column("values", JSON, nullable=True),  # what is sent to the owner (valid rows only)
    Column("match", JSON, nullable=True),  # MatchView, and the fields a re-import would change
    Column("messages", JSON, nullable=False),  # French, errors first
    Column("outcome", String(10), nullable=True),  # Outcome, once applied (or excluded, or rejected at once)
    Column("excluded", Boolean, nullable=False),
    Index("ix_import_rows_import_status", "import_id", "status"),
)

# What the antivirus said of each uploaded file, before it was read (issue 21): the infected ones with the
# signature found, kept apart from the import's row so that a purge of imports can leave the security record.
upload_scans = Table(
    "upload_scans", metadata,
    Column("import_id", Uuid, primary_key=True),
    Column("verdict", String(12), nullable=False),  # ScanVerdict
    Column("signature", String(200), nullable=True),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=True),
    Column("scanned_at", UtcDateTime, nullable=False),
    Index("ix_upload_scans_verdict", "verdict", "scanned_at"),
)
