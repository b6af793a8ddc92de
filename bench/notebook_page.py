"""The notebook page through the whole system (issue 19 item 1): throughput at least 2 × a single-process FastAPI +
SQLAlchemy baseline reading the same rows, for the JSON and the HTML page, and p99 < 50 ms at a fixed arrival rate
of 100 pages/s.

Real processes: NATS, identity, directory, notebook, notify and the gateway; a manager reads a notebook carrying a
filled diagnostic, a long history and an access log. The baseline (bench/page_baseline.py) reads the same rows
from the same database. Two loads, both on ours and on the baseline:

- closed loop: 32 clients, each sending its next request when the previous one is answered (throughput);
- open loop: requests start on a fixed schedule (100 a second) whatever the previous ones took, and each latency
  counts from its scheduled start, so that a server falling behind shows its queue in the figures (a closed loop
  hides it: slow answers slow the clients down).

The requests are sent by ``lean_http`` (not httpx, which spent a fifth to a quarter of all the CPU a page cost, on
the two cores the system measured shares), and the baseline runs once the system's processes are stopped: alone on
the machine, as the system was.
The HTML page is compared with the JSON baseline, which renders nothing: a stricter ratio than a like-for-like one.
SQLite always; PostgreSQL too when DATABASE_ADMIN_URL is set. ``BENCH_REQUESTS`` for fewer requests. Results:
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
from benchkit import RESULTS, cpu_s, cpu_spent, timed_ms
from lean_http import HTTP_ERRORS, LeanClient

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY
from contracts.identity import Role, SeedDemoAccountsV1

from servicekit.bus import client_bus
from servicekit.processes import stop_all
from servicekit.streams import ensure_streams
from servicekit.topology import SERVICES_BY_NAME
from testkit.harness import gateway_process, service_process
from testkit.infra import DatabaseFactory, NatsServer, bundled_nats_server, free_port, wait_for_port
from testkit.system import RunningSystem, bearer, sign_in

CONCURRENCY, WARM_UP = 32, 50
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 1_000))
RATE = 100  # pages a second, open loop
BUDGET = {"open_loop_p99_ms": 50, "throughput_ratio": 2.0}
NOTEBOOK = DEMO_NOTEBOOKS.beneficiaries[0].notebook_id


async def warm_up(client: LeanClient) -> None:
    """Connections, caches and statement caches warmed; most answers must be pages (a loaded machine times a few
    out), else the measure would time refusals."""
    answers = [await client.get() for _ in range(WARM_UP)]
    assert sum(a.status_code == 200 for a in answers) > WARM_UP // 2, answers[-1].text


async def load(url: str, headers: dict, concurrency: int = CONCURRENCY, requests: int = REQUESTS) -> dict:
    """``requests`` GETs of ``url`` by ``concurrency`` clients at once: latencies and throughput."""
    async with LeanClient(url, headers, timeout_s=30) as client:  # as many connections as clients
        await warm_up(client)
        samples, queue, failures = [], iter(range(requests)), []

        async def worker():
            for _ in queue:
                started = time.perf_counter()
                try:
                    answer = await client.get()
                except HTTP_ERRORS as error:  # counted, not fatal, as a refusal below
                    failures.append(repr(error))
                else:
                    if answer.status_code != 200:  # counted, not fatal: a loaded machine times some out (5 s)
                        failures.append(answer.text[:200])
                samples.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ordered = sorted(samples)
    return {**timed_ms(samples), "p99_ms": round(ordered[int(len(ordered) * 0.99)], 2),
            # Pages answered, refusals and timeouts left out: a request timed out at 5 s is no page served.
            "requests_per_s": round((requests - len(failures)) / elapsed, 1), "failures": len(failures)}


async def costed(pids: dict[str, int], postgres: bool, measuring) -> dict:
    """A load's figures, with the CPU each process spent a page (ms, user + system, from /proc): more telling than
    the rates on a shared machine, and it says where a page's time goes."""
    before = cpu_s(pids, postgres=postgres)
    figures = await measuring
    after = cpu_s(pids, postgres=postgres)
    pages = figures["runs"] + WARM_UP  # the load's warm-up requests too
    spent = {name: round(seconds * 1000 / pages, 2) for name, seconds in cpu_spent(before, after).items()}
    return {**figures, "cpu_ms_per_page": {**spent, "total": round(sum(spent.values()), 2)}}


async def open_loop(url: str, headers: dict, rate: int = RATE, requests: int = REQUESTS) -> dict:
    """``requests`` GETs of ``url`` started ``rate`` a second on a fixed schedule, whatever the previous ones took;
    each latency is counted from its scheduled start (a late start is part of the wait)."""
    async with LeanClient(url, headers, timeout_s=60) as client:  # a connection for each request in flight
        await warm_up(client)
        samples: list[float] = []
        failures = 0

        async def one(scheduled: float) -> None:
            nonlocal failures
            try:
                answer = await client.get()
                failures += answer.status_code != 200
            except HTTP_ERRORS:
                failures += 1
            samples.append((time.perf_counter() - scheduled) * 1000)

        tasks, started = [], time.perf_counter()
        for index in range(requests):
            scheduled = started + index / rate
            if (wait := scheduled - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    ordered = sorted(samples)
    return {**timed_ms(samples), "p99_ms": round(ordered[int(len(ordered) * 0.99)], 2), "rate_per_s": rate,
            "answered_per_s": round((requests - failures) / elapsed, 1), "failures": failures}


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
        for name in ("identity", "directory", "notebook", "notify"):
            urls[name] = await factory.create(name, SERVICES_BY_NAME[name].migrations_dir)
            processes.append(service_process(name, common, urls[name], folder,
                                             {"CARNET_PUBLIC_URL": gateway.base_url}).start(60))
        processes.append(gateway.start(60))
        manager = next(a for a in DEMO_ACCOUNTS if a.role == Role.manager)
        async with client_bus("bench", nats_server.url) as bus:
            await bus.call(SeedDemoAccountsV1(accounts=[manager], deployments=DEMO_DEPLOYMENTS))
            await bus.call(DEMO_TERRITORY)  # the orientation form of a manager's page lists its structures
            await bus.call(DEMO_NOTEBOOKS)
        system = RunningSystem(gateway.base_url, nats_server.url, folder / "spans.jsonl", folder)
        async with system.client() as client:
            token = await sign_in(system, client, manager.email)
            await fill(system, client, token)
        page_url = f"{gateway.base_url}/api/v1/notebooks/{NOTEBOOK}"
        html_url, cookie = f"{gateway.base_url}/carnets/{NOTEBOOK}", {"Cookie": f"carnet_session={token}"}
        postgres = backend == "postgresql"
        pids = {p.name: p.process.pid for p in processes} | {"nats-server": nats_server.process.pid,
                                                              "bench": os.getpid()}
        through_system = await costed(pids, postgres, load(page_url, bearer(token)))
        html = await costed(pids, postgres, load(html_url, cookie))
        one_at_a_time = await load(page_url, bearer(token), concurrency=1, requests=200)
        html_one_at_a_time = await load(html_url, cookie, concurrency=1, requests=200)
        system_open_loop = await open_loop(page_url, bearer(token))
        html_open_loop = await open_loop(html_url, cookie)
        # The baseline alone on the machine: the services' connections (30 kept by each after a load) would
        # otherwise leave it short of PostgreSQL's (100 by default), and their housekeeping would share its core.
        stop_all(processes, 10)

        port = free_port()
        baseline = subprocess.Popen([sys.executable, str(Path(__file__).parent / "page_baseline.py"),
                                     urls["notebook"], str(port)])
        try:
            wait_for_port(port, 120)  # a loaded machine starts it slowly
            direct = await costed({"baseline": baseline.pid, "bench": os.getpid()}, postgres,
                                  load(f"http://127.0.0.1:{port}/notebooks/{NOTEBOOK}", {}))
            direct_one_at_a_time = await load(f"http://127.0.0.1:{port}/notebooks/{NOTEBOOK}", {}, 1, 200)
            direct_open_loop = await open_loop(f"http://127.0.0.1:{port}/notebooks/{NOTEBOOK}", {})
        finally:
            baseline.terminate()
            baseline.wait(10)
    finally:
        for process in processes:
            process.stop()
        await factory.drop_all()
        nats_server.stop()
    return {"backend": backend, "concurrency": CONCURRENCY, "requests": REQUESTS, "budget": BUDGET,
            "through_gateway_and_bus": through_system, "html_page": html,
            "baseline_fastapi_sqlalchemy": direct, "one_request_at_a_time": one_at_a_time,
            "html_one_request_at_a_time": html_one_at_a_time,
            "baseline_one_request_at_a_time": direct_one_at_a_time,
            "open_loop": system_open_loop, "html_open_loop": html_open_loop, "baseline_open_loop": direct_open_loop,
            "throughput_ratio": round(through_system["requests_per_s"] / direct["requests_per_s"], 2),
            "html_throughput_ratio": round(html["requests_per_s"] / direct["requests_per_s"], 2),
            "machine": platform.platform(), "cpus": os.cpu_count(), "measured_at": datetime.now(UTC).isoformat()}


async def main() -> None:
    import json

    RESULTS.mkdir(exist_ok=True)
    for backend in ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_ADMIN_URL") else []):
        with tempfile.TemporaryDirectory() as folder:
            result = await measure(backend, Path(folder))
        (RESULTS / f"notebook-page-{backend}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"notebook page {backend}: JSON {result['through_gateway_and_bus']['requests_per_s']} pages/s, HTML "
              f"{result['html_page']['requests_per_s']} pages/s at {CONCURRENCY} clients vs baseline "
              f"{result['baseline_fastapi_sqlalchemy']['requests_per_s']} (ratios {result['throughput_ratio']} and "
              f"{result['html_throughput_ratio']}, budget 2); at {RATE} pages/s open loop p99 JSON "
              f"{result['open_loop']['p99_ms']} ms, HTML {result['html_open_loop']['p99_ms']} ms, baseline "
              f"{result['baseline_open_loop']['p99_ms']} ms (budget 50); one at a time p50 JSON "
              f"{result['one_request_at_a_time']['p50_ms']} ms, HTML {result['html_one_request_at_a_time']['p50_ms']} "
              f"ms, baseline {result['baseline_one_request_at_a_time']['p50_ms']} ms")


if __name__ == "__main__":
    asyncio.run(main())
