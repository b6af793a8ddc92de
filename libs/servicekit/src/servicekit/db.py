"""Async engines, metadata conventions and column types shared by every service database."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, MetaData, Select, Uuid, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransactionOrigin
from sqlalchemy.types import TypeDecorator

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


def create_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
    else:
        engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    telemetry.instrument_engine(engine.sync_engine)
    return engine


# Execution option naming how a SQLite transaction begins: "IMMEDIATE" takes the write lock at BEGIN.
SQLITE_BEGIN = "sqlite_begin"


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets readers run beside the writer; busy_timeout makes writers queue instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # The driver's own BEGIN comes only before INSERT/UPDATE/DELETE: a SELECT ... FOR UPDATE then read outside
    # any transaction and two writers both passed their checks (lost updates). SQLAlchemy emits BEGIN instead
    # (the documented pysqlite/aiosqlite recipe), see _begin_sqlite.
    dbapi_connection.isolation_level = None


def _begin_sqlite(connection) -> None:
    # SQLite has no row locks: a transaction that will write begins IMMEDIATE, taking the database's write
    # lock before its first read, so read-modify-write transactions run one after the other (waiting up to
    # busy_timeout) and each reads what the previous one committed. Readers keep a plain (deferred) BEGIN:
    # in WAL they run beside the writer.
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "")
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


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
