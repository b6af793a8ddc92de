"""Composition root of the import service: its process runs, serves health and relays its outbox;
its use cases arrive with their issues."""
from __future__ import annotations

from data_import.config import DataImportSettings
from servicekit.app import Service

NAME = "data_import"


def build(settings: DataImportSettings | None = None) -> Service:
    return Service(NAME, settings or DataImportSettings())


def main() -> None:
    build().run()
