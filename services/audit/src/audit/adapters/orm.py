"""The audit store, apart from every business table: the lines, the chain's head and its anchor."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from servicekit.db import new_declarative_base

Base = new_declarative_base()
metadata = Base.metadata

_Seq = BigInteger().with_variant(Integer(), "sqlite")


class AuditLine(Base):
    """Appended, never updated; deleted only by the retention purge, oldest first (the anchor moves with it)."""

    __tablename__ = "audit_line"

    seq: Mapped[int] = mapped_column(_Seq, primary_key=True, autoincrement=False)
    # One line per event: a redelivered event is not appended twice.
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    recorded_at: Mapped[datetime]
    occurred_at: Mapped[datetime]
    deployment_id: Mapped[uuid.UUID | None]
    actor_account_id: Mapped[uuid.UUID | None]
    actor_role: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[str] = mapped_column(String(100))
    notebook_id: Mapped[uuid.UUID | None]
    details: Mapped[dict] = mapped_column(JSON)
    # Unique: two appends after the same line (a fork of the chain) cannot both commit.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_line_deployment_seq", "deployment_id", "seq"),
        Index("ix_audit_line_notebook", "notebook_id"),
        Index("ix_audit_line_actor", "actor_account_id"),
        Index("ix_audit_line_recorded_at", "recorded_at"),
    )


class AuditChain(Base):
    """One row: the head (last line appended) and the anchor (last line purged), updated in the transaction of each
    append or purge. Appends lock it first, so that they run one at a time whatever the number of replicas."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    head_seq: Mapped[int] = mapped_column(_Seq)
    head_hash: Mapped[str] = mapped_column(String(64))
    anchor_seq: Mapped[int] = mapped_column(_Seq)
    anchor_hash: Mapped[str] = mapped_column(String(64))
    # The last purge's Paris day: the nightly purge runs once a day across replicas.
    purged_on: Mapped[str] = mapped_column(String(10), default="")
