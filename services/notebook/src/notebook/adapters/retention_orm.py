"""Tables of retention (issue 21), beside ``orm`` (same metadata): each territory's months, the extensions granted
by its managers, and the record of each notebook found due — ids only, kept after the purge: it says the purge
happened, which services confirmed it, and keeps the pilotage read model's anonymised row frozen."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from notebook.adapters.orm import Base


class RetentionPolicy(Base):
    __tablename__ = "retention_policy"

    deployment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    months: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]
    updated_by_name: Mapped[str] = mapped_column(String(250), default="")


class RetentionExtension(Base):
    """« Prolonger »: the notebook is kept until ``until`` whatever its activity; who, when and why."""

    __tablename__ = "retention_extension"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(index=True)
    deployment_id: Mapped[uuid.UUID]
    until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    extended_by_id: Mapped[uuid.UUID | None]
    extended_by_name: Mapped[str] = mapped_column(String(250), default="")
    created_at: Mapped[datetime]


class RetentionPurge(Base):
    """A notebook found due: published once (``notebook.retention.due.v1``), then erased here once every service in
    ``contracts.retention.PURGING_SERVICES`` confirmed (``confirmed``: their names, "|"-separated)."""

    __tablename__ = "retention_purge"

    notebook_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    deployment_id: Mapped[uuid.UUID]
    beneficiary_id: Mapped[uuid.UUID]
    due_since: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime]
    confirmed: Mapped[str] = mapped_column(String(200), default="")
    purged_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_retention_purge_deployment", "deployment_id", "purged_at"),)
