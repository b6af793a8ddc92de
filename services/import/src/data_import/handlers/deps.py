"""What every use case of the import service needs, built once in bootstrap."""
from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from nats.js.object_store import ObjectStore
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from data_import.config import DataImportSettings
from servicekit.auth import TokenVerifier
from servicekit.bus import Bus
from servicekit.db import utcnow
from servicekit.objects import uploads
from servicekit.outbox import Outbox


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    settings: DataImportSettings
    verifier: TokenVerifier
    bus: Bus
    clock: Callable[[], datetime] = utcnow
    # This replica, as leases name it.
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Set when the service stops: work in progress ends at its next step even where a library swallowed the
    # cancellation (an RPC's timeout scope may turn it into a timeout, which the owner's retry loop would retry).
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _store: ObjectStore | None = None
    _parsers: ThreadPoolExecutor | None = None

    def parsers(self) -> ThreadPoolExecutor:
        """Where rows are validated, off the event loop that serves RPCs meanwhile. One thread: a pool of processes
        was tried and, on 2 cores, shipping rows to other processes cost what it saved."""
        if self._parsers is None:
            self._parsers = ThreadPoolExecutor(1, thread_name_prefix="import-parser")
        return self._parsers

    def close(self) -> None:
        if self._parsers is not None:
            self._parsers.shutdown(wait=False, cancel_futures=True)
            self._parsers = None

    def check_running(self) -> None:
        if self.stopping.is_set():
            raise asyncio.CancelledError()

    async def store(self) -> ObjectStore:
        """The ``uploads`` bucket (the bus is connected by the time a handler or a job asks)."""
        if self._store is None:
            self._store = await uploads(self.bus.stream_context)
        return self._store
