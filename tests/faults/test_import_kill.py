"""Exactly once across crashes (issue 15, item 5): a 4,000-row beneficiaries import is applying when the import
service, or the notebook service that applies its batches, is killed with SIGKILL; once restarted, the import
reaches ``done`` with every row applied once: 4,000 beneficiaries, no duplicate, complete counts."""
from __future__ import annotations

import asyncio
import signal
import time
import uuid

import httpx
import pytest
from sqlalchemy import text

from contracts.identity import DemoAccount, Role
from servicekit.db import create_engine
from testkit.system import RunningSystem, bearer, open_link, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(420)]

# Eight batches of 500: some applied before the kill, one or two under way at it, the rest after the restart.
# (10,000 rows tested the same, in 70 s a test: the suite's time is CI's limit.)
ROWS = 4_000
ADMIN = DemoAccount(email="admin@demo.carnet.test", role=Role.admin_cdb, firstname="Alice", lastname="Admin")
FIRSTNAMES = ["Élodie", "Pierre", "Sophie", "Jérôme", "Anaïs", "Karim", "Hélène", "Noël", "Zoé", "Inès", "Mathis",
              "Léa", "Bruno", "Chloé", "Yanis", "Maëlle"]
LASTNAMES = ["Dupré", "Tifour", "Gonzalez", "Benali", "Nguyen", "Moreau", "Gauthier", "Bœuf", "Périer", "Diallo",
             "Çelik", "Lefèvre", "Martin", "Rousseau", "Fontaine", "Chevalier"]


def beneficiaries_file(rows: int) -> bytes:
    """Distinct people, the same for every run: an SI id, a name and a birth date each (the name carries the row's
    number, so no two rows are the same person)."""
    lines = ["Identifiant dans le SI*;Prénom*;Nom*;Date de naissance*;Téléphone;Ville"]
    for n in range(rows):
        born = f"{1950 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        lines.append(f"SI-{n:06d};{FIRSTNAMES[n % 16]};{LASTNAMES[n // 16 % 16]}-{n};{born};06{n:08d};Bobigny")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


async def manager_of_a_new_territory(system: RunningSystem, client: httpx.AsyncClient) -> str:
    await system.seed(ADMIN)
    admin = await sign_in(system, client, ADMIN.email)
    email = f"gestion-{uuid.uuid4().hex[:8]}@cd93.fr"
    created = await client.post("/api/v1/deployments", headers=bearer(admin), json={
        "label": "Territoire 93", "department_code": "93",
        "manager": {"firstname": "Agathe", "lastname": "Gestion", "email": email}})
    assert created.status_code == 201, created.text
    [invitation] = await system.mailbox(client, email)
    async with system.client() as manager:
        await open_link(manager, invitation["links"][0])
        return await sign_in(system, manager, email, count=2)


async def view_of(client: httpx.AsyncClient, token: str, import_id: str) -> dict | None:
    """The import's view, or None while the service answering it is down (the gateway says 5xx)."""
    try:
        answer = await client.get(f"/api/v1/imports/{import_id}", headers=bearer(token))
    except httpx.TimeoutException:
        return None
    if answer.status_code >= 500:
        return None
    assert answer.status_code == 200, answer.text
    return answer.json()


async def wait_state(system: RunningSystem, client: httpx.AsyncClient, token: str, import_id: str, state: str,
                     timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    view = None
    while time.monotonic() < deadline:
        view = await view_of(client, token, import_id)
        if view is not None:
            if view["state"] == state:
                return view
            if view["state"] == "failed":
                break
        await asyncio.sleep(0.05)
    logs = "\n".join(f"--- {name}:\n{system.processes[name].logs()[-3000:]}" for name in ("data_import", "notebook"))
    raise AssertionError(f"not {state} after {timeout_s}s: {view}\n{logs}")


async def beneficiaries_in_database(url: str) -> tuple[int, int, int]:
    """Rows, distinct SI ids, and rows recorded as applied, read in the notebook's own database."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            total = await connection.scalar(text("SELECT count(*) FROM beneficiary"))
            distinct = await connection.scalar(text("SELECT count(DISTINCT external_id) FROM beneficiary"))
            applied = await connection.scalar(text("SELECT count(*) FROM import_applied"))
    finally:
        await engine.dispose()
    return total, distinct, applied


async def kill_once_applying(notebook_url: str, process) -> int:
    """SIGKILLs ``process`` as soon as some rows, not all, are recorded applied in the notebook's database;
    returns how many were."""
    engine = create_engine(notebook_url)
    try:
        async with engine.connect() as connection:
            while True:
                applied = await connection.scalar(text("SELECT count(*) FROM import_applied"))
                await connection.commit()  # a fresh snapshot each time
                if applied:
                    break
                await asyncio.sleep(0.002)
    finally:
        await engine.dispose()
    process.signal(signal.SIGKILL)
    await asyncio.to_thread(process.process.wait, 10)
    return applied


# The import's timings scaled down, the same mechanisms: a restarted import service takes the import over once the
# dead one's lease has run out (30 s by default), and a batch sent to a notebook killed with it in hand is sent
# again once its call times out (60 s): the test waited for both, more than for the rows.
@pytest.mark.service_env(data_import={"DATA_IMPORT_LEASE_S": "6", "DATA_IMPORT_RESUME_EVERY_S": "1",
                                      "DATA_IMPORT_OWNER_TIMEOUT_S": "15", "DATA_IMPORT_RETRY_MAX_S": "2"})
@pytest.mark.parametrize("victim", ["data_import", "notebook"])
async def test_an_import_killed_while_applying_completes_every_row_exactly_once(system, forkserver, victim):
    async with system.client() as client:
        client.timeout = httpx.Timeout(30)
        token = await manager_of_a_new_territory(system, client)
        answer = await client.post("/api/v1/imports/beneficiaries", headers=bearer(token),
                                   files={"file": (f"beneficiaires-{ROWS}.csv", beneficiaries_file(ROWS), "text/csv")})
        assert answer.status_code == 202, answer.text
        import_id = answer.json()["import_id"]
        reviewed = await wait_state(system, client, token, import_id, "review", 180)
        assert reviewed["rows_total"] == ROWS and reviewed["review"]["new"] == ROWS, reviewed

        # Killed in the middle: as soon as the notebook's database holds a first applied batch, and not all of
        # them (watched there directly: through the gateway, a poll takes longer than applying the rows).
        process = system.processes[victim]
        killed_pid = process.process.pid
        watcher = asyncio.create_task(kill_once_applying(system.database_urls["notebook"], process))
        applying = await client.post(f"/api/v1/imports/{import_id}/apply", headers=bearer(token),
                                     json={"exclude_rows": []})
        assert applying.status_code == 202, applying.text
        rows_at_kill = await asyncio.wait_for(watcher, 120)
        assert 0 < rows_at_kill < ROWS, f"not killed in the middle: {rows_at_kill} rows applied"
        await asyncio.sleep(1)  # the import stalls while its victim is down
        # Started again as the system started it: same environment, same database.
        await asyncio.to_thread(forkserver.start, process, 60)
        assert process.process.pid != killed_pid

        done = await wait_state(system, client, token, import_id, "done", 240)
        assert done["rows_done"] == ROWS, done
        assert done["counts"]["created"] == ROWS and done["counts"]["rejected"] == 0, done
        assert sum(done["counts"].values()) == ROWS, done
        total, distinct, applied = await beneficiaries_in_database(system.database_urls["notebook"])
        assert (total, distinct, applied) == (ROWS, ROWS, ROWS)
        # The report lists every row once.
        report = await client.get(f"/api/v1/imports/{import_id}/report.csv", headers=bearer(token))
        assert report.status_code == 200
        assert report.content.decode("utf-8-sig").count("\n") in (ROWS + 1, ROWS + 2)

