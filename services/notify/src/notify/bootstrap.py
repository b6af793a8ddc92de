"""Composition root of the notify service."""
from __future__ import annotations

from notify.config import NotifySettings
from notify.entrypoints import wiring
from notify.handlers.deps import Deps
from servicekit.app import Service

NAME = "notify"


def build(settings: NotifySettings | None = None) -> Service:
    settings = settings or NotifySettings()
    service = Service(NAME, settings)

    async def call(request, headers=None):
        return await service.rpc.call(request, headers=headers)

    wiring.register(service, Deps(sessions=service.sessions, outbox=service.outbox, settings=settings,
                                  verifier=service.verifier, call=call))
    return service


def main() -> None:
    build().run()
