"""What every directory use case needs, built once in bootstrap."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.config import DirectorySettings
from servicekit.auth import TokenVerifier
from servicekit.db import utcnow
from servicekit.outbox import Outbox


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    settings: DirectorySettings
    verifier: TokenVerifier
    clock: Callable[[], datetime] = utcnow
