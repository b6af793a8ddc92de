"""Service processes forked from one process that has already imported their code.

Importing a service (FastAPI, SQLAlchemy, FastStream, OpenTelemetry, pydantic...) costs about 3.5 s of CPU, and an
end-to-end system is five such processes: on a 2-core machine that is most of a test's set-up once the databases
come from templates. The fork server imports every service's code once per session; each process a test starts is
then a ``fork`` of it, running ``python -m <module>`` as a fresh interpreter would, with the test's environment and
log file, in a session of its own (so ``ServiceProcess.signal`` and ``stop`` reach it as they reach a child started
by ``subprocess``). The fork server never starts a thread or an event loop: its children inherit none.

Protocol on the server's stdin/stdout: one JSON line per request ``{"module", "env", "log", "exit"}``, answered by
one line ``{"pid"}``; when a child ends, its exit status is written to the file ``exit`` (the server reaps it).
"""
from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
import json
import os
import runpy
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from servicekit.entry import load
from servicekit.processes import ServiceProcess, die_with_parent


class ForkedProcess:
    """What ``ServiceProcess`` needs of a ``subprocess.Popen`` for a process that is the fork server's child:
    its pid, ``poll`` and ``wait`` (the exit status comes from the file the server writes when it reaps it)."""

    def __init__(self, pid: int, exit_file: Path) -> None:
        self.pid = pid
        self.exit_file = exit_file
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._status()
        if self.returncode is None and not self._exists():
            time.sleep(0.2)  # reaped by the server, whose status may be on its way to the file
            # ...or the server died first, and the kernel killed its children (PDEATHSIG).
            self.returncode = self._status() if self._status() is not None else -signal.SIGKILL
        return self.returncode

    def _status(self) -> int | None:
        text = self.exit_file.read_text().strip() if self.exit_file.exists() else ""
        return int(text) if text else None

    def _exists(self) -> bool:
        try:
            os.kill(self.pid, 0)  # an exited child not yet reaped by the server still exists
        except ProcessLookupError:
            return False
        return True

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired([self.pid], timeout)
            time.sleep(0.02)
        return self.returncode


class ForkServer:
    """The pytest side: starts the server, asks it for processes."""

    def __init__(self, modules: list[str], log_path: Path) -> None:
        self.log_path = log_path
        # Its own session: a Ctrl-C in the terminal reaches pytest, which stops the server.
        with log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "testkit.forkserver", *modules],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                            start_new_session=True)
        self._lock = threading.Lock()  # systems may be started from worker threads

    def start(self, process: ServiceProcess, timeout_s: float = 30, wait: bool = True) -> ServiceProcess:
        """``process.start(timeout_s, wait)``, forked from this server: the same process, seconds sooner."""
        process.process = self.spawn(process.module, {**os.environ, **process.env}, process.log_path)
        if wait:
            process.wait_ready(timeout_s)
        return process

    def spawn(self, module: str, env: dict[str, str], log_path: Path) -> ForkedProcess:
        exit_file = log_path.with_name(f"{log_path.name}.{time.monotonic_ns()}.exit")
        request = {"module": module, "env": env, "log": str(log_path), "exit": str(exit_file)}
        with self._lock:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server ended (status {self.process.poll()}) before starting {module}:\n"
                               + self.log_path.read_text(errors="replace")[-6000:])
        return ForkedProcess(json.loads(line)["pid"], exit_file)

    def stop(self) -> None:
        self.process.stdin.close()  # the server exits on end of input; its children die with it (PDEATHSIG)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# What a service imports at its first request (a token, a protected field, a phone number, PostgreSQL), or at start
# on a setting every test system gives (its trace file), and never at start in production
# (tests/unit/test_idle_imports.py): imported here once, instead of by each process of each test.
LOADED_LATER = ("jwt", "cryptography.fernet", "phonenumbers", "httpx", "jinja2", "aiosqlite", "asyncpg",
                "sqlalchemy.dialects.sqlite.aiosqlite", "sqlalchemy.dialects.postgresql.asyncpg",
                "servicekit.trace_export", "opentelemetry.instrumentation.sqlalchemy",
                "opentelemetry.instrumentation.fastapi")


def preimport(module: str) -> None:
    """Loads what ``python -m <module>`` runs, without running it: its ``__main__.py`` is one call,
    ``run("notebook.bootstrap")`` (servicekit.entry), whose module is imported here as ``run`` would. uvicorn is let
    in for every service: the gateway serves with it, and a child shares what this process imported anyway."""
    spec = importlib.util.find_spec(f"{module}.__main__")
    (call,) = [node.value for node in ast.parse(Path(spec.origin).read_text()).body
               if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]
    load(ast.literal_eval(call.args[0]), http_server=True)


def run_child(module: str, env: dict[str, str], log: str, parent: int) -> None:
    """In the forked child: become ``python -m <module>`` with ``env``, writing to ``log``; never returns."""
    code = 1
    try:
        os.setsid()
        die_with_parent(parent)
        log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null_fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null_fd, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        os.close(null_fd)
        os.environ.clear()
        os.environ.update(env)
        sys.argv = [module]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exit_:  # as the interpreter does: an int is the status, anything else is printed
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if exit_.code is not None and not isinstance(exit_.code, int):
            print(exit_.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001  (reported in the log, as the interpreter would)
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def reap(exit_files: dict[int, str]) -> None:
    while exit_files:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if path := exit_files.pop(pid, None):
            Path(path).write_text(str(os.waitstatus_to_exitcode(status)))


def serve(modules: list[str]) -> None:
    for module in modules:
        preimport(module)
    for module in LOADED_LATER:
        importlib.import_module(module)
    # What is here now, the children share and never collect: frozen, the full pass each child makes once it has
    # started (servicekit.startup) walks its own objects only, not the hundreds of thousands it inherits.
    gc.collect()
    gc.freeze()
    parent = os.getpid()
    exit_files: dict[int, str] = {}
    commands = sys.stdin.buffer
    while True:
        readable, _, _ = select.select([commands], [], [], 0.05)
        reap(exit_files)
        if not readable:
            continue
        line = commands.readline()
        if not line:
            return
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            run_child(request["module"], request["env"], request["log"], parent)
        exit_files[pid] = request["exit"]
        sys.stdout.write(json.dumps({"pid": pid}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve(sys.argv[1:])
