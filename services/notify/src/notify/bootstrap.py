"""Composition root of the notify service."""
from __future__ import annotations

from notify.config import NotifySettings
from notify.entrypoints import wiring
from notify.handlers.deps import Deps
from servicekit.app import Service
from servicekit.housekeeping import Kept
from notify.adapters.orm import AppointmentCopy, OutgoingMessage, WebhookAttempt, WebhookDelivery

NAME = "notify"


def build(settings: NotifySettings | None = None) -> Service:
    settings = settings or NotifySettings()
    service = Service(NAME, settings)
    # Messages (recipients, texts) 90 days; webhooks' payloads and attempts 30; an appointment's copy a month after it.
    service.kept = (Kept(OutgoingMessage.__table__.c.created_at, 90), Kept(AppointmentCopy.__table__.c.at, 30),
                    Kept(WebhookDelivery.__table__.c.created_at, 30,
                         children=(WebhookAttempt.__table__.c.delivery_id,)))

    async def call(request, headers=None):
        return await service.rpc.call(request, headers=headers)

    wiring.register(service, Deps(sessions=service.sessions, outbox=service.outbox, settings=settings,
                                  verifier=service.verifier, call=call))
    return service


def main() -> None:
    build().run()
