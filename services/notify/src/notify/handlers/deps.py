from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notify.config import NotifySettings
from servicekit.auth import TokenVerifier
from servicekit.db import utcnow
from servicekit.outbox import Outbox


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    settings: NotifySettings
    clock: Callable[[], datetime] = utcnow
    verifier: TokenVerifier | None = None
    # RPCs to other services (the digest asks notebook who waits for a référent), with optional headers.
    call: Callable[..., Awaitable] | None = None
    # Set when a message is queued, so that the sender delivers it at once instead of at its next poll.
    queued: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when a webhook delivery is queued or replayed, for the same reason.
    webhooks_queued: asyncio.Event = field(default_factory=asyncio.Event)
