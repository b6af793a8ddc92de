"""What every benchmark shares: timing runs, and running a measure on each database backend."""
from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from servicekit.topology import SERVICES_BY_NAME
from testkit.infra import DatabaseFactory

RESULTS = Path(__file__).parent / "results"


def cpu_s(pids: dict[str, int], *, postgres: bool = False) -> dict[str, float]:
    """CPU seconds (user + system) each process has used so far, from /proc: the machine may be shared, so the
    wall-clock rates alone would not say who costs what. With ``postgres``, each PostgreSQL process of the machine
    too, as "postgresql/<pid>" (its server runs a process per connection; ``cpu_spent`` adds them up)."""
    ticks = os.sysconf("SC_CLK_TCK")

    def used(pid) -> tuple[str, float] | None:
        try:
            command, fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
        except (FileNotFoundError, ProcessLookupError):
            return None
        fields = fields.split()
        return command.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    seconds = {name: found[1] for name, pid in pids.items() if (found := used(pid))}
    if postgres:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (found := used(entry.name)) and found[0] == "postgres":
                seconds[f"postgresql/{entry.name}"] = found[1]
    return seconds


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds of each process between two ``cpu_s``: a process started meanwhile counts whole, one ended
    meanwhile is left out (a PostgreSQL connection closed); PostgreSQL's processes added up as "postgresql"."""
    spent: dict[str, float] = {}
    for name, seconds in after.items():
        key = name.split("/", 1)[0]
        spent[key] = spent.get(key, 0) + seconds - before.get(name, 0)
    return spent


def timed_ms(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(len(samples) * 0.95)], 2),
            "max_ms": round(samples[-1], 2), "runs": len(samples)}


async def run(make_call: Callable[[], Awaitable], runs: int) -> list[float]:
    """Milliseconds of each of ``runs`` calls, after one warm-up (keys, connections, statement caches)."""
    await make_call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await make_call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def on_each_backend(name: str, service: str, measure: Callable[[str, str], Awaitable[dict]]) -> list[dict]:
    """``measure(backend, url)`` on a fresh migrated database of ``service``: SQLite always, PostgreSQL when
    DATABASE_ADMIN_URL is set; each result is written to results/<name>-<backend>.json."""
    RESULTS.mkdir(exist_ok=True)
    results = []
    for backend in ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_ADMIN_URL") else []):
        with tempfile.TemporaryDirectory() as folder:
            factory = DatabaseFactory(backend, Path(folder), os.environ.get("DATABASE_ADMIN_URL"))
            try:
                url = await factory.create(service, SERVICES_BY_NAME[service].migrations_dir)
                result = await measure(backend, url)
            finally:
                await factory.drop_all()
        (RESULTS / f"{name}-{backend}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        results.append(result)
    return results
