"""Composition root of the directory service (nothing happens at import)."""
from __future__ import annotations

from directory.config import DirectorySettings
from directory.entrypoints import wiring
from directory.handlers.deps import Deps
from servicekit.app import Service

NAME = "directory"


def build(settings: DirectorySettings | None = None) -> Service:
    settings = settings or DirectorySettings()
    service = Service(NAME, settings)
    wiring.register(service, Deps(sessions=service.sessions, outbox=service.outbox, settings=settings,
                                  verifier=service.verifier))
    return service


def main() -> None:
    build().run()
