"""Delivers due webhooks: signed POSTs to partners, tried again with backoff on failure, each attempt recorded;
a subscription whose deliveries keep failing for a day pauses, and the admins are told by email.

Sends are claimed as messages are (``notify.handlers.deliver``): pending → sending in its own transaction, so
that of several notify replicas one only sends a delivery; its outcome is recorded in a second transaction. A
delivery found still "sending" after the lease was interrupted mid-send: the partner may have received it, so
it becomes "uncertain" and waits for a replay by hand instead of being sent a second time.
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select, update

from contracts.notify import Channel
from notify.adapters.orm import WebhookAdmin, WebhookAttempt, WebhookDelivery, WebhookSubscription
from notify.adapters.webhook_http import Answer, post_webhook
from notify.domain.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    SecretBox,
    is_success,
    is_transient,
    next_try,
    should_pause,
    signature_header,
)
from notify.handlers.deps import Deps
from notify.handlers.queue_message import Outgoing, page_url, queue_once
from notify.rendering import render_email
from servicekit import inbox

log = structlog.get_logger("notify.webhooks")
PAUSE_NOTICES = "notify-webhook-pauses"
PAUSES = uuid.UUID("0b8f5d1e-3c47-4a5e-9f61-2d7a9c4e8b30")  # namespace of the pauses' ids
INTERRUPTED = ("Envoi interrompu (arrêt du service pendant l'envoi) : le partenaire l'a peut-être reçu. "
               "Il n'est pas renvoyé automatiquement ; rejouez-le si besoin.")
USER_AGENT = "CarnetDeBord-Webhooks/1"
PARIS = ZoneInfo("Europe/Paris")


def secret_box(deps: Deps) -> SecretBox:
    return SecretBox(deps.settings.secret_key.get_secret_value().encode())


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    subscription_id: uuid.UUID
    url: str
    secret: str
    event_type: str
    body: bytes


async def deliver_due_webhooks(deps: Deps, limit: int = 50) -> int:
    """Sends the deliveries due now of active subscriptions, together; returns how many it handled."""
    await mark_interrupted(deps)
    async with deps.sessions() as session:
        due = (await session.execute(
            select(WebhookDelivery.id)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= deps.clock(),
                   WebhookSubscription.status == "active")
            .order_by(WebhookDelivery.created_at).limit(limit))).scalars().all()
    await asyncio.gather(*(deliver_one(deps, delivery_id) for delivery_id in due))
    await tell_pauses(deps)
    return len(due)


async def mark_interrupted(deps: Deps) -> None:
    async with deps.sessions() as session, session.begin():
        await session.execute(update(WebhookDelivery).where(
            WebhookDelivery.status == "sending",
            WebhookDelivery.sending_since < deps.clock() - timedelta(seconds=deps.settings.sending_lease_s))
            .values(status="uncertain", last_error=INTERRUPTED))


async def claim(deps: Deps, delivery_id: uuid.UUID) -> Claimed | None:
    async with deps.sessions() as session, session.begin():
        claimed = await session.execute(update(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending")
            .values(status="sending", attempts=WebhookDelivery.attempts + 1, sending_since=deps.clock()))
        if claimed.rowcount != 1:
            return None  # another replica took it
        delivery = await session.get(WebhookDelivery, delivery_id, populate_existing=True)
        subscription = await session.get(WebhookSubscription, delivery.subscription_id)
        secret = secret_box(deps).open(subscription.secret_sealed)
        return Claimed(delivery.id, subscription.id, subscription.url, secret, delivery.event_type,
                       delivery.body.encode())


async def send(deps: Deps, claimed: Claimed) -> Answer:
    timestamp = int(deps.clock().timestamp())
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               SIGNATURE_HEADER: signature_header(claimed.secret, timestamp, claimed.body),
               EVENT_HEADER: claimed.event_type, DELIVERY_HEADER: str(claimed.id)}
    return await post_webhook(claimed.url, claimed.body, headers, timeout_s=deps.settings.webhook_timeout_s,
                              dev_mode=deps.settings.dev_mode)


async def deliver_one(deps: Deps, delivery_id: uuid.UUID) -> None:
    claimed = await claim(deps, delivery_id)
    if claimed is None:
        return
    answer = await send(deps, claimed)
    await record(deps, claimed, answer)


async def record(deps: Deps, claimed: Claimed, answer: Answer) -> None:
    now = deps.clock()
    async with deps.sessions() as session, session.begin():
        session.add(WebhookAttempt(delivery_id=claimed.id, attempted_at=now, status_code=answer.status_code,
                                   error=answer.error and answer.error[:1000], duration_ms=answer.duration_ms))
        delivery = await session.get(WebhookDelivery, claimed.id, with_for_update=True)
        subscription = await session.get(WebhookSubscription, claimed.subscription_id, with_for_update=True)
        delivery.last_status_code, delivery.last_error = answer.status_code, answer.error and answer.error[:1000]
        delivery.sending_since = None
        if is_success(answer.status_code):
            delivery.status, delivery.delivered_at = "delivered", now
            subscription.failing_since = None
            return
        if is_transient(answer.status_code) and not answer.refused:
            delivery.status = "pending"
            delivery.next_attempt_at = next_try(now, delivery.attempts, deps.settings.webhook_retry_base_s,
                                                deps.settings.webhook_retry_cap_s)
        else:
            delivery.status = "failed"  # refused: trying again would be refused again; a replay by hand may do
        subscription.failing_since = subscription.failing_since or now
        log.info("webhook_failed", delivery_id=str(delivery.id), status_code=answer.status_code,
                 attempts=delivery.attempts)
        if subscription.status == "active" and should_pause(subscription.failing_since, now):
            subscription.status, subscription.paused_at, subscription.paused_for_failures = "paused", now, True
            log.warning("webhook_subscription_paused", subscription_id=str(subscription.id))


def pause_id(subscription: WebhookSubscription) -> uuid.UUID:
    return uuid.uuid5(PAUSES, f"{subscription.id}:{subscription.paused_at.isoformat()}")


async def tell_pauses(deps: Deps) -> int:
    """Each pause for failures is told once to the admins, by email, whichever replica paused it (keyed by the
    subscription and the time of its pause, claimed in the inbox with the messages)."""
    async with deps.sessions() as session:
        paused = (await session.execute(select(WebhookSubscription).where(
            WebhookSubscription.status == "paused", WebhookSubscription.paused_for_failures))).scalars().all()
        untold = [s for s in paused if not await inbox.seen(session, PAUSE_NOTICES, pause_id(s))]
        admins = (await session.execute(select(WebhookAdmin.email))).scalars().all() if untold else []
    told = 0
    link = page_url(deps, "/webhooks")
    for subscription in untold:
        messages = [Outgoing("webhook_paused", Channel.email, email, render_email(
            "webhook_paused", links=[link], link=link, label=subscription.label, url=subscription.url,
            since=subscription.failing_since.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M"))) for email in admins]
        told += await queue_once(deps, PAUSE_NOTICES, pause_id(subscription), messages)
    return told


async def run_webhook_sender(deps: Deps) -> None:
    while True:
        try:
            while await deliver_due_webhooks(deps):
                pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhook_sender_failed")
        deps.webhooks_queued.clear()
        try:
            await asyncio.wait_for(deps.webhooks_queued.wait(), timeout=deps.settings.webhook_poll_s)
        except TimeoutError:
            pass
