"""Notify's tables: its own outbox of messages to deliver, which is also the delivery log."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servicekit.db import new_declarative_base

Base = new_declarative_base()
metadata = Base.metadata


class OutgoingMessage(Base):
    __tablename__ = "outgoing_message"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # One message per triggering event, template and recipient: a redelivered event cannot make a second send.
    source_event_id: Mapped[uuid.UUID]
    template: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    links: Mapped[list] = mapped_column(JSON)
    # Bodies carrying a one-time secret are wiped once delivered, outside dev mode.
    contains_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    # pending → sending → sent | failed | pending again (retry); kept (dev mailbox); uncertain (interrupted);
    # held for the recipient's daily digest → digested once the digest is queued
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    sending_since: Mapped[datetime | None]

    __table_args__ = (
        Index("uq_outgoing_message_source_recipient", "source_event_id", "template", "recipient", unique=True),
        Index("ix_outgoing_message_due", "status", "next_attempt_at"),
        Index("ix_outgoing_message_recipient", "recipient"),
    )


class AppointmentCopy(Base):
    """Appointments as notebook announced them, for the reminder the day before (no call back needed)."""

    __tablename__ = "appointment_copy"

    appointment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    notebook_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12))
    with_name: Mapped[str] = mapped_column(String(250), default="")
    structure_name: Mapped[str] = mapped_column(String(250), default="")
    beneficiary_phone: Mapped[str] = mapped_column(String(40), default="")
    beneficiary_email: Mapped[str] = mapped_column(String(320), default="")
    beneficiary_channels: Mapped[list] = mapped_column(JSON, default=list)
    occurred_at: Mapped[datetime]  # of the last state applied
    contact_at: Mapped[datetime | None]  # of the last contact details applied


class NotificationPreference(Base):
    """A professional's choice of immediate messages or one daily digest, for the non-urgent ones.

    Kept with the account's email when it was chosen: messages are addressed by email. After an email
    change the choice no longer matches and messages go out at once again: none is held by mistake."""

    __tablename__ = "notification_preference"

    account_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    frequency: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime]


class WebhookSubscription(Base):
    """A partner's URL told of notebook events of some territories (see ``notify.domain.webhooks``)."""

    __tablename__ = "webhook_subscription"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    label: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    deployment_ids: Mapped[list] = mapped_column(JSON)  # of str
    event_types: Mapped[list] = mapped_column(JSON)  # of WebhookEventType values
    # Encrypted (Fernet, NOTIFY_SECRET_KEY): read back to sign each delivery, never returned by any RPC.
    secret_sealed: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | paused
    paused_at: Mapped[datetime | None]
    paused_for_failures: Mapped[bool] = mapped_column(Boolean, default=False)
    # First failed attempt since the last success; a day of it pauses the subscription.
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID]
    secret_rotated_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """One event for one subscription: at most one row per pair, claimed before each send (as messages are)."""

    __tablename__ = "webhook_delivery"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID]
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(40))
    deployment_id: Mapped[uuid.UUID]
    notebook_id: Mapped[uuid.UUID]
    body: Mapped[str] = mapped_column(Text)  # the exact JSON signed and sent, every time
    # pending → sending → delivered | failed | pending again (retry); uncertain (interrupted mid-send)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sending_since: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("uq_webhook_delivery_subscription_event", "subscription_id", "event_id", unique=True),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_subscription_created", "subscription_id", "created_at"),
    )


class WebhookAttempt(Base):
    """Each POST of a delivery: when, and what the partner answered (or why it could not be reached)."""

    __tablename__ = "webhook_attempt"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    delivery_id: Mapped[uuid.UUID] = mapped_column(index=True)
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(default=0)


class WebhookAdmin(Base):
    """The national admins who manage webhooks, with the email identity gave for them: told when a subscription
    pauses itself (notify keeps no directory of accounts; these are the admins who act on this page)."""

    __tablename__ = "webhook_admin"

    account_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    seen_at: Mapped[datetime]
