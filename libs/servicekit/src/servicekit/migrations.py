"""Alembic per service: ``env.py`` calls ``run_env``; tools call ``upgrade``."""
from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit.db import async_url
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
        async with engine.connect() as connection:
            await connection.run_sync(run_sync)
        await engine.dispose()

    asyncio.run(run_async())
