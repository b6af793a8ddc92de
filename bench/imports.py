"""A generated beneficiaries file imported end to end on PostgreSQL (issue 15, item 8; target ≥ 10,000 rows/s):
upload through the gateway → parsed and reviewed → applied → the notebook's events consumed → the last row
searchable. Real processes: NATS, identity, directory, notebook, the import service, notify and the gateway.

Baseline in the same run, on the same PostgreSQL server: ``COPY`` of the same file into a plain table of the same
columns. The RSS of every process (services, gateway, nats-server, this script) is sampled during the run, to show
memory stays flat however many rows.

    .venv/bin/python bench/imports.py [--rows N]      (default 100,000; DATABASE_ADMIN_URL required)

Results: bench/results/imports-postgresql.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from benchkit import RESULTS, cpu_s, cpu_spent
from sqlalchemy import text

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_TERRITORY
from contracts.directory import SeedDemoTerritoryV1
from contracts.identity import Role, SeedDemoAccountsV1
from servicekit.bus import client_bus
from servicekit.db import create_engine
from servicekit.streams import ensure_streams
from servicekit.topology import SERVICES_BY_NAME
from testkit.harness import ServiceProcess, gateway_process, service_process, stop_all
from testkit.infra import DatabaseFactory, NatsServer, bundled_nats_server
from testkit.system import RunningSystem, bearer, sign_in

SERVICES = ("identity", "directory", "notebook", "data_import", "notify")
TARGET_ROWS_PER_S = 10_000
POLL_S = 0.2
# Common French first names and surnames (INSEE's most given): combined with a birth date, distinct people.
FIRSTNAMES = ("Marie Jean Pierre Michel Nathalie Isabelle Sylvie Catherine Philippe Françoise Alain Nicolas Christophe "
              "Stéphane Sandrine Céline Frédéric Laurent Valérie Sébastien Julien David Aurélie Émilie Camille Léa "
              "Manon Chloé Inès Sarah Lucas Hugo Théo Mathis Nathan Enzo Louis Gabriel Jules Raphaël Zoé Anaïs Noël "
              "Hélène Jérôme Éloïse Maëlle Océane Benoît Agnès Gaëlle Cécile Loïc Yannick Karim Fatima Mohamed Aïcha "
              "Yasmine Mehdi").split()
LASTNAMES = ("Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefèvre Leroy Roux "
             "David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent Muller Lefèbvre "
             "Faure André Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand Gauthier Garcia Perrin "
             "Robin Clément Morin Nicolas Henry Roussel Mathieu Gautier Masson Marchand Duval Denis Dumont Marie "
             "Lemaire Noël Meyer Dufour Meunier Brun Blanchard Giraud Joly Rivière Lucas Brunet Gaillard Barbier "
             "Arnaud Martinez Gérard Roche Renard Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert "
             "Lemoine Renaud Dumas Lacroix Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet Rolland "
             "Leclercq Guillaume Lecomte López Jean Dupuy Guillot Hubert Berger Carpentier Sánchez Dupuis Moulin "
             "Louis Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein Jacquet Adam Paris Poirier Marty Aubry "
             "Guyot Carré Charles Renault Charpentier Ménard Maillard Baron Bertin Bailly Hervé Schneider Fernandez "
             "Le Gall Collet Léger Bouvier Julien Prévost Millet Perrot Daniel Le Roux Cousin Germain Breton Besson "
             "Langlois Rémy Le Goff Pelletier Lévêque Perrier Leblanc Barré Lebrun Marchal Weber Mallet Hamon "
             "Boulanger Jacob Monnier Michaud Rodriguez Guichard Gillet Étienne Grondin Poulain Tessier Chevallier "
             "Collin Chauvin Da Silva Bouchet Gay Lemaître Bénard Maréchal Humbert Reynaud Antoine Hoarau Perret "
             "Barthélemy Cordier Pichon Lejeune Gilbert Lamy Delaunay Pasquier Carlier Laporte Çelik Diallo Nguyen "
             "Benali Traoré Tifour").split()
CITIES = [("93190", "Livry-Gargan"), ("93000", "Bobigny"), ("93500", "Pantin"), ("93140", "Bondy"),
          ("93270", "Sevran"), ("93200", "Saint-Denis"), ("93100", "Montreuil"), ("93600", "Aulnay-sous-Bois")]
SITUATIONS = ["recherche_emploi", "cdi_temps_partiel", "formation", "au_foyer", "iae"]
RIGHTS = ["rsa_droit_ouvert_versable", "rsa_droit_ouvert_et_suspendu", "rsa_droit_ouvert_versement_suspendu"]
HEADER = ["Identifiant dans le SI*", "Prénom*", "Nom*", "Date de naissance*", "NIR", "Lieu de naissance",
          "Téléphone", "Email", "Adresse", "Code postal", "Ville", "Situation", "Numéro allocataire CAF/MSA",
          "Droits RSA", "Droits ARE", "Droits ASS", "Prime d'activité", "RQTH", "Niveau de formation"]


def nir(n: int, born: date) -> str:
    """A NIR with its key: sex, year, month, département 93, a commune and an order number that make it unique."""
    body = f"{1 + n % 2}{born.year % 100:02d}{born.month:02d}93{n // 1000 % 1000:03d}{n % 1000:03d}"
    return body + f"{97 - int(body) % 97:02d}"


def person(n: int) -> list[str]:
    firstname = FIRSTNAMES[n % len(FIRSTNAMES)]
    lastname = LASTNAMES[n // len(FIRSTNAMES) % len(LASTNAMES)]
    # (first name, surname) pairs repeat every len(FIRSTNAMES) × len(LASTNAMES) rows; the birth date moves then.
    born = date(1960, 1, 1) + timedelta(days=n // (len(FIRSTNAMES) * len(LASTNAMES)) * 37 + n % 29)
    postal_code, city = CITIES[n % len(CITIES)]
    login = unicodedata.normalize("NFKD", f"{firstname}.{lastname}".lower().replace(" ", "-"))
    return [f"SI{n:07d}", firstname, lastname, born.strftime("%d/%m/%Y"), nir(n, born), city,
            f"06 {n // 1_000_000 % 100:02d} {n // 10_000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}",
            f"{login.encode('ascii', 'ignore').decode()}{n}@exemple.fr", f"{1 + n % 180} rue de la République",
            postal_code, city, SITUATIONS[n % len(SITUATIONS)], f"{n:07d}", RIGHTS[n % len(RIGHTS)],
            "Oui" if n % 3 == 0 else "Non", "Non", "Oui" if n % 4 == 0 else "", "", "NV4"]


def write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        file.write(";".join(HEADER) + "\r\n")
        for n in range(rows):
            file.write(";".join(person(n)) + "\r\n")


class RssSampler:
    """VmRSS of each process every ``interval_s``, from /proc: first sample and maximum, in MiB."""

    def __init__(self, pids: dict[str, int], interval_s: float = 0.25) -> None:
        self.pids, self.interval_s = pids, interval_s
        self.first: dict[str, float] = {}
        self.max: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss_mib(pid: int) -> float | None:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except (FileNotFoundError, ProcessLookupError):
            return None
        return None

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                if (value := self.rss_mib(pid)) is not None:
                    self.first.setdefault(name, value)
                    self.max[name] = max(self.max.get(name, 0), value)
                    self.last[name] = value
            self._stop.wait(self.interval_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def result(self) -> dict:
        return {name: {"start_mib": round(self.first[name], 1), "max_mib": round(self.max[name], 1),
                       "end_mib": round(self.last[name], 1)} for name in self.first}


def cpu_by_phase(marks: list[tuple[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """CPU seconds of each process between consecutive marks."""
    return {phase: {name: round(seconds, 2) for name, seconds in cpu_spent(before, after).items()}
            for (_, before), (phase, after) in zip(marks, marks[1:])}


async def multipart(path: Path, boundary: str):
    """The file as a multipart body, read a chunk at a time (as a browser sends it)."""
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
           "Content-Type: text/csv\r\n\r\n").encode()
    with path.open("rb") as file:
        while chunk := file.read(256 * 1024):
            yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


async def wait_state(client: httpx.AsyncClient, h: dict, import_id: str, state: str, timeout_s: float,
                     renew: Callable[[], Awaitable[dict]]) -> dict:
    """Polls the import until ``state``; ``h`` (the headers) renewed in place when the access token expires."""
    deadline = time.perf_counter() + timeout_s
    while True:
        answer = await client.get(f"/api/v1/imports/{import_id}", headers=h)
        if answer.status_code == 401:
            h.update(await renew())
            continue
        view = answer.json()
        if view["state"] == state:
            return view
        if view["state"] == "failed" or time.perf_counter() > deadline:
            raise RuntimeError(f"import not {state}: {view}")
        # Five looks a second, as the page's progress bar: each costs the gateway and the import service a request
        # (a token checked, a query), which at twenty a second took a tenth of the import service's CPU.
        await asyncio.sleep(POLL_S)


async def events_consumed(nats_url: str, notebook_url: str, timeout_s: float, backlog: list[dict]) -> None:
    """The notebook's outbox relayed whole and every consumer of the NOTEBOOK stream caught up; ``backlog``
    gets a sample a second (unpublished outbox rows, pending messages per consumer) to show who lags."""
    engine = create_engine(notebook_url)
    started = time.perf_counter()
    deadline, sampled = started + timeout_s, 0.0
    try:
        async with client_bus("bench", nats_url) as bus:
            js = bus.stream_context
            while True:
                async with engine.connect() as connection:
                    unpublished = await connection.scalar(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
                consumers = await js.consumers_info("NOTEBOOK")
                pending = {c.name: (c.num_pending or 0) + (c.num_ack_pending or 0) for c in consumers}
                now = time.perf_counter() - started
                if now - sampled >= 1 or not backlog:
                    backlog.append({"at_s": round(now, 1), "outbox_unpublished": unpublished,
                                    "pending": {k: v for k, v in pending.items() if v}})
                    sampled = now
                if unpublished == 0 and not any(pending.values()):
                    return
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"events not consumed: {unpublished} unpublished, pending {pending}")
                # Twice a second: each look asks NATS about every consumer and counts the outbox, which at ten a
                # second cost this script more CPU than some services spent consuming.
                await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


async def copy_baseline(admin_url: str, factory: DatabaseFactory, path: Path) -> float:
    """Seconds for PostgreSQL's COPY of the same file into a plain table of the same columns."""
    url = await factory.create("copy_baseline")
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
        await connection.execute(f"CREATE TABLE beneficiary_copy ({columns})")
        started = time.perf_counter()
        with path.open("rb") as file:
            await connection.copy_to_table("beneficiary_copy", source=file, format="csv", delimiter=";",
                                           header=True, encoding="utf-8")
        elapsed = time.perf_counter() - started
        assert await connection.fetchval("SELECT count(*) FROM beneficiary_copy") > 0
        return elapsed
    finally:
        await connection.close()


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


async def measure(rows: int, folder: Path, admin_url: str, events_timeout_s: float) -> dict:
    path = folder / f"beneficiaires-{rows}.csv"
    write_file(path, rows)
    nats_server = NatsServer(bundled_nats_server()).start()
    factory = DatabaseFactory("postgresql", folder, admin_url)
    processes: list[ServiceProcess] = []
    try:
        async with client_bus("bench", nats_server.url) as bus:
            await ensure_streams(bus.stream_context)
        common = {"NATS_URL": nats_server.url, "CARNET_ENV": "dev", "CARNET_VAR_DIR": str(folder / "var"),
                  "CARNET_LOG_LEVEL": "warning"}
        gateway = gateway_process(common, folder)
        urls = {}
        for name in SERVICES:
            urls[name] = await factory.create(name, SERVICES_BY_NAME[name].migrations_dir)
            processes.append(service_process(name, common, urls[name], folder,
                                             {"CARNET_PUBLIC_URL": gateway.base_url}).start(60))
        processes.append(gateway.start(60))
        manager = next(a for a in DEMO_ACCOUNTS if a.role == Role.manager)
        async with client_bus("bench", nats_server.url) as bus:
            await bus.call(SeedDemoAccountsV1(accounts=[manager], deployments=DEMO_DEPLOYMENTS))
            await bus.call(SeedDemoTerritoryV1(
                deployment_id=DEMO_TERRITORY.deployment_id, label=DEMO_TERRITORY.label, department_code="93",
                people=[p for p in DEMO_TERRITORY.people if p.role == "manager"]))
        system = RunningSystem(gateway.base_url, nats_server.url, folder / "spans.jsonl", folder)
        pids = {p.name: p.process.pid for p in processes} | {"nats-server": nats_server.process.pid,
                                                              "bench": os.getpid()}
        async with system.client() as client:
            client.timeout = httpx.Timeout(120)

            async def renew() -> dict:
                return bearer(await sign_in(system, client, manager.email))

            h = await renew()
            backlog: list[dict] = []
            with RssSampler(pids) as rss:
                boundary = "bench-imports"
                marks = [("start", cpu_s(pids, postgres=True))]
                started = time.perf_counter()
                answer = await client.post("/api/v1/imports/beneficiaries", content=multipart(path, boundary),
                                           headers={**h, "Content-Type": f"multipart/form-data; boundary={boundary}"})
                assert answer.status_code == 202, answer.text
                uploaded = time.perf_counter()
                import_id = answer.json()["import_id"]
                review = await wait_state(client, h, import_id, "review", 3600, renew)
                reviewed = time.perf_counter()
                marks.append(("upload_parse_review", cpu_s(pids, postgres=True)))
                assert review["review"]["new"] == rows, review
                applying = await client.post(f"/api/v1/imports/{import_id}/apply", headers=h, json={"exclude_rows": []})
                assert applying.status_code == 202, applying.text
                done = await wait_state(client, h, import_id, "done", 3600, renew)
                applied = time.perf_counter()
                marks.append(("apply", cpu_s(pids, postgres=True)))
                assert done["counts"]["created"] == rows, done
                try:
                    await events_consumed(nats_server.url, urls["notebook"], events_timeout_s, backlog)
                    events_complete = True
                except RuntimeError as error:  # the figures so far are still worth writing, with the backlog left
                    print(f"imports: {error}", file=sys.stderr)
                    events_complete = False
                consumed = time.perf_counter()
                marks.append(("events_consumed", cpu_s(pids, postgres=True)))
                last = person(rows - 1)
                # The access token may have expired during a long run (15 min): a new one, as the pages would.
                h = await renew()
                while True:
                    answer = await client.get("/api/v1/notebooks", headers=h, params={"q": last[4]})
                    assert answer.status_code == 200, answer.text
                    found = answer.json()
                    if [(n["firstname"], n["lastname"]) for n in found["notebooks"]] == [(last[1], last[2])]:
                        break
                    assert time.perf_counter() - consumed < 60, found
                    await asyncio.sleep(0.05)
                searchable = time.perf_counter()
        copy_s = await copy_baseline(admin_url, factory, path)
    finally:
        stop_all(processes, 10)
        await factory.drop_all()
        nats_server.stop()

    def rate(seconds: float) -> float:
        return round(rows / seconds, 1) if seconds > 0 else 0.0

    overall_s = searchable - started
    return {
        "backend": "postgresql", "rows": rows, "file_mib": round(path.stat().st_size / 2**20, 1),
        "phases_s": {"upload": round(uploaded - started, 2), "parse_and_review": round(reviewed - uploaded, 2),
                     "apply": round(applied - reviewed, 2), "events_consumed": round(consumed - applied, 2),
                     "searchable": round(searchable - consumed, 2), "overall": round(overall_s, 2)},
        "events_complete": events_complete,
        "rows_per_s": {"upload_parse_review": rate(reviewed - started), "apply": rate(applied - reviewed),
                       "apply_and_events": rate(consumed - reviewed), "overall": rate(overall_s)},
        "import_service_rows_per_s": done.get("rows_per_s"),
        "baseline_copy": {"seconds": round(copy_s, 2), "rows_per_s": rate(copy_s)},
        "times_copy": round(overall_s / copy_s, 1),
        "target_rows_per_s": TARGET_ROWS_PER_S, "meets_target": events_complete and rows / overall_s >= TARGET_ROWS_PER_S,
        "rss_mib": rss.result(),
        # CPU seconds of each process in each phase: what each costs, whatever else the machine was running.
        "cpu_s": cpu_by_phase(marks),
        "load_average_at_end": os.getloadavg()[0],
        # Every 10th sample: enough to see which consumer lags, and how fast it catches up.
        "events_backlog": backlog[::10] + backlog[-1:],
        "machine": platform.platform(), "cpus": os.cpu_count(), "python": sys.version.split()[0], "commit": commit(),
        "measured_at": datetime.now(UTC).isoformat(),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--events-timeout", type=float, default=3600,
                        help="seconds to wait for the notebook's events to be consumed before writing what was measured")
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_ADMIN_URL")
    if not admin_url:
        # As the other benchmarks skip PostgreSQL without it; this one measures PostgreSQL only.
        print("imports: skipped, PostgreSQL only (set DATABASE_ADMIN_URL, e.g. postgresql://postgres@127.0.0.1/postgres)")
        return
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        result = await measure(args.rows, Path(folder), admin_url, args.events_timeout)
    name = "imports-postgresql.json" if args.rows == 100_000 else f"imports-postgresql-{args.rows}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    rss = result["rss_mib"]
    memory = ", ".join(f"{name} {v['start_mib']}→{v['max_mib']}" for name, v in rss.items())
    print(f"imports postgresql: {args.rows} rows, overall {result['rows_per_s']['overall']} rows/s "
          f"(target {TARGET_ROWS_PER_S}), apply {result['rows_per_s']['apply']} rows/s, "
          f"COPY baseline {result['baseline_copy']['rows_per_s']} rows/s; "
          f"RSS max {max(v['max_mib'] for v in rss.values())} MiB "
          f"({memory})")


if __name__ == "__main__":
    asyncio.run(main())
