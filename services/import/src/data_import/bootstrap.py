"""Composition root of the import service (nothing happens at import)."""
from __future__ import annotations

from data_import.config import DataImportSettings
from data_import.entrypoints import wiring
from data_import.handlers.deps import Deps
from servicekit.app import Service
from servicekit.housekeeping import Kept
from data_import.adapters.orm import import_rows, imports, upload_scans

NAME = "data_import"


def build(settings: DataImportSettings | None = None) -> Service:
    settings = settings or DataImportSettings()
    service = Service(NAME, settings)
    # An import and its rows (every cell of the file) for a year; the file itself 7 days in its bucket. The
    # antivirus's verdict on its file goes with it.
    service.kept = (Kept(imports.c.created_at, 365, children=(import_rows.c.import_id, upload_scans.c.import_id)),)
    service.jobs = wiring.register(service, Deps(
        sessions=service.sessions, outbox=service.outbox, settings=settings, verifier=service.verifier,
        bus=service.bus))
    return service


def main() -> None:
    build().run()
