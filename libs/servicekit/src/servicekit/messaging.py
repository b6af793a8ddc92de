"""Outbox and inbox tables, present in every service database (created by each service's first migration)."""
from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Integer, LargeBinary, String, Table, Uuid

from servicekit.db import UtcDateTime, new_metadata, partial_index

messaging_metadata = new_metadata()

# BigInteger on PostgreSQL, INTEGER PRIMARY KEY (rowid alias, autoincrementing) on SQLite.
_Sequence = BigInteger().with_variant(Integer(), "sqlite")

outbox_table = Table(
    "outbox",
    messaging_metadata,
    Column("seq", _Sequence, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("subject", String(200), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    # Trace context and request id of the transaction that wrote the event, so the trace follows the event.
    Column("headers", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("published_at", UtcDateTime, nullable=True),
)
partial_index("ix_outbox_unpublished", outbox_table.c.seq, where=outbox_table.c.published_at.is_(None))

inbox_table = Table(
    "inbox",
    messaging_metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", UtcDateTime, nullable=False),
)


MESSAGING_TABLES = frozenset(messaging_metadata.tables)


def create_messaging_tables(connection) -> None:
    """Called from a service's first Alembic migration with ``op.get_bind()``."""
    messaging_metadata.create_all(connection)


def drop_messaging_tables(connection) -> None:
    messaging_metadata.drop_all(connection)
