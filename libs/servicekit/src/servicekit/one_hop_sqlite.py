"""Each SQLite statement of a service's engine in one hand-over to its connection's thread, not three or four.

aiosqlite runs every call in its connection's thread and hands the result back through the event loop; SQLAlchemy's
adapter makes a call of each step of a statement: open a cursor, execute, fetch the rows, close the cursor. Each
hand-over wakes the thread, then the loop, and a write transaction holds the write lock of the database (SQLite's,
and ``servicekit.db._SqliteWriters``) across all of them: event commits at 500 a second (issue 19 item 3) were cut
to ~360 a second by these hand-overs, not by SQLite.

Here the statement's steps run together in the thread, once: its rows, description, row count and last row id come
back in one hand-over and the cursor's methods answer from them. Server-side cursors (results streamed in batches,
the exports) keep SQLAlchemy's own: their rows must not all be fetched at once.
"""
from __future__ import annotations

import collections
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor
from sqlalchemy.util import EMPTY_DICT


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor, each statement one call in the connection's thread."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No cursor opened here (SQLAlchemy's opens one, a hand-over): each statement opens and closes its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description = None
        self._rowcount = -1
        self._lastrowid = None

    @property
    def description(self):
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self):
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:  # the rows are all fetched already
        pass

    async def _in_thread(self, work):
        """``work(cursor)`` on a cursor of its own, opened and closed in the connection's thread: one hand-over."""
        connection = self._connection

        def run():
            cursor = connection._conn.cursor()
            try:
                return work(cursor)
            finally:
                cursor.close()

        async with self._adapt_connection._execute_mutex:
            return await connection._execute(run)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        def statement(cursor):
            cursor.execute(operation, () if parameters is None else parameters)
            rows = cursor.fetchall() if cursor.description else None
            return cursor.description, rows, cursor.rowcount, cursor.lastrowid

        self._description, rows, self._rowcount, self._lastrowid = await self._in_thread(statement)
        self._rows = collections.deque(rows or ())

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        def statements(cursor):
            cursor.executemany(operation, seq_of_parameters)
            return cursor.rowcount, cursor.lastrowid

        self._rowcount, self._lastrowid = await self._in_thread(statements)
        self._description = None
        self._rows = collections.deque()

    async def _async_soft_close(self) -> None:  # nothing left open in the thread
        pass

    def close(self) -> None:
        self._rows.clear()


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


def one_hop_statements(dbapi_connection, _record) -> None:
    """Pool ``connect`` listener: the connection's plain cursors become ``OneHopCursor``s (same adapter otherwise:
    ``OneHopConnection`` adds no state, only the class of its cursors)."""
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        dbapi_connection.__class__ = OneHopConnection
