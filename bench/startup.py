"""`make run` from a clean state, and each process's idle memory (DESIGN §6: first `make run` < 45 s, idle service
RSS < 90 MB; issue 19 item 4).

Runs `carnet up` (what `make run` runs once the venv exists) twice on a fresh var/ folder in a temporary directory:
- the first start, timed from the command to « Carnet de bord tourne » (migrations of fresh databases, NATS and its
  streams, every service and the gateway, the demo seed), with the time of each phase from the console's lines;
- the second start on the same folder, the baseline: nothing left to migrate or seed, only processes to start.
After each start the processes are left idle ``IDLE_S`` seconds, then the resident memory (VmRSS) of each is read.
The budget is the second start's (a service started and idle); the first's, just after the seed wrote 300 people,
is shown beside it. A bare Python process importing the stack (FastStream, SQLAlchemy, pydantic) is the memory
baseline. Results: results/startup.json.
"""
from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from servicekit.processes import free_port
from servicekit.topology import SERVICES

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
CARNET = Path(sys.executable).parent / "carnet"
IDLE_S = 10
START_BUDGET_S = 45
RSS_BUDGET_MB = 90
STACK = ("import asyncio, faststream.nats, sqlalchemy.ext.asyncio, pydantic, structlog, uvicorn\n"
         "print('ready', flush=True)\nimport time; time.sleep(600)")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        kilobytes = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return round(kilobytes / 1024, 1)


def shared_mb(pid: int) -> dict[str, float]:
    """PSS (each shared page divided among the processes mapping it) and private memory: RSS counts in full, in each
    process, the pages of the libraries and bytecode that all of them share."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            name, _, rest = line.partition(":")
            if name in ("Pss", "Private_Clean", "Private_Dirty"):
                fields[name] = int(rest.split()[0])
    return {"pss_mb": round(fields["Pss"] / 1024, 1),
            "private_mb": round((fields["Private_Clean"] + fields["Private_Dirty"]) / 1024, 1)}


def children(pid: int) -> dict[str, int]:
    """The processes ``carnet up`` started, by name: the package after ``-m``, or the executable's name."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and argv and argv[0]:
            args = [arg.decode() for arg in argv if arg]
            name = args[args.index("-m") + 1] if "-m" in args else Path(args[0]).name
            found[name if name not in found else f"{name}-{entry.name}"] = int(entry.name)
    return found


def start(var_dir: Path, port: int) -> dict:
    """One `carnet up`: seconds to each phase and to ready, then each process's RSS after ``IDLE_S`` idle."""
    env = {**os.environ, "CARNET_VAR_DIR": str(var_dir), "CARNET_PORT": str(port), "CARNET_ENV": "dev"}
    started = time.monotonic()
    process = subprocess.Popen([str(CARNET), "up"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    phases, lines = {}, []
    try:
        for line in process.stdout:
            at = round(time.monotonic() - started, 2)
            lines.append(f"{at:7.2f} {line.rstrip()}")
            if "base de données" in line:
                phases["migrated_s"] = at
            elif line.strip().endswith("prêt"):
                phases.setdefault("first_process_ready_s", at)
                phases["processes_ready_s"] = at
            elif "démo" in line:
                phases["seeded_s"] = at
            elif "Carnet de bord tourne" in line:
                phases["ready_s"] = at
                break
        else:
            raise RuntimeError("carnet up stopped before ready:\n" + "\n".join(lines))
        time.sleep(IDLE_S)
        running = sorted(children(process.pid).items())
        memory = {name: rss_mb(pid) for name, pid in running}
        shared = {name: shared_mb(pid) for name, pid in running}
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return {**phases, "rss_mb": memory, "pss_and_private_mb": shared, "console": lines}


def stack_baseline() -> float:
    process = subprocess.Popen([sys.executable, "-c", STACK], stdout=subprocess.PIPE, text=True)
    try:
        process.stdout.readline()
        return rss_mb(process.pid)
    finally:
        process.kill()
        process.wait()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        var_dir = Path(folder) / "var"
        first = start(var_dir, free_port())
        second = start(var_dir, free_port())
    packages = {service.package for service in SERVICES} | {"gateway"}
    services = {name: mb for name, mb in second["rss_mb"].items() if name in packages}
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_1min": round(os.getloadavg()[0], 2)},
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(),
        "first_start_s": first["ready_s"], "first_start_budget_s": START_BUDGET_S,
        "first_start_within_budget": first["ready_s"] < START_BUDGET_S,
        "baseline_second_start_s": second["ready_s"],
        "idle_rss_mb": services, "idle_rss_budget_mb": RSS_BUDGET_MB,
        "idle_rss_within_budget": all(mb < RSS_BUDGET_MB for mb in services.values()),
        "baseline_stack_rss_mb": stack_baseline(),
        "first_start": first, "second_start": second,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"first `make run` (clean var/): {first['ready_s']} s (budget {START_BUDGET_S} s) — migrated at "
          f"{first.get('migrated_s')} s, processes ready at {first.get('processes_ready_s')} s, seeded at "
          f"{first.get('seeded_s')} s; second start (baseline): {second['ready_s']} s")
    for name, mb in services.items():
        mark = "ok" if mb < RSS_BUDGET_MB else "OVER"
        print(f"  idle RSS {name:<12} {mb:6.1f} MB (after the first start's seed: "
              f"{first['rss_mb'].get(name, float('nan')):6.1f} MB)  budget {RSS_BUDGET_MB} MB  {mark}  "
              f"[PSS {second['pss_and_private_mb'][name]['pss_mb']} MB, "
              f"private {second['pss_and_private_mb'][name]['private_mb']} MB]")
    print(f"  baseline: a bare process importing FastStream, SQLAlchemy, pydantic: {result['baseline_stack_rss_mb']} MB")


if __name__ == "__main__":
    main()
