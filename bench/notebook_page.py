"""The notebook page through the whole system (DESIGN §6: 32 concurrent requests, p99 < 50 ms, throughput at
least 0.7 × a single-process FastAPI + SQLAlchemy baseline reading the same rows).

Real processes: NATS, identity, notebook, notify and the gateway; a manager reads a notebook carrying a filled
diagnostic, a long history and an access log. The baseline (bench/page_baseline.py) reads the same rows from
the same database. SQLite always; PostgreSQL too when DATABASE_ADMIN_URL is set. Results:
bench/results/notebook-page-<backend>.json.
"""
from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from benchkit import RESULTS, timed_ms

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS
from contracts.identity import Role, SeedDemoAccountsV1

from servicekit.bus import client_bus
from servicekit.streams import ensure_streams
from servicekit.topology import SERVICES_BY_NAME
from testkit.harness import gateway_process, service_process
from testkit.infra import DatabaseFactory, NatsServer, bundled_nats_server, free_port, wait_for_port
from testkit.system import RunningSystem, bearer, sign_in

CONCURRENCY, REQUESTS, WARM_UP = 32, 1_000, 50
NOTEBOOK = DEMO_NOTEBOOKS.beneficiaries[0].notebook_id


async def load(url: str, headers: dict, concurrency: int = CONCURRENCY, requests: int = REQUESTS) -> dict:
    """``requests`` GETs of ``url`` by ``concurrency`` clients at once: latencies and throughput."""
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
        for _ in range(WARM_UP):
            assert (await client.get(url, headers=headers)).status_code == 200
        samples, queue = [], iter(range(requests))

        async def worker():
            for _ in queue:
                started = time.perf_counter()
                answer = await client.get(url, headers=headers)
                samples.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, answer.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ordered = sorted(samples)
    return {**timed_ms(samples), "p99_ms": round(ordered[int(len(ordered) * 0.99)], 2),
            "requests_per_s": round(requests / elapsed, 1)}


async def fill(system: RunningSystem, client: httpx.AsyncClient, token: str) -> None:
    """A notebook as it looks after months: diagnostic with situations and projects, 60 history entries."""
    h = bearer(token)
    referentials = (await client.get("/api/v1/referentials", headers=h)).json()
    page = (await client.get(f"/api/v1/notebooks/{NOTEBOOK}", headers=h)).json()
    diagnostic = {"work_situation": "recherche_emploi", "situation_ids": [s["id"] for s in
                                                                          referentials["situations"][:8]],
                  "projects": [{"rome_code": c["label"], "mobility_radius_km": 20} for c in (await client.get(
                      "/api/v1/rome-codes", headers=h, params={"q": "agent"})).json()["codes"][:3]]}
    assert (await client.put(f"/api/v1/notebooks/{NOTEBOOK}/diagnostic", headers=h, json={
        "version": page["diagnostic"]["version"], "diagnostic": diagnostic})).status_code == 200
    for index in range(60):
        page = (await client.get(f"/api/v1/notebooks/{NOTEBOOK}", headers=h)).json()
        fields = {**page["beneficiary"], "city": f"Ville {index}"}
        assert (await client.put(f"/api/v1/notebooks/{NOTEBOOK}/beneficiary", headers=h, json={
            "version": fields["version"], "beneficiary": fields})).status_code == 200


async def measure(backend: str, folder: Path) -> dict:
    nats_server = NatsServer(bundled_nats_server()).start()
    factory = DatabaseFactory(backend, folder, os.environ.get("DATABASE_ADMIN_URL"))
    processes = []
    try:
        async with client_bus("bench", nats_server.url) as bus:
            await ensure_streams(bus.stream_context)
        common = {"NATS_URL": nats_server.url, "CARNET_ENV": "dev", "CARNET_VAR_DIR": str(folder / "var"),
                  "CARNET_LOG_LEVEL": "warning"}
        gateway = gateway_process(common, folder)
        urls = {}
        for name in ("identity", "notebook", "notify"):
            urls[name] = await factory.create(name, SERVICES_BY_NAME[name].migrations_dir)
            processes.append(service_process(name, common, urls[name], folder,
                                             {"CARNET_PUBLIC_URL": gateway.base_url}).start())
        processes.append(gateway.start())
        manager = next(a for a in DEMO_ACCOUNTS if a.role == Role.manager)
        async with client_bus("bench", nats_server.url) as bus:
            await bus.call(SeedDemoAccountsV1(accounts=[manager], deployments=DEMO_DEPLOYMENTS))
            await bus.call(DEMO_NOTEBOOKS)
        system = RunningSystem(gateway.base_url, nats_server.url, folder / "spans.jsonl", folder)
        async with system.client() as client:
            token = await sign_in(system, client, manager.email)
            await fill(system, client, token)
        page_url = f"{gateway.base_url}/api/v1/notebooks/{NOTEBOOK}"
        through_system = await load(page_url, bearer(token))
        one_at_a_time = await load(page_url, bearer(token), concurrency=1, requests=200)

        port = free_port()
        baseline = subprocess.Popen([sys.executable, str(Path(__file__).parent / "page_baseline.py"),
                                     urls["notebook"], str(port)])
        try:
            wait_for_port(port, 30)
            direct = await load(f"http://127.0.0.1:{port}/notebooks/{NOTEBOOK}", {})
            direct_one_at_a_time = await load(f"http://127.0.0.1:{port}/notebooks/{NOTEBOOK}", {}, 1, 200)
        finally:
            baseline.terminate()
            baseline.wait(10)
    finally:
        for process in processes:
            process.stop()
        await factory.drop_all()
        nats_server.stop()
    return {"backend": backend, "concurrency": CONCURRENCY, "requests": REQUESTS,
            "budget": {"p99_ms": 50, "throughput_ratio": 0.7}, "through_gateway_and_bus": through_system,
            "baseline_fastapi_sqlalchemy": direct, "one_request_at_a_time": one_at_a_time,
            "baseline_one_request_at_a_time": direct_one_at_a_time,
            "throughput_ratio": round(through_system["requests_per_s"] / direct["requests_per_s"], 2),
            "machine": platform.platform(), "cpus": os.cpu_count(), "measured_at": datetime.now(UTC).isoformat()}


async def main() -> None:
    import json

    RESULTS.mkdir(exist_ok=True)
    for backend in ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_ADMIN_URL") else []):
        with tempfile.TemporaryDirectory() as folder:
            result = await measure(backend, Path(folder))
        (RESULTS / f"notebook-page-{backend}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"notebook page {backend}: p99 {result['through_gateway_and_bus']['p99_ms']} ms at {CONCURRENCY} "
              f"concurrent (budget 50), {result['one_request_at_a_time']['p99_ms']} ms one at a time "
              f"(baseline {result['baseline_one_request_at_a_time']['p99_ms']} ms), "
              f"{result['through_gateway_and_bus']['requests_per_s']} req/s vs baseline "
              f"{result['baseline_fastapi_sqlalchemy']['requests_per_s']} req/s (ratio {result['throughput_ratio']}, "
              f"budget 0.7)")


if __name__ == "__main__":
    asyncio.run(main())
