"""`carnet audit verify` on a real audit database (SQLite and PostgreSQL): intact, it counts the lines; one line
changed, one removed, two swapped — each is named, with a non-zero exit. The purge keeps it verifiable."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from audit.adapters.orm import AuditChain
from audit.config import AuditSettings
from audit.handlers.append_line import append
from audit.handlers.deps import Deps
from audit.handlers.purge import purge
from audit.handlers.verify_chain import verify_database
from contracts.audit import NotebookAuditRecordedV1
from servicekit.db import create_engine, sessionmaker
from servicekit.topology import SERVICES_BY_NAME


@pytest.fixture
async def audit_db(databases):
    url = await databases.create("audit", SERVICES_BY_NAME["audit"].migrations_dir)
    engine = create_engine(url)
    yield url, engine
    await engine.dispose()


async def fill(engine, count: int, start: datetime, step: timedelta = timedelta(minutes=1)) -> None:
    sessions = sessionmaker(engine)
    for n in range(count):
        event = NotebookAuditRecordedV1(deployment_id=uuid.uuid4(), actor_account_id=uuid.uuid4(),
                                        actor_role="professional", action="notebook.read", target_type="notebook",
                                        target_id=str(n), notebook_id=uuid.uuid4())
        async with sessions() as session, session.begin():
            await append(session, event, start + n * step)


async def tamper(engine, *statements: str) -> None:
    """As someone with the database's own rights would: the append-only trigger set aside first."""
    async with engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        await connection.execute(text("ALTER TABLE audit_line DISABLE TRIGGER audit_line_no_update" if postgres
                                      else "DROP TRIGGER audit_line_no_update"))
        for statement in statements:
            await connection.execute(text(statement))


def carnet_audit_verify(url: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "carnet"), "audit", "verify", "--database-url", url],
                          capture_output=True, text=True, timeout=60)


async def verify_command(url: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(carnet_audit_verify, url)


async def test_an_intact_log_verifies_with_its_count(audit_db):
    url, engine = audit_db
    await fill(engine, 5, datetime.now(UTC))
    result = await verify_command(url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Journal d'audit intact : 5 ligne(s) vérifiée(s)."


async def test_one_line_changed_is_named(audit_db):
    url, engine = audit_db
    await fill(engine, 5, datetime.now(UTC))
    await tamper(engine, "UPDATE audit_line SET actor_role = 'manager' WHERE seq = 3")
    result = await verify_command(url)
    assert result.returncode == 1
    assert "ligne 3 modifiée" in result.stderr


async def test_one_line_removed_is_named(audit_db):
    url, engine = audit_db
    await fill(engine, 5, datetime.now(UTC))
    await tamper(engine, "DELETE FROM audit_line WHERE seq = 3")
    result = await verify_command(url)
    assert result.returncode == 1
    assert "ligne manquante après 2" in result.stderr


async def test_the_last_line_removed_is_named_too(audit_db):
    url, engine = audit_db
    await fill(engine, 5, datetime.now(UTC))
    await tamper(engine, "DELETE FROM audit_line WHERE seq = 5")
    result = await verify_command(url)
    assert result.returncode == 1
    assert "ligne manquante après 4" in result.stderr


async def test_two_lines_swapped_are_named(audit_db):
    url, engine = audit_db
    await fill(engine, 5, datetime.now(UTC))
    # Their places exchanged (seq is what orders the log).
    await tamper(engine, "UPDATE audit_line SET seq = 100 WHERE seq = 2", "UPDATE audit_line SET seq = 2 WHERE seq = 3",
                 "UPDATE audit_line SET seq = 3 WHERE seq = 100")
    result = await verify_command(url)
    assert result.returncode == 1
    assert "ordre changé" in result.stderr


async def test_a_line_cannot_be_updated_through_the_database(audit_db):
    url, engine = audit_db
    await fill(engine, 1, datetime.now(UTC))
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE audit_line SET action = 'autre' WHERE seq = 1"))


async def test_the_purge_removes_lines_past_twelve_months_and_the_chain_still_verifies(audit_db):
    url, engine = audit_db
    now = datetime.now(UTC)
    await fill(engine, 6, now - timedelta(days=368), step=timedelta(days=2))  # 368, 366 … 358 days ago
    deps = Deps(sessions=sessionmaker(engine), settings=AuditSettings(env="test"), clock=lambda: now)
    purged = await purge(deps)
    assert purged == 2  # recorded 368 and 366 days ago, before the same day of last year
    assert await purge(deps) == 0  # once a day, whatever the number of replicas
    async with sessionmaker(engine)() as session:
        chain = await session.get(AuditChain, 1)
        assert (chain.anchor_seq, chain.head_seq) == (2, 6)
    verdict = await verify_database(url)
    assert verdict.intact and verdict.checked == 4
