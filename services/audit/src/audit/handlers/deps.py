from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.config import AuditSettings
from servicekit.auth import TokenVerifier
from servicekit.db import utcnow


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    settings: AuditSettings
    clock: Callable[[], datetime] = utcnow
    verifier: TokenVerifier | None = None
