"""A read-only SQLite engine whose statements run in the event loop's thread, for hot read paths of many small
statements (the notebook page: ~18 SELECTs a view).

aiosqlite runs each call in a thread of its own connection and hands the result back through the event loop:
SQLAlchemy's adapter makes four such round trips a statement (cursor, execute with fetchall, close...). Measured on
the notebook page's history query, a statement costs ~1.1 ms that way against ~0.2 ms run directly, and a page
made ~90 round trips: most of the page's time in the service was these hand-overs, not SQLite.

Here SQLAlchemy's own aiosqlite dialect drives a connection that looks like aiosqlite's but runs ``sqlite3``
right away: every awaitable it returns is already done, so no statement leaves the thread nor waits for a turn of
the loop. The price: the loop does nothing else while SQLite reads. That is only acceptable for reads, which in WAL
mode never wait for a writer (they read the last committed snapshot), and for small indexed queries; so the
connections are ``query_only`` (a write fails at once instead of waiting for the write lock with the loop held)
and their busy timeout is short.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from servicekit import telemetry

# A reader waits for a lock only in rare moments (a WAL being recovered after a crash, its index being rebuilt):
# the loop is held meanwhile, so not for the writers' 30 s.
READER_BUSY_TIMEOUT_MS = 1000


class _Done:
    """What aiosqlite's ``cursor()`` returns: awaited through ``__aenter__`` by SQLAlchemy's adapter."""

    __slots__ = ("cursor",)

    def __init__(self, cursor: InlineCursor) -> None:
        self.cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self.cursor

    async def __aexit__(self, *exc) -> None:
        await self.cursor.close()


class InlineCursor:
    """aiosqlite's ``Cursor`` surface over a ``sqlite3.Cursor``, run at once."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        self._cursor.execute(sql, parameters if parameters is not None else ())
        return self

    async def executemany(self, sql: str, parameters: Any) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self):
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None):
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self):
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self):
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _RunNow:
    """aiosqlite's queue of calls for its thread (SQLAlchemy's adapter sets ``isolation_level`` through it): the
    call runs now, its future is done when put."""

    @staticmethod
    def put_nowait(item) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # given back to the adapter, as aiosqlite's thread does
            future.set_exception(error)


class InlineConnection:
    """aiosqlite's ``Connection`` surface over a ``sqlite3.Connection``, run at once in the caller's thread."""

    _tx = _RunNow()

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection

    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._conn

    @property
    def isolation_level(self):
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def cursor(self) -> _Done:
        return _Done(InlineCursor(self._conn.cursor()))

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        return await InlineCursor(self._conn.cursor()).execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()

    async def create_function(self, *args, **kwargs) -> None:
        self._conn.create_function(*args, **kwargs)


def _path_of(url: str) -> str:
    if not url.startswith("sqlite") or ":///" not in url:
        raise ValueError(f"not a SQLite file URL: {url}")
    return url.split(":///", 1)[1]


def create_reader(url: str) -> AsyncEngine:
    """A read-only engine on the SQLite file of ``url`` whose statements run in the loop's thread (see above).
    Its sessions must not write: ``PRAGMA query_only`` fails any write. Each read is a transaction of its own
    (a plain BEGIN, a snapshot of the last commit, as the service's other readers)."""
    path = _path_of(url)

    async def connect() -> InlineConnection:
        # check_same_thread off: a connection is only used by the loop that opened it, but the engine's
        # disposal may close it from elsewhere.
        # The busy timeout from the first statement on (sqlite3's own default, 5 s, would hold the loop that long
        # on a locked file while journal_mode is set).
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                     timeout=READER_BUSY_TIMEOUT_MS / 1000)
        # WAL as the service's engine sets it (a file's mode, kept), in case this one opens the file first: in
        # the rollback journal's mode a reader waits for the writer.
        for pragma in ("journal_mode=WAL", f"busy_timeout={READER_BUSY_TIMEOUT_MS}", "query_only=ON",
                       "foreign_keys=ON"):
            connection.execute(f"PRAGMA {pragma}")
        return InlineConnection(connection)

    # Kept connections (opening one reads the schema); the async pool waits for a free one without blocking the loop.
    engine = create_async_engine("sqlite+aiosqlite:///" + path, async_creator=connect, pool_size=5, max_overflow=10)
    event.listen(engine.sync_engine, "begin", _begin)
    telemetry.instrument_engine(engine.sync_engine)
    return engine


def _begin(connection) -> None:
    # isolation_level None: sqlite3 emits no BEGIN of its own; a plain (deferred) BEGIN keeps every statement of
    # a read in one snapshot, as servicekit.db's readers do.
    connection.exec_driver_sql("BEGIN")


__all__ = ["InlineConnection", "InlineCursor", "create_reader"]
