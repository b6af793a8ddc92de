"""The webhooks page of the national admins: subscriptions (their secret shown once, at creation or rotation),
pause and resume, deliveries with their attempts, replay of a delivery by hand."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from contracts.identity import Role
from contracts.webhooks import (
    CreateWebhookSubscriptionV1,
    ListWebhookDeliveriesV1,
    ListWebhookSubscriptionsV1,
    PauseWebhookSubscriptionV1,
    ReplayWebhookDeliveryV1,
    ResumeWebhookSubscriptionV1,
    RotateWebhookSecretV1,
    WebhookAttemptView,
    WebhookDeliveriesReply,
    WebhookDeliveryReply,
    WebhookDeliveryView,
    WebhookSecretReply,
    WebhookStatus,
    WebhookSubscriptionReply,
    WebhookSubscriptionsReply,
    WebhookSubscriptionView,
)
from notify.adapters.orm import WebhookAttempt, WebhookDelivery, WebhookSubscription
from notify.domain.webhooks import new_secret, url_problem
from notify.handlers.deps import Deps
from notify.handlers.webhook_admins import remember_admin
from notify.handlers.webhook_delivery import secret_box
from servicekit.auth import Principal
from servicekit.db import paged
from servicekit.errors import Conflict, Forbidden, Invalid, NotFound
from servicekit.rpc import RpcContext

ADMINS_ONLY = "Les webhooks sont réservés aux administrateurs de Carnet de bord."
UNKNOWN_SUBSCRIPTION = "Cet abonnement n'existe pas."
UNKNOWN_DELIVERY = "Cet envoi n'existe pas."
IN_FLIGHT = "Cet envoi est en cours ou attend déjà son prochain essai : il n'y a rien à rejouer."
ALREADY = {WebhookStatus.paused: "Cet abonnement est déjà en pause.", WebhookStatus.active: "Cet abonnement est actif."}
ATTEMPTS_SHOWN = 20
NO_LABEL = "Donnez le nom du partenaire."


def invalid(field: str, message: str) -> Invalid:
    """A 422 naming the field, shaped like the input rules' (``details.fields``)."""
    return Invalid(message, details={"fields": [{"loc": [field], "type": "value_error", "message": message}]})


async def require_admin(ctx: RpcContext, deps: Deps) -> Principal:
    principal = await deps.verifier.verify(ctx.bearer_token)
    if principal.role != Role.admin_cdb:
        raise Forbidden(ADMINS_ONLY)
    return principal


def view_of(s: WebhookSubscription) -> WebhookSubscriptionView:
    return WebhookSubscriptionView(
        subscription_id=s.id, label=s.label, url=s.url, deployment_ids=s.deployment_ids, event_types=s.event_types,
        status=s.status, created_at=s.created_at, paused_at=s.paused_at, paused_for_failures=s.paused_for_failures,
        failing_since=s.failing_since, secret_rotated_at=s.secret_rotated_at)


async def create_subscription(request: CreateWebhookSubscriptionV1, ctx: RpcContext,
                              deps: Deps) -> WebhookSecretReply:
    principal = await require_admin(ctx, deps)
    if not request.label.strip():
        raise invalid("label", NO_LABEL)
    if problem := url_problem(request.url, deps.settings.dev_mode):
        raise invalid("url", problem)
    await remember_admin(ctx, deps, principal)
    secret = new_secret()
    async with deps.sessions() as session, session.begin():
        subscription = WebhookSubscription(
            label=request.label.strip(), url=request.url.strip(),
            deployment_ids=list(dict.fromkeys(str(d) for d in request.deployment_ids)),
            event_types=list(dict.fromkeys(t.value for t in request.event_types)),
            secret_sealed=secret_box(deps).seal(secret), status=WebhookStatus.active, paused_for_failures=False,
            created_at=deps.clock(), created_by=principal.account_id)
        session.add(subscription)
        await session.flush()
        view = view_of(subscription)
    return WebhookSecretReply(subscription=view, secret=secret)


async def list_subscriptions(_request: ListWebhookSubscriptionsV1, ctx: RpcContext,
                             deps: Deps) -> WebhookSubscriptionsReply:
    await require_admin(ctx, deps)
    async with deps.sessions() as session:
        rows = (await session.execute(select(WebhookSubscription).order_by(
            WebhookSubscription.created_at, WebhookSubscription.id))).scalars().all()
    return WebhookSubscriptionsReply(subscriptions=[view_of(s) for s in rows])


async def changing(ctx: RpcContext, deps: Deps, subscription_id: uuid.UUID, change) -> WebhookSubscriptionView:
    """Applies ``change(subscription)`` under a row lock, after remembering who made it."""
    principal = await require_admin(ctx, deps)
    await remember_admin(ctx, deps, principal)
    async with deps.sessions() as session, session.begin():
        subscription = await session.get(WebhookSubscription, subscription_id, with_for_update=True)
        if subscription is None:
            raise NotFound(UNKNOWN_SUBSCRIPTION)
        change(subscription)
        await session.flush()
        return view_of(subscription)


async def rotate_secret(request: RotateWebhookSecretV1, ctx: RpcContext, deps: Deps) -> WebhookSecretReply:
    secret = new_secret()

    def rotate(subscription: WebhookSubscription) -> None:
        subscription.secret_sealed, subscription.secret_rotated_at = secret_box(deps).seal(secret), deps.clock()

    view = await changing(ctx, deps, request.subscription_id, rotate)
    return WebhookSecretReply(subscription=view, secret=secret)


async def pause_subscription(request: PauseWebhookSubscriptionV1, ctx: RpcContext,
                             deps: Deps) -> WebhookSubscriptionReply:
    def pause(subscription: WebhookSubscription) -> None:
        if subscription.status == WebhookStatus.paused:
            raise Conflict(ALREADY[WebhookStatus.paused])
        subscription.status, subscription.paused_at = WebhookStatus.paused, deps.clock()
        subscription.paused_for_failures = False

    view = await changing(ctx, deps, request.subscription_id, pause)
    return WebhookSubscriptionReply(**view.model_dump())


async def resume_subscription(request: ResumeWebhookSubscriptionV1, ctx: RpcContext,
                              deps: Deps) -> WebhookSubscriptionReply:
    """Active again, with a clean slate: the day of failures counts anew, and what waited goes out at once."""
    def resume(subscription: WebhookSubscription) -> None:
        if subscription.status == WebhookStatus.active:
            raise Conflict(ALREADY[WebhookStatus.active])
        subscription.status, subscription.paused_at = WebhookStatus.active, None
        subscription.paused_for_failures, subscription.failing_since = False, None

    view = await changing(ctx, deps, request.subscription_id, resume)
    async with deps.sessions() as session, session.begin():
        waiting = (await session.execute(select(WebhookDelivery).where(
            WebhookDelivery.subscription_id == request.subscription_id,
            WebhookDelivery.status == "pending"))).scalars().all()
        for delivery in waiting:
            delivery.next_attempt_at = deps.clock()
    deps.webhooks_queued.set()
    return WebhookSubscriptionReply(**view.model_dump())


def delivery_view(d: WebhookDelivery, attempts: list[WebhookAttempt] = ()) -> WebhookDeliveryView:
    return WebhookDeliveryView(
        delivery_id=d.id, subscription_id=d.subscription_id, event_id=d.event_id, event_type=d.event_type,
        deployment_id=d.deployment_id, notebook_id=d.notebook_id, created_at=d.created_at, status=d.status,
        attempts=d.attempts, next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
        delivered_at=d.delivered_at, last_status_code=d.last_status_code, last_error=d.last_error,
        history=[WebhookAttemptView(attempted_at=a.attempted_at, status_code=a.status_code, error=a.error,
                                    duration_ms=a.duration_ms) for a in attempts])


async def list_deliveries(request: ListWebhookDeliveriesV1, ctx: RpcContext, deps: Deps) -> WebhookDeliveriesReply:
    await require_admin(ctx, deps)
    async with deps.sessions() as session:
        if await session.get(WebhookSubscription, request.subscription_id) is None:
            raise NotFound(UNKNOWN_SUBSCRIPTION)
        query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == request.subscription_id).order_by(
            WebhookDelivery.created_at.desc(), WebhookDelivery.id)
        if request.status:
            query = query.where(WebhookDelivery.status == request.status)
        total, rows = await paged(session, query, request.offset, request.limit)
        attempts = (await session.execute(select(WebhookAttempt).where(
            WebhookAttempt.delivery_id.in_([d.id for d in rows])).order_by(
            WebhookAttempt.attempted_at.desc(), WebhookAttempt.id))).scalars().all() if rows else []
    by_delivery: dict[uuid.UUID, list[WebhookAttempt]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.delivery_id, []).append(attempt)
    return WebhookDeliveriesReply(total=total, deliveries=[
        delivery_view(d, by_delivery.get(d.id, [])[:ATTEMPTS_SHOWN]) for d in rows])


async def replay_delivery(request: ReplayWebhookDeliveryV1, ctx: RpcContext, deps: Deps) -> WebhookDeliveryReply:
    """Back to "pending" now, same body and delivery id; sent at once if its subscription is active, at its
    resumption otherwise. A delivery already waiting or being sent is left alone (it would go twice)."""
    principal = await require_admin(ctx, deps)
    await remember_admin(ctx, deps, principal)
    async with deps.sessions() as session, session.begin():
        delivery = await session.get(WebhookDelivery, request.delivery_id, with_for_update=True)
        if delivery is None:
            raise NotFound(UNKNOWN_DELIVERY)
        if delivery.status in ("pending", "sending"):
            raise Conflict(IN_FLIGHT)
        delivery.status, delivery.next_attempt_at, delivery.sending_since = "pending", deps.clock(), None
        await session.flush()
        view = delivery_view(delivery)
    deps.webhooks_queued.set()
    return WebhookDeliveryReply(**view.model_dump())
