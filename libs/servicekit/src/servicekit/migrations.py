"""Alembic per service: ``env.py`` calls ``run_env``; tools call ``upgrade``."""
from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, event, pool
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit.db import async_url, is_sqlite
from servicekit.messaging import MESSAGING_TABLES


def alembic_config(migrations_dir: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    return config


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Blocking; from async code call it with ``asyncio.to_thread``."""
    command.upgrade(alembic_config(migrations_dir, url), revision)


def declared_by_the_service(_object, name, type_, _reflected, _compare_to) -> bool:
    """Autogenerate filter: the outbox and inbox are created by servicekit, not declared in the service's models;
    search indexes that exist on one backend only (SQLite FTS tables ``*_fts*``, PostgreSQL ``*_trgm`` indexes)
    are created by migrations alone."""
    if type_ == "table" and (name in MESSAGING_TABLES or "_fts" in name):
        return False
    return not (type_ == "index" and name and name.endswith("_trgm"))


def _fast_sqlite_commits(dbapi_connection, _record) -> None:
    """The journal the services run with (``servicekit.db``): in WAL with ``synchronous=NORMAL`` a commit does not
    wait for the disk (a crash may lose the last commits, never the database's consistency). The driver commits
    each DDL statement on its own, so a fresh database's ~200 statements each waited for several fsyncs: 10 s of
    the first `make run` on a busy disk (issue 19)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def run_env(target_metadata: MetaData | None = None) -> None:
    url = context.config.get_main_option("sqlalchemy.url")

    def run_sync(connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite cannot ALTER most things: Alembic rebuilds the table
            compare_type=True,
            include_object=declared_by_the_service,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        if is_sqlite(url):
            event.listen(engine.sync_engine, "connect", _fast_sqlite_commits)
        async with engine.connect() as connection:
            await connection.run_sync(run_sync)
        await engine.dispose()

    asyncio.run(run_async())
