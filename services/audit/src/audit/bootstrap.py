"""Composition root of the audit service."""
from __future__ import annotations

from audit.config import AuditSettings
from audit.entrypoints import wiring
from audit.handlers.deps import Deps
from servicekit.app import Service

NAME = "audit"


def build(settings: AuditSettings | None = None) -> Service:
    settings = settings or AuditSettings()
    service = Service(NAME, settings)
    wiring.register(service, Deps(sessions=service.sessions, settings=settings, verifier=service.verifier))
    return service


def main() -> None:
    build().run()
