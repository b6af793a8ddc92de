"""Async engines, metadata conventions and column types shared by every service database."""
from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (ColumnElement, DateTime, Index, MetaData, Select, Uuid, any_, bindparam, event, func, select,
                        text)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransactionOrigin
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only

from servicekit import telemetry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def async_url(url: str) -> str:
    """Accepts the usual ``postgresql://`` and ``sqlite:///`` forms and picks the async driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.split(":///", 1)[1]
    return url


def default_database_url(var_dir: Path, service: str) -> str:
    """The embedded default: one SQLite file per service under ``var/``."""
    var_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{(var_dir / f'{service}.db').resolve()}"


def is_sqlite(url_or_engine: str | AsyncEngine) -> bool:
    url = url_or_engine if isinstance(url_or_engine, str) else str(url_or_engine.url)
    return url.startswith("sqlite")


def one_of(column, values, *, sqlite: bool) -> ColumnElement[bool]:
    """``column IN values`` for a batch's hundreds of keys: on PostgreSQL ``column = ANY(:array)``, one parameter
    whatever their number, so the statement is compiled once and prepared once; an IN of 500 values rendered 500
    parameters each time (SQLAlchemy's expanding IN), a fifth of what the relay and the import's owners spent.
    SQLite has no arrays: an IN there."""
    values = list(values)
    if sqlite:
        return column.in_(values)
    from sqlalchemy.dialects.postgresql import ARRAY  # see upsert_insert: PostgreSQL's dialect only where it is used

    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))


async def plan_for_now(session: AsyncSession) -> None:
    """On PostgreSQL, the statements of this transaction are planned for their parameters and the tables as they are
    now (``plan_cache_mode = force_custom_plan``), not with the generic plan a prepared statement settles on after
    its fifth run. For a batch's lookups by hundreds of keys in tables an import is growing: a generic plan chosen
    while a table was small (a sequential scan) was kept once it was large, until an ANALYZE (never, where
    autovacuum is off), and the 100,000-row import became quadratic: 1.7 s a batch for one lookup by NIR at the end.
    Planning each statement costs far less than a batch's work."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def upsert_insert(dialect_name: str):
    """The INSERT of the database's dialect, the one that knows ``ON CONFLICT``. PostgreSQL's is imported when a
    PostgreSQL database first asks for it: importing SQLAlchemy's PostgreSQL dialect costs 2.4 MB in every process,
    and a service on SQLite never needs it (DESIGN §6, idle RSS < 90 MB)."""
    if dialect_name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert


def partial_index(name: str, *columns, where: ColumnElement[bool], unique: bool = False) -> Index:
    """An index of the rows where ``where`` holds, on SQLite and on PostgreSQL. PostgreSQL's condition is set when
    the index is created on a PostgreSQL database rather than declared as ``postgresql_where=``: the declaration
    alone makes SQLAlchemy import its PostgreSQL dialect, in every process (see ``upsert_insert``)."""
    index = Index(name, *columns, unique=unique, sqlite_where=where)

    @event.listens_for(index, "before_create")
    def _condition_on_postgresql(target: Index, connection, **_) -> None:
        if connection.dialect.name == "postgresql":
            target.dialect_options["postgresql"]["where"] = where

    return index


def create_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    if is_sqlite(url):
        from servicekit.one_hop_sqlite import one_hop_statements

        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        writers = _SqliteWriters()
        event.listen(engine.sync_engine, "connect", one_hop_statements)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        event.listen(engine.sync_engine, "begin", writers.begin)
        event.listen(engine.sync_engine.pool, "checkin", writers.checked_in)
    else:
        engine = create_async_engine(url, pool_size=POOL_SIZE, max_overflow=0)
        event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
        event.listen(engine.sync_engine.pool, "checkin", _note_idle)
    telemetry.instrument_engine(engine.sync_engine)
    return engine


# PostgreSQL connections a process keeps: all of them, no overflow. An overflow connection is closed as soon as it
# is handed back, so that under load (the notebook page at 32 clients) the pool opened and closed a connection
# every twelve pages: a PostgreSQL process forked each time, TLS tried, the types and every statement prepared
# again; the page's throughput went from ~135 to ~165 pages/s once they were kept. The same most as before (10 + 20
# overflow): the 31st session waits for one handed back, as it did; PostgreSQL's max_connections must allow 30 a
# process (deploy/README.md).
POOL_SIZE = 30

# A pooled PostgreSQL connection left idle this long is pinged before it is handed out again.
PING_IDLE_S = 10.0


def _note_idle(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    """A connection back in the pool for a while may have been lost (PostgreSQL restarted, a network cut): pinged,
    and replaced if it does not answer (the pool tries another). Not one that served a moment ago: SQLAlchemy's
    ``pool_pre_ping`` pinged at every checkout, in three round trips on asyncpg (BEGIN, ``;``, ROLLBACK), the
    half of a small write's; under load on two cores each round trip waits for PostgreSQL's process, and event
    propagation at 500 events/s (writers, relay, consumer) had a p99 two to three times higher (issue 19
    item 3)."""
    idle_since = record.info.get("idle_since")
    if idle_since is not None and time.monotonic() - idle_since < PING_IDLE_S:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:
        raise DisconnectionError(f"a pooled connection did not answer: {exc!r}") from exc


# Execution option naming how a SQLite transaction begins: "IMMEDIATE" takes the write lock at BEGIN.
SQLITE_BEGIN = "sqlite_begin"
SQLITE_BUSY_TIMEOUT_S = 30
# Page cache per connection of a service's engine (SQLite's default: 2 MiB). In WAL mode a connection drops its
# whole cache whenever another has written since its last transaction, so in service it holds little for long;
# the operating system's file cache serves the pages again. What it did hold: the start-up's reads, up to 2 MiB in
# each pooled connection of an idle service (notebook idle 90.9 MB -> 89.5). Measured the same, interleaved
# (process CPU time): the beneficiaries' searches at 100,000 notebooks, and 20,000 notebooks written in batches
# of 5,000. The notebook page's reader (servicekit.inline_sqlite) keeps the default.
SQLITE_CACHE_KIB = 256


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets readers run beside the writer; busy_timeout makes writers queue instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()
    # The driver's own BEGIN comes only before INSERT/UPDATE/DELETE: a SELECT ... FOR UPDATE then read outside
    # any transaction and two writers both passed their checks (lost updates). SQLAlchemy emits BEGIN instead
    # (the documented pysqlite/aiosqlite recipe), see _SqliteWriters.begin.
    dbapi_connection.isolation_level = None


class _SqliteWriters:
    """The write transactions of one SQLite engine take turns in this process, first come first served, before
    SQLite's own write lock. Left to SQLite, a writer that finds the lock taken polls for it, sleeping longer at
    each try (1, 2, 5, … up to 100 ms): under a steady stream of short writes (500 outbox commits a second) the
    relay's transaction that marks a batch published lost the lock to newer writers again and again, for up to
    0.7 s, and every event behind it waited (issue 19 item 3). Queued here, it waits for the writers ahead of it
    only. Other processes on the same file (a CLI command) still meet SQLite's lock and its busy timeout."""

    def __init__(self) -> None:
        # One lock per event loop (an engine may outlive a test's loop); who holds it: a pool connection record.
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        self._holders: dict[asyncio.Lock, object] = {}

    def begin(self, connection) -> None:
        # A transaction that will write begins IMMEDIATE, taking the database's write lock before its first read,
        # so read-modify-write transactions run one after the other and each reads what the previous one
        # committed. Readers keep a plain (deferred) BEGIN: in WAL they run beside the writer.
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "")
        if mode == "IMMEDIATE":
            self._acquire(connection.connection._connection_record)
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    def _acquire(self, record) -> None:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        try:
            # The same patience as SQLite's busy timeout, and the same error after it (a writer that waits for a
            # transaction it holds itself fails instead of hanging).
            await_only(asyncio.wait_for(lock.acquire(), SQLITE_BUSY_TIMEOUT_S))
        except TimeoutError:
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked")) from None
        self._holders[lock] = record

    def checked_in(self, _dbapi_connection, record) -> None:
        # The transaction ended (committed, rolled back, or its connection lost): the connection is back in the
        # pool, after its COMMIT or ROLLBACK, so the next writer's BEGIN IMMEDIATE finds SQLite's lock free.
        for lock, holder in list(self._holders.items()):
            if holder is record:
                del self._holders[lock]
                lock.release()


class _SqliteSession(Session):
    """Sessions opened with an explicit ``begin()`` are the ones that write (the services' convention: reads
    use an autobegun session, never committed): on SQLite they take the write lock at BEGIN."""

    def get_bind(self, *args, **kwargs):
        bind = super().get_bind(*args, **kwargs)
        transaction = self.get_transaction()
        if transaction is not None and transaction.origin is SessionTransactionOrigin.BEGIN:
            return _immediate(bind)
        return bind


def _immediate(engine: Engine) -> Engine:
    # One option engine per engine (same pool): the session must get the same bind for every statement.
    immediate = engine.__dict__.get("_carnet_immediate")
    if immediate is None:
        immediate = engine.__dict__["_carnet_immediate"] = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    return immediate


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    if is_sqlite(engine):
        return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=_SqliteSession)
    return async_sessionmaker(engine, expire_on_commit=False)


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC on the way in and out; SQLite would otherwise hand back naive datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def versioned_by(column) -> dict:
    """``__mapper_args__`` of an aggregate edited under optimistic concurrency. Every UPDATE of its row says
    ``WHERE <column> = <version read>``: the database, not a comparison in Python, decides which of two
    transactions that read the same version writes; the other fails with ``StaleDataError`` (answered 409 by
    the RPC server). The handler still decides which changes make a new version (``version += 1``): the notebook
    row, for one, changes with every history entry while its diagnostic version does not."""
    return {"version_id_col": column, "version_id_generator": False}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_declarative_base() -> type[DeclarativeBase]:
    """A declarative base of its own per service (own metadata), with UTC datetimes and UUID columns."""

    class Base(DeclarativeBase):
        metadata = new_metadata()
        type_annotation_map = {datetime: UtcDateTime, uuid.UUID: Uuid}

    return Base


__all__ = ["Engine", "UtcDateTime", "new_declarative_base", "create_engine", "new_metadata", "sessionmaker", "utcnow",
           "versioned_by"]


async def paged(session: AsyncSession, query: Select, offset: int, limit: int) -> tuple[int, list]:
    """How many rows ``query`` selects in all, and the page of them at ``offset`` (in the query's order)."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.execute(query.offset(offset).limit(limit))).scalars().all()
    return total, list(rows)
