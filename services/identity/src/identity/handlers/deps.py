"""What every identity use case needs, built once in bootstrap."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity.config import IdentitySettings
from servicekit.auth import TokenVerifier
from servicekit.db import utcnow
from servicekit.outbox import Outbox


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    settings: IdentitySettings
    verifier: TokenVerifier
    clock: Callable[[], datetime] = utcnow

    @property
    def jwks_keep(self) -> timedelta:
        return timedelta(days=self.settings.signing_key_max_age_days) + timedelta(
            seconds=self.settings.access_token_ttl_s
        )
