"""Running the system's processes: a service, the gateway or nats-server as a child process, and the
supervisor of ``carnet up`` that restarts one that died and stops them all on one signal.

The test kit starts its processes with the same classes (``testkit.harness`` re-exports them)."""
from __future__ import annotations

import ctypes
import functools
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from servicekit.topology import SERVICES_BY_NAME

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port free now, for a process about to start. Taken below the kernel's ephemeral range, where every
    outgoing connection gets its local port: a port from ``bind(0)`` is in that range, and a connection opened
    before the process binds it may take it (CI saw « address already in use »). Never the same twice here."""
    low, high = _ports_for_listeners()
    for _ in range(200):
        port = random.randrange(low, high)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    with socket.socket() as sock:  # that range is full: the kernel's choice
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@functools.cache
def _ports_for_listeners() -> tuple[int, int]:
    try:
        ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_start = 32768  # Linux's default; other systems start higher
    return max(1024, ephemeral_start - 12000), max(1025, ephemeral_start)


def bundled_nats_server() -> str | None:
    beside_python = Path(sys.executable).parent / "nats-server"
    return str(beside_python) if beside_python.exists() else shutil.which("nats-server")


# Looked up once, at import, before any fork: a child between fork and exec only calls it.
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def die_with_parent(parent: int) -> None:
    """Run in a child before anything else: the kernel kills it when its parent dies, even by SIGKILL; nothing
    else would stop it then. Linux only: elsewhere the children of a killed parent stay. The parent may have died
    between the fork and this call, hence the check."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)


def _dies_with_this_process() -> Callable[[], None] | None:
    """``die_with_parent`` for a child of ``subprocess``. PR_SET_PDEATHSIG fires when the *thread* that forked the
    child ends, so it is only asked from the main thread, whose end is the process's; a child started from another
    thread (a test's worker thread) relies on ``stop`` alone."""
    if _PRCTL is None or threading.current_thread() is not threading.main_thread():
        return None
    return functools.partial(die_with_parent, os.getpid())


class ServiceProcess:
    """One child process (``python -m <module>`` unless ``argv`` says otherwise), ready when ``health_url``
    answers 200; its output is appended to ``<log_dir>/<name>.log``. It runs in a process group of its own, so
    a Ctrl-C in the terminal reaches the supervisor only (which stops everything in order), and ``stop`` reaches
    whatever the child started."""

    def __init__(self, name: str, module: str, env: dict[str, str], health_url: str, log_dir: Path,
                 argv: Sequence[str] | None = None) -> None:
        self.name = name
        self.module = module
        self.env = env
        self.health_url = health_url
        self.log_path = log_dir / f"{name}.log"
        self.argv = list(argv) if argv else [sys.executable, "-m", module]
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 30, wait: bool = True) -> ServiceProcess:
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(self.argv, env={**os.environ, **self.env}, stdout=log, stderr=log,
                                            start_new_session=True, preexec_fn=_dies_with_this_process())
        if wait:
            self.wait_ready(timeout_s)
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ready(self, timeout_s: float = 1) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=timeout_s) as answer:
                return answer.status == 200
        except OSError:  # refused while starting, or 503 (HTTPError) while not ready
            return False

    def wait_ready(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.logs()}")
            if self.ready():
                return
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout_s}s:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""

    def signal(self, signum: int) -> None:
        """Sends ``signum`` to the child's whole process group (the group outlives a leader that already
        exited but was not yet waited for, so it is asked while the child is not reaped)."""
        if self.running:
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                pass

    def stop(self, timeout_s: float = 10) -> None:
        stop_all([self], timeout_s)

    def kill(self) -> None:
        if self.running:
            self.signal(signal.SIGKILL)
            self.process.wait()


def stop_all(processes: Sequence[ServiceProcess], grace_s: float, say: Callable[[str], None] | None = None) -> None:
    """SIGTERM to every process at once, then SIGKILL to those still running after ``grace_s``: a process that
    ignores SIGTERM, or hangs on a dead NATS while shutting down, never outlives the grace period."""
    for process in processes:
        process.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for process in processes:
        if process.process is None:
            continue
        try:
            process.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for process in processes:
        if process.running and say:
            say(f"{process.name} ne s'est pas arrêté en {_seconds(grace_s)} s : arrêt forcé")
        process.kill()


def replica_name(name: str, replica: int | None) -> str:
    """``notebook`` alone, ``notebook-1``, ``notebook-2``… in replicas (the name of its log file too)."""
    return name if replica is None else f"{name}-{replica}"


def service_process(name: str, common_env: dict[str, str], database_url: str, log_dir: Path,
                    extra_env: dict[str, str] | None = None, replica: int | None = None) -> ServiceProcess:
    """One process of a service; replicas of it share its database and its NATS user (queue group and durable
    consumers spread the work), each with its own health port and log."""
    info = SERVICES_BY_NAME[name]
    port = free_port()
    env = {**common_env, f"{info.env_prefix}_DATABASE_URL": database_url, f"{info.env_prefix}_HEALTH_PORT": str(port),
           **(extra_env or {})}
    return ServiceProcess(replica_name(name, replica), info.package, env, f"http://127.0.0.1:{port}/readyz", log_dir)


def gateway_process(common_env: dict[str, str], log_dir: Path, port: int | None = None,
                    extra_env: dict[str, str] | None = None, replica: int | None = None) -> ServiceProcess:
    """The gateway on ``port``. Replicas (``replica`` set) all listen on the same port with SO_REUSEPORT: the
    kernel spreads the connections over them, one URL for the user, and a replica that dies stops receiving any."""
    port = port or free_port()
    health_port = free_port()  # /metrics is there, like the services', never on the public port
    env = {**common_env, "CARNET_PORT": str(port), "CARNET_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "GATEWAY_HEALTH_PORT": str(health_port), **({"GATEWAY_REUSE_PORT": "1"} if replica is not None else {}),
           **(extra_env or {})}
    # Readiness on its own health port: on the shared public port, any replica could answer for another.
    health_url = f"http://127.0.0.1:{health_port if replica is not None else port}/healthz"
    process = ServiceProcess(replica_name("gateway", replica), "gateway", env, health_url, log_dir)
    process.base_url = f"http://127.0.0.1:{port}"
    process.health_base_url = f"http://127.0.0.1:{health_port}"
    return process


def _seconds(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _exit_status(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"code {returncode}"


@dataclass
class _Watched:
    process: ServiceProcess
    started_at: float
    delay_s: float
    restart_at: float | None = None
    awaiting_ready: bool = False


class Supervisor:
    """Keeps processes running: one that dies is started again after a delay that doubles from
    ``first_delay_s`` up to ``max_delay_s`` while it keeps dying, and comes back to ``first_delay_s`` once it
    stayed up ``stable_after_s``; the others are left alone. ``stop`` stops the groups in the reverse order of
    ``watch`` (the services before the nats-server they drain into), each SIGTERM then SIGKILL.

    Everything runs on the calling thread, which should be the main one: see ``_dies_with_this_process``."""

    def __init__(self, say: Callable[[str], None], first_delay_s: float = 0.5, max_delay_s: float = 30,
                 stable_after_s: float = 30) -> None:
        self.say = say
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.stable_after_s = stable_after_s
        self.groups: list[list[_Watched]] = []
        self.stop_asked = threading.Event()

    def watch(self, *processes: ServiceProcess) -> None:
        """Supervises these processes, started or about to be (so that a signal in between stops them too),
        as one group."""
        now = time.monotonic()
        self.groups.append([_Watched(process, now, self.first_delay_s) for process in processes])

    def stop_on_signals(self) -> None:
        """SIGINT (Ctrl-C) and SIGTERM (make, systemd, `timeout`) both stop everything: they raise
        KeyboardInterrupt at once and, because Python ignores what a handler raises where it happens to run in a
        finalizer or in subprocess's at-fork hooks (CI lost a Ctrl-C so while services were starting), also leave
        ``stop_asked``, which ``run`` and ``raise_if_stopping`` check. A second signal while stopping is ignored,
        so it cannot cut the stop short and orphan a process (the stop is bounded anyway). Main thread only."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_stop_signal)

    def _on_stop_signal(self, *_) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        self.stop_asked.set()
        raise KeyboardInterrupt

    def raise_if_stopping(self) -> None:
        """KeyboardInterrupt if a stop signal came, even one whose own interrupt was lost."""
        if self.stop_asked.is_set():
            raise KeyboardInterrupt

    def run(self, poll_s: float = 0.2) -> None:
        """Supervises until interrupted (KeyboardInterrupt, which ``stop_on_signals`` raises)."""
        while True:
            self.raise_if_stopping()
            self.check()
            time.sleep(poll_s)

    def check(self) -> None:
        now = time.monotonic()
        for watched in (watched for group in self.groups for watched in group):
            process = watched.process
            if watched.restart_at is None and not process.running:
                if now - watched.started_at >= self.stable_after_s:
                    watched.delay_s = self.first_delay_s
                watched.restart_at = now + watched.delay_s
                self.say(f"{process.name} s'est arrêté ({_exit_status(process.process.returncode)}), "
                         f"redémarrage dans {_seconds(watched.delay_s)} s (journal : {process.log_path})")
                watched.delay_s = min(watched.delay_s * 2, self.max_delay_s)
            elif watched.restart_at is not None and now >= watched.restart_at:
                process.start(wait=False)
                watched.started_at, watched.restart_at, watched.awaiting_ready = now, None, True
            elif watched.awaiting_ready and process.running and process.ready(timeout_s=0.2):
                watched.awaiting_ready = False
                self.say(f"{process.name} redémarré")

    def stop(self, grace_s: float = 6, last_grace_s: float = 2) -> None:
        """Stops the last group watched first, with ``grace_s`` before SIGKILL, then each earlier one with
        ``last_grace_s``: about 8 s at most with the defaults."""
        for index, group in enumerate(reversed(self.groups)):
            stop_all([watched.process for watched in group], grace_s if index == 0 else last_grace_s, self.say)
