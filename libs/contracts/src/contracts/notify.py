"""Messages owned by the notify service."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from contracts.base import IntegrationEvent, RpcReply, RpcRequest, WireModel
from contracts.inputs import Line, Offset
from contracts.registry import register


class Channel(StrEnum):
    email = "email"
    sms = "sms"


class MailboxMessage(WireModel):
    channel: Channel
    to: str
    subject: str
    text: str
    links: list[str]
    sent_at: datetime | None


class DevMailboxReply(RpcReply):
    messages: list[MailboxMessage]


@register
class ReadDevMailboxV1(RpcRequest):
    """Messages kept instead of sent in dev mode; ``not_found`` outside dev mode."""

    subject: ClassVar[str] = "rpc.notify.read_dev_mailbox.v1"
    reply_model: ClassVar = DevMailboxReply

    to: Line | None = Field(default=None, max_length=320)
    limit: int = Field(default=50, ge=1, le=500)


class TemplatePreview(WireModel):
    template: str
    channel: Channel
    subject: str
    text: str
    html: str | None


class TemplatePreviewsReply(RpcReply):
    previews: list[TemplatePreview]


@register
class PreviewTemplatesV1(RpcRequest):
    """Every template rendered with sample data; ``not_found`` outside dev mode."""

    subject: ClassVar[str] = "rpc.notify.preview_templates.v1"
    reply_model: ClassVar = TemplatePreviewsReply


@register
class MessageSentV1(IntegrationEvent):
    subject: ClassVar[str] = "notify.message.sent.v1"

    message_id: uuid.UUID
    channel: Channel
    template: str
    source_event_id: uuid.UUID
    recipient: str = ""


@register
class MessageFailedV1(IntegrationEvent):
    subject: ClassVar[str] = "notify.message.failed.v1"

    message_id: uuid.UUID
    channel: Channel
    template: str
    source_event_id: uuid.UUID
    error: str
    # The address or number that failed, so that the service owning the contact can flag it.
    recipient: str = ""


class DeliveryView(WireModel):
    message_id: uuid.UUID
    created_at: datetime
    channel: Channel
    template: str
    recipient: str
    # pending, sending, sent, failed, kept (dev mailbox), uncertain (interrupted mid-send),
    # held (for the recipient's daily digest), digested (sent within it)
    status: str
    attempts: int
    last_error: str | None = None
    sent_at: datetime | None = None


class DeliveriesReply(RpcReply):
    deliveries: list[DeliveryView]
    total: int


@register
class ListDeliveriesV1(RpcRequest):
    """The delivery log, newest first (admin_cdb): what was sent, what failed and why, what is retried."""

    subject: ClassVar[str] = "rpc.notify.list_deliveries.v1"
    reply_model: ClassVar = DeliveriesReply

    status: Line = Field(default="", max_length=12)
    recipient: Line = Field(default="", max_length=320)
    offset: Offset = 0
    limit: int = Field(default=50, ge=1, le=200)


@register
class ResendMessageV1(RpcRequest):
    """An admin sends again a message that failed or was interrupted mid-send ("uncertain"): never automatic,
    because an uncertain message may have reached its recipient already."""

    subject: ClassVar[str] = "rpc.notify.resend_message.v1"
    reply_model: ClassVar = DeliveryView

    message_id: uuid.UUID


class NotificationFrequency(StrEnum):
    immediate = "immediate"
    daily = "daily"  # one email a day gathering the non-urgent notifications


class NotificationPreferencesReply(RpcReply):
    frequency: NotificationFrequency = NotificationFrequency.immediate


@register
class GetMyNotificationPreferencesV1(RpcRequest):
    """The caller's choice (professionals, managers, structure admins, orientation managers)."""

    subject: ClassVar[str] = "rpc.notify.get_my_preferences.v1"
    reply_model: ClassVar = NotificationPreferencesReply


@register
class SetMyNotificationPreferencesV1(RpcRequest):
    """Login links, codes and account messages are always sent at once, whatever the choice."""

    subject: ClassVar[str] = "rpc.notify.set_my_preferences.v1"
    reply_model: ClassVar = NotificationPreferencesReply

    frequency: NotificationFrequency
