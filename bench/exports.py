"""Exports of the beneficiaries' list (issue 18 item 5): 10,000 and 100,000 rows of the pilotage read model written
as CSV and XLSX by the export worker's own code (``handlers.exports.claim`` and ``run``: keyset batches of the read
model, lines written into a temporary file, progress every 5,000 rows), the object store left out (the file is read
through once instead). Reported: rows per second and the process's peak resident memory above where it started
(sampled every 20 ms), which stays flat from 10,000 to 100,000 rows.

Baseline in the same run: the same rows read whole into a list, then written with the standard csv module: its
memory grows with the rows. BENCH_EXPORT_ROWS sets the larger count (fewer for a quick look). SQLite always;
PostgreSQL too when DATABASE_ADMIN_URL is set. Results: bench/results/exports-<backend>.json.
"""
from __future__ import annotations

import asyncio
import ctypes
import csv
import gc
import os
import platform
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchkit import on_each_backend
from sqlalchemy import insert, text

from contracts.pilotage import BeneficiaryFilters
from notebook.adapters import export_files
from notebook.adapters import pilotage_query as pq
from notebook.adapters.orm import ExportJob, PilotageNotebook, StructureRead
from notebook.config import NotebookSettings
from notebook.domain.export_lists import beneficiary_line, sheet_of
from notebook.domain.protection import FieldProtection
from notebook.handlers import exports
from notebook.handlers.deps import Deps
from contracts.pilotage import ExportList
from servicekit.auth import TokenVerifier
from servicekit.db import create_engine, sessionmaker
from servicekit.outbox import Outbox

LARGE = int(os.environ.get("BENCH_EXPORT_ROWS", "100000"))
SMALL = max(LARGE // 10, 1)
FIRSTNAMES = ["Élodie", "Pierre", "Sophie", "Jérôme", "Anaïs", "Karim", "Hélène", "Noël", "Zoé", "Inès"]
LASTNAMES = ["Dupré", "Tifour", "Gonzalez", "Benali", "Nguyen", "Moreau", "Gauthier", "Bœuf", "Périer", "Diallo"]


try:
    TRIM = ctypes.CDLL("libc.so.6").malloc_trim  # glibc: give freed heap pages back
except OSError:
    TRIM = None


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """The process's peak resident memory above its level at the start, sampled while the measured code runs."""

    def __init__(self) -> None:
        self.start = self.peak = 0

    async def __aenter__(self) -> PeakMemory:
        # What earlier runs freed goes back to the system first, so that growth shows rather than reuse.
        gc.collect()
        if TRIM is not None:
            TRIM(0)
        self.start = self.peak = rss_bytes()
        self.task = asyncio.create_task(self.sample())
        return self

    async def sample(self) -> None:
        while True:
            self.peak = max(self.peak, rss_bytes())
            await asyncio.sleep(0.02)

    async def __aexit__(self, *_exc) -> None:
        self.peak = max(self.peak, rss_bytes())
        self.task.cancel()

    @property
    def mib(self) -> float:
        return round((self.peak - self.start) / 1024 ** 2, 1)


async def seed(deps: Deps, deployment_id: uuid.UUID, count: int) -> None:
    rng = random.Random(26)
    now = datetime.now(UTC)
    structures = [uuid.uuid4() for _ in range(20)]
    async with deps.sessions.begin() as session:
        await session.execute(insert(StructureRead), [
            dict(id=s, deployment_id=deployment_id, name=f"Structure {n}", occurred_at=now)
            for n, s in enumerate(structures)])
    for start in range(0, count, 10_000):
        rows = [dict(
            notebook_id=uuid.uuid4(), deployment_id=deployment_id, lastname=f"{rng.choice(LASTNAMES)}{n}",
            firstname=rng.choice(FIRSTNAMES), date_of_birth=date(1960 + n % 40, 1 + n % 12, 1 + n % 28),
            structure_id=rng.choice(structures), support=rng.choice(["accompanied", "waiting", "not_accompanied"]),
            rsa_right="rsa_droit_ouvert_versable", subject_to_right_and_duty=n % 3 == 0,
            cer_state=rng.choice(["none", "draft", "signed", "ended"]), cer_end_date=date(2027, 1 + n % 12, 1),
            last_activity_at=now - timedelta(days=n % 300), created_at=now - timedelta(days=n % 900),
            origin="import", themes="|emploi|logement|", refreshed_at=now)
            for n in range(start, min(start + 10_000, count))]
        async with deps.sessions.begin() as session:
            await session.execute(insert(PilotageNotebook), rows)
    async with deps.sessions.begin() as session:
        await session.execute(text("ANALYZE"))


async def by_the_worker(deps: Deps, deployment_id: uuid.UUID, file_format: str, limit: int) -> dict:
    """One export job of ``limit`` rows (the territory's first ones by name: a created_from filter would do the
    same), run by the worker's code."""
    async with deps.sessions.begin() as session:
        job = ExportJob(id=uuid.uuid4(), deployment_id=deployment_id, requested_by=uuid.uuid4(), role="manager",
                        structure_ids=[], list_name="beneficiaries", format=file_format, filters={}, label="bench",
                        state="queued", rows_done=0, filename=f"bench.{file_format}", requested_at=datetime.now(UTC))
        session.add(job)
    original = pq.iterate

    async def first_rows(*args, **kwargs):  # the worker's iteration, stopped after ``limit`` rows
        n = 0
        async for fact in original(*args, **kwargs):
            if n == limit:
                return
            n += 1
            yield fact

    sizes = {}

    async def store_file(_deps, _name: str, path: Path) -> None:
        sizes["bytes"] = await export_files.drain(export_files.file_chunks(path))

    exports.pq.iterate, exports.store_file = first_rows, store_file
    try:
        started = time.perf_counter()
        async with PeakMemory() as memory:
            claimed = await exports.claim(deps, job.id)
            await exports.run(deps, claimed)
        elapsed = time.perf_counter() - started
    finally:
        exports.pq.iterate = original
    async with deps.sessions() as session:
        done = await session.get(ExportJob, job.id)
    assert done.state == "done", done.error
    return {"format": file_format, "rows": done.rows_done, "seconds": round(elapsed, 2),
            "rows_per_s": round(done.rows_done / elapsed), "peak_rss_mib": memory.mib,
            "file_mib": round(sizes["bytes"] / 1024 ** 2, 1)}


async def baseline(deps: Deps, deployment_id: uuid.UUID, limit: int) -> dict:
    """The naive way: every row read into a list, then written with csv."""
    scope = pq.PilotageScope(deployment_id=deployment_id)
    started = time.perf_counter()
    async with PeakMemory() as memory:
        async with deps.sessions() as session:
            facts = await pq.page(session, BeneficiaryFilters(), scope, 0, limit)
        sheet = sheet_of(ExportList.beneficiaries)
        with tempfile.TemporaryDirectory() as folder, open(Path(folder) / "b.csv", "w", encoding="utf-8-sig",
                                                           newline="") as file:
            writer = csv.writer(file, delimiter=";")
            writer.writerow([c.header for c in sheet.columns])
            writer.writerows([export_files.csv_cell(v, c.kind) for v, c in zip(beneficiary_line(f, {}),
                                                                                  sheet.columns)] for f in facts)
    elapsed = time.perf_counter() - started
    return {"format": "csv (list in memory)", "rows": len(facts), "seconds": round(elapsed, 2),
            "rows_per_s": round(len(facts) / elapsed), "peak_rss_mib": memory.mib}


async def measure(backend: str, url: str) -> dict:
    engine = create_engine(url)
    settings = NotebookSettings()

    async def jwks():
        return []

    deps = Deps(sessions=sessionmaker(engine), outbox=Outbox(), settings=settings, verifier=TokenVerifier(jwks),
                protection=FieldProtection(settings.secret_key.get_secret_value().encode()))
    deployment_id = uuid.uuid4()
    started = time.perf_counter()
    await seed(deps, deployment_id, LARGE)
    seeded_s = time.perf_counter() - started
    runs = []
    for file_format in ("csv", "xlsx"):
        for rows in (SMALL, LARGE):
            runs.append(await by_the_worker(deps, deployment_id, file_format, rows))
            print(backend, runs[-1], flush=True)
    baselines = []
    for rows in (SMALL, LARGE):  # last: the list it holds leaves the process bigger
        baselines.append(await baseline(deps, deployment_id, rows))
        print(backend, "baseline", baselines[-1], flush=True)
    await engine.dispose()
    return {"benchmark": "exports", "backend": backend, "python": platform.python_version(),
            "seeded_rows": LARGE, "seed_s": round(seeded_s, 1), "worker": runs, "baseline": baselines,
            "flat_memory": {f: {"small_mib": next(r["peak_rss_mib"] for r in runs if r["format"] == f
                                                  and r["rows"] == SMALL),
                                "large_mib": next(r["peak_rss_mib"] for r in runs if r["format"] == f
                                                  and r["rows"] == LARGE)} for f in ("csv", "xlsx")}}


if __name__ == "__main__":
    asyncio.run(on_each_backend("exports", "notebook", measure))
