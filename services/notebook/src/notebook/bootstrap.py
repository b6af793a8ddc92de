"""Composition root of the notebook service: its process runs, serves health and relays its outbox;
its use cases arrive with their issues."""
from __future__ import annotations

from notebook.config import NotebookSettings
from servicekit.app import Service

NAME = "notebook"


def build(settings: NotebookSettings | None = None) -> Service:
    return Service(NAME, settings or NotebookSettings())


def main() -> None:
    build().run()
