"""Delivers due messages: kept for the dev mailbox, or sent by SMTP with retries and backoff."""
from __future__ import annotations

import asyncio

import structlog
from sqlalchemy import select

from contracts.notify import Channel, MessageFailedV1, MessageSentV1
from notify.adapters.orm import OutgoingMessage
from notify.adapters.smtp import PermanentFailure, TransientFailure, send_email
from notify.domain.retries import next_attempt_at
from notify.handlers.deps import Deps

log = structlog.get_logger("notify.deliver")
SECRET_WIPED = "[contenu effacé après envoi : il contenait un lien ou un code à usage unique]"
NO_SMS_PROVIDER = "Aucun fournisseur de SMS n'est configuré : le SMS n'a pas été envoyé."


async def deliver_due(deps: Deps, limit: int = 50) -> int:
    """Delivers the messages due now; returns how many it handled."""
    async with deps.sessions() as session:
        due = (
            await session.execute(
                select(OutgoingMessage.id)
                .where(OutgoingMessage.status == "pending", OutgoingMessage.next_attempt_at <= deps.clock())
                .order_by(OutgoingMessage.created_at)
                .limit(limit)
            )
        ).scalars().all()
    for message_id in due:
        await _deliver_one(deps, message_id)
    return len(due)


async def _deliver_one(deps: Deps, message_id) -> None:
    settings = deps.settings
    async with deps.sessions() as session, session.begin():
        message = await session.get(OutgoingMessage, message_id)
        if message is None or message.status != "pending":
            return
        message.attempts += 1
        if settings.delivery == "devmailbox":
            message.status, message.sent_at = "kept", deps.clock()
            return
        try:
            if message.channel == Channel.sms:
                raise PermanentFailure(NO_SMS_PROVIDER)
            await send_email(settings, to=message.recipient, subject=message.subject, text=message.text,
                             html=message.html, message_id=str(message.id))
        except (TransientFailure, PermanentFailure) as exc:
            message.last_error = str(exc)[:1000]
            if isinstance(exc, PermanentFailure) or message.attempts >= settings.max_attempts:
                message.status = "failed"
                await deps.outbox.add(session, MessageFailedV1(
                    message_id=message.id, channel=Channel(message.channel), template=message.template,
                    source_event_id=message.source_event_id, error=message.last_error))
                log.warning("message_failed", message_id=str(message.id), error=message.last_error)
            else:
                message.next_attempt_at = next_attempt_at(deps.clock(), message.attempts, settings.retry_base_s)
                log.info("message_retry_scheduled", message_id=str(message.id), attempts=message.attempts)
            return
        message.status, message.sent_at, message.last_error = "sent", deps.clock(), None
        if message.contains_secret:
            message.text, message.html, message.links = SECRET_WIPED, None, []
        await deps.outbox.add(session, MessageSentV1(
            message_id=message.id, channel=Channel(message.channel), template=message.template,
            source_event_id=message.source_event_id))


async def run_sender(deps: Deps, poll_interval_s: float = 1.0) -> None:
    while True:
        try:
            while await deliver_due(deps):
                pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sender_failed")
        deps.queued.clear()
        try:
            await asyncio.wait_for(deps.queued.wait(), timeout=poll_interval_s)
        except TimeoutError:
            pass
