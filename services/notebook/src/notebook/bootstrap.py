"""Composition root of the notebook service (nothing happens at import)."""
from __future__ import annotations

from notebook.config import NotebookSettings
from notebook.domain.protection import FieldProtection
from notebook.entrypoints import wiring
from notebook.handlers.deps import Deps
from servicekit.app import Service

NAME = "notebook"


def build(settings: NotebookSettings | None = None) -> Service:
    settings = settings or NotebookSettings()
    service = Service(NAME, settings)
    wiring.register(service, Deps(
        sessions=service.sessions, outbox=service.outbox, settings=settings, verifier=service.verifier,
        protection=FieldProtection(settings.secret_key.get_secret_value().encode())))
    return service


def main() -> None:
    build().run()
