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
