"""Signed webhooks to partners, answered by notify: the admin_cdb page's RPCs (subscriptions, their secret shown
once, deliveries and their attempts, replay by hand)."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from contracts.base import RpcReply, RpcRequest, WireModel
from contracts.inputs import Line, Offset
from contracts.registry import register


class WebhookEventType(StrEnum):
    """What a partner may subscribe to, as named in the payload's ``type`` and the ``X-Carnet-Event`` header."""

    orientation_changed = "orientation.changed"
    referent_changed = "referent.changed"
    appointment_booked = "appointment.booked"
    contract_validated = "contract.validated"  # a CER (or another contract) validated by the territory


class WebhookStatus(StrEnum):
    active = "active"
    paused = "paused"  # by hand, or after a day of failed deliveries: nothing is sent until resumed


class WebhookSubscriptionView(WireModel):
    """Never the secret: it is shown once, in the reply of its creation or rotation."""

    subscription_id: uuid.UUID
    label: str
    url: str
    deployment_ids: list[uuid.UUID]
    event_types: list[WebhookEventType]
    status: WebhookStatus
    created_at: datetime
    paused_at: datetime | None = None
    # Set by the pause rule: "a day of failures" (a pause by hand leaves it empty).
    paused_for_failures: bool = False
    # The first failure since the last delivery that succeeded; a day of it pauses the subscription.
    failing_since: datetime | None = None
    secret_rotated_at: datetime | None = None


class WebhookSubscriptionReply(RpcReply, WebhookSubscriptionView):
    pass


class WebhookSubscriptionsReply(RpcReply):
    subscriptions: list[WebhookSubscriptionView]


class WebhookSecretReply(RpcReply):
    """The signing secret in clear, this once: notify keeps it encrypted and never returns it again."""

    subscription: WebhookSubscriptionView
    secret: str


class WebhookAttemptView(WireModel):
    attempted_at: datetime
    status_code: int | None = None  # none when the partner could not be reached
    error: str | None = None
    duration_ms: int = 0


class WebhookDeliveryView(WireModel):
    delivery_id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: WebhookEventType
    deployment_id: uuid.UUID
    notebook_id: uuid.UUID
    created_at: datetime
    # pending (to send, or waiting for its next try) → sending → delivered | failed (refused by the partner, or
    # replaced by a replay); uncertain: interrupted mid-send, maybe received, never sent again by itself
    status: str
    attempts: int
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    history: list[WebhookAttemptView] = Field(default_factory=list)


class WebhookDeliveryReply(RpcReply, WebhookDeliveryView):
    pass


class WebhookDeliveriesReply(RpcReply):
    deliveries: list[WebhookDeliveryView]
    total: int


@register
class CreateWebhookSubscriptionV1(RpcRequest):
    """admin_cdb: a partner's URL told of the chosen events of the chosen territories; the reply carries the
    signing secret, once."""

    subject: ClassVar[str] = "rpc.notify.create_webhook_subscription.v1"
    reply_model: ClassVar = WebhookSecretReply

    label: Line = Field(min_length=1, max_length=200)
    url: Line = Field(min_length=1, max_length=2000)
    deployment_ids: list[uuid.UUID] = Field(min_length=1, max_length=200)
    event_types: list[WebhookEventType] = Field(min_length=1, max_length=10)


@register
class ListWebhookSubscriptionsV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notify.list_webhook_subscriptions.v1"
    reply_model: ClassVar = WebhookSubscriptionsReply


@register
class RotateWebhookSecretV1(RpcRequest):
    """A new secret, shown once; the former one no longer signs anything from now on."""

    subject: ClassVar[str] = "rpc.notify.rotate_webhook_secret.v1"
    reply_model: ClassVar = WebhookSecretReply

    subscription_id: uuid.UUID


@register
class PauseWebhookSubscriptionV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notify.pause_webhook_subscription.v1"
    reply_model: ClassVar = WebhookSubscriptionReply

    subscription_id: uuid.UUID


@register
class ResumeWebhookSubscriptionV1(RpcRequest):
    """Deliveries waiting during the pause go out at once, with a fresh round of attempts."""

    subject: ClassVar[str] = "rpc.notify.resume_webhook_subscription.v1"
    reply_model: ClassVar = WebhookSubscriptionReply

    subscription_id: uuid.UUID


@register
class ListWebhookDeliveriesV1(RpcRequest):
    """A subscription's deliveries, newest first, each with its attempts (status code and time)."""

    subject: ClassVar[str] = "rpc.notify.list_webhook_deliveries.v1"
    reply_model: ClassVar = WebhookDeliveriesReply

    subscription_id: uuid.UUID
    status: Line = Field(default="", max_length=12)
    offset: Offset = 0
    limit: int = Field(default=50, ge=1, le=200)


@register
class ReplayWebhookDeliveryV1(RpcRequest):
    """Sends a delivery again by hand, with the same body and delivery id (the partner may deduplicate on it)."""

    subject: ClassVar[str] = "rpc.notify.replay_webhook_delivery.v1"
    reply_model: ClassVar = WebhookDeliveryReply

    delivery_id: uuid.UUID
