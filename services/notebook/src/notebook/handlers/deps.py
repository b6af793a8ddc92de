"""What every notebook use case needs, built once in bootstrap."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.notebook import Referentials
from notebook.adapters.access_log import VisitLog
from notebook.config import NotebookSettings
from notebook.domain.protection import FieldProtection
from servicekit.auth import TokenVerifier
from servicekit.db import utcnow
from servicekit.outbox import Outbox

if TYPE_CHECKING:
    from notebook.handlers.france_travail import FranceTravailRefresher


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    settings: NotebookSettings
    verifier: TokenVerifier
    protection: FieldProtection
    clock: Callable[[], datetime] = utcnow
    # France Travail's API, where the settings give its credentials (None: no territory uses it).
    france_travail: FranceTravailRefresher | None = None
    # The service's NATS connection: its object store keeps the exports' files (handlers.exports.store_file).
    bus: Any = None
    # Sessions for hot read paths that never write (the page): on SQLite an engine whose statements run in the
    # loop's thread (servicekit.inline_sqlite); the service's own sessions elsewhere (None: ``sessions``).
    read_sessions: async_sessionmaker[AsyncSession] | None = None
    # The access log's writes, several views to a transaction (group commit).
    visit_log: VisitLog = field(init=False)
    # The referentials, read once (handlers.referentials.referentials_of).
    referentials: Referentials | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.visit_log = VisitLog(self.sessions, self.outbox)
        if self.read_sessions is None:
            self.read_sessions = self.sessions
