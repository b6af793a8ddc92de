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
    # pending → sending → sent | failed | pending again (retry); kept (dev mailbox); uncertain (interrupted)
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
    occurred_at: Mapped[datetime]  # of the last state applied
