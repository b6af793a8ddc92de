"""Retention (issue 21), beside ``orm`` (same metadata): the beneficiaries' profiles whose notebook was purged, ids
only. A profile event about one of them arriving late (a redelivery, a consumer catching up) opens no account."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from identity.adapters.orm import Base


class PurgedProfile(Base):
    __tablename__ = "purged_profile"

    profile_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    purged_at: Mapped[datetime]
