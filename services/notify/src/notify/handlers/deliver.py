"""Delivers due messages: kept for the dev mailbox, or sent (email by SMTP, SMS through the provider) with
retries and backoff.

A send is never repeated: each message is first *claimed* (pending → sending, in its own transaction, so
that one replica only takes it), then sent, then its outcome recorded. A message found still "sending" after
the lease was interrupted mid-send (the process died): it may have been delivered, so it becomes "uncertain"
and is shown in the delivery log instead of being sent a second time.

A body carrying a one-time secret (login link, SMS code) is wiped as soon as the message reaches a final state
(sent, failed, uncertain): the delivery log keeps who, when and why, never the secret. Only the dev mailbox
(``devmailbox`` delivery in dev or test mode) keeps it, since it stands for the recipient's own inbox there.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import select, update

from contracts.notify import Channel, MessageFailedV1, MessageSentV1
from notify.adapters.orm import OutgoingMessage
from notify.adapters.sms import send_sms
from notify.adapters.smtp import PermanentFailure, TransientFailure, send_email
from notify.domain.retries import next_attempt_at
from notify.handlers.deps import Deps

log = structlog.get_logger("notify.deliver")
SECRET_WIPED = "[contenu effacé après envoi : il contenait un lien ou un code à usage unique]"
NO_SMS_PROVIDER = "Aucun fournisseur de SMS n'est configuré : le SMS n'a pas été envoyé."
INTERRUPTED = ("Envoi interrompu (arrêt du service pendant l'envoi) : le message a peut-être été remis. "
               "Il n'est pas renvoyé automatiquement, pour ne jamais l'envoyer deux fois.")


@dataclass(frozen=True)
class Claimed:
    id: object
    channel: str
    recipient: str
    subject: str
    text: str
    html: str | None
    attempts: int


async def deliver_due(deps: Deps, limit: int = 50) -> int:
    """Delivers the messages due now; returns how many it handled."""
    await mark_interrupted(deps)
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


# What a message carrying a one-time secret keeps once it reached a final state.
WIPED = {"text": SECRET_WIPED, "html": None, "links": []}


def wipe_secret(message: OutgoingMessage) -> None:
    if message.contains_secret:
        for name, value in WIPED.items():
            setattr(message, name, value)


async def mark_interrupted(deps: Deps) -> None:
    interrupted = (OutgoingMessage.status == "sending",
                   OutgoingMessage.sending_since < deps.clock() - timedelta(seconds=deps.settings.sending_lease_s))
    async with deps.sessions() as session, session.begin():
        await session.execute(update(OutgoingMessage).where(*interrupted, OutgoingMessage.contains_secret)
                              .values(status="uncertain", last_error=INTERRUPTED, **WIPED))
        await session.execute(update(OutgoingMessage).where(*interrupted)
                              .values(status="uncertain", last_error=INTERRUPTED))


async def _claim(deps: Deps, message_id) -> Claimed | None:
    async with deps.sessions() as session, session.begin():
        claimed = await session.execute(update(OutgoingMessage).where(
            OutgoingMessage.id == message_id, OutgoingMessage.status == "pending")
            .values(status="sending", attempts=OutgoingMessage.attempts + 1, sending_since=deps.clock()))
        if claimed.rowcount != 1:
            return None  # another replica took it
        m = await session.get(OutgoingMessage, message_id, populate_existing=True)
        if deps.settings.delivery == "devmailbox":
            m.status, m.sent_at = "kept", deps.clock()
            if not deps.settings.dev_mode:  # no mailbox to read it outside dev: the secret goes
                wipe_secret(m)
            return None
        return Claimed(m.id, m.channel, m.recipient, m.subject, m.text, m.html, m.attempts)


async def _send(deps: Deps, message: Claimed) -> None:
    settings = deps.settings
    if message.channel == Channel.sms:
        if settings.sms_provider == "none":
            raise PermanentFailure(NO_SMS_PROVIDER)
        await send_sms(settings, to=message.recipient, text=message.text, reference=str(message.id))
    else:
        await send_email(settings, to=message.recipient, subject=message.subject, text=message.text,
                         html=message.html, message_id=str(message.id))


async def _deliver_one(deps: Deps, message_id) -> None:
    claimed = await _claim(deps, message_id)
    if claimed is None:
        return
    error: Exception | None = None
    try:
        await _send(deps, claimed)
    except (TransientFailure, PermanentFailure) as exc:
        error = exc
    async with deps.sessions() as session, session.begin():
        message = await session.get(OutgoingMessage, message_id)
        if error is None:
            message.status, message.sent_at, message.last_error = "sent", deps.clock(), None
            wipe_secret(message)
            await deps.outbox.add(session, MessageSentV1(
                message_id=message.id, channel=Channel(message.channel), template=message.template,
                source_event_id=message.source_event_id, recipient=message.recipient))
            return
        message.last_error = str(error)[:1000]
        if isinstance(error, PermanentFailure) or message.attempts >= deps.settings.max_attempts:
            message.status = "failed"
            wipe_secret(message)
            await deps.outbox.add(session, MessageFailedV1(
                message_id=message.id, channel=Channel(message.channel), template=message.template,
                source_event_id=message.source_event_id, error=message.last_error, recipient=message.recipient))
            log.warning("message_failed", message_id=str(message.id), error=message.last_error)
        else:
            message.status = "pending"
            message.next_attempt_at = next_attempt_at(deps.clock(), message.attempts, deps.settings.retry_base_s)
            log.info("message_retry_scheduled", message_id=str(message.id), attempts=message.attempts)


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
