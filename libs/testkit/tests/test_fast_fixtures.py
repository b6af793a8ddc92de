"""The test kit's shortcuts keep what tests rely on: a database copied from a template is migrated and a world of
its own; a process forked from the fork server runs with its own environment and log, and stops, dies and
reports its status as a child started by ``subprocess`` does."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import urllib.request

import pytest
from sqlalchemy import text

from servicekit.db import create_engine
from servicekit.processes import ServiceProcess, free_port
from servicekit.topology import SERVICES_BY_NAME
from testkit.forkserver import ForkServer

pytestmark = pytest.mark.integration


async def test_databases_from_one_template_are_migrated_and_apart(databases, database_templates):
    migrations = SERVICES_BY_NAME["notify"].migrations_dir
    first, second = [await databases.create("notify", migrations) for _ in range(2)]
    assert first != second
    # Both made from notify's one template on this backend (other tests of the session may have made other
    # services' templates before: counting every template of the backend failed when they ran first).
    assert (databases.backend, migrations.resolve()) in database_templates._templates
    engines = [create_engine(url) for url in (first, second)]
    try:
        async with engines[0].begin() as connection:
            version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
            await connection.execute(text("UPDATE alembic_version SET version_num = 'changed'"))
        async with engines[1].connect() as connection:
            assert (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one() == version
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.fixture
def probe_module(tmp_path, monkeypatch):
    """A module that serves its environment on a port, as a service's health port would."""
    (tmp_path / "envprobe.py").write_text(textwrap.dedent("""
        import http.server, json, os, sys
        print("probe starting", flush=True)
        if os.environ.get("PROBE_EXIT"):
            sys.exit(int(os.environ["PROBE_EXIT"]))

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps(dict(os.environ)).encode()
                self.send_response(200)
                self.end_headers()
                self.wfile.write(body)

        http.server.HTTPServer(("127.0.0.1", int(os.environ["PROBE_PORT"])), Handler).serve_forever()
    """))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # before the fork server starts: its children share its path
    return "envprobe"


def probe(module: str, tmp_path, name: str, **env: str) -> ServiceProcess:
    port = free_port()
    return ServiceProcess(name, module, {"PROBE_PORT": str(port), **env}, f"http://127.0.0.1:{port}/", tmp_path)


def test_a_forked_process_has_its_environment_log_signals_and_exit_status(probe_module, tmp_path):
    server = ForkServer([], tmp_path / "forkserver.log")
    try:
        one = server.start(probe(probe_module, tmp_path, "one", PROBE_NAME="un"))
        two = server.start(probe(probe_module, tmp_path, "two", PROBE_NAME="deux"))
        seen = [json.loads(urllib.request.urlopen(p.health_url, timeout=5).read()) for p in (one, two)]
        assert [s["PROBE_NAME"] for s in seen] == ["un", "deux"]
        assert one.process.pid != two.process.pid
        assert "probe starting" in one.logs() and "probe starting" not in (tmp_path / "forkserver.log").read_text()

        one.stop(5)
        assert one.process.returncode == -signal.SIGTERM and two.running
        two.kill()
        assert two.process.returncode == -signal.SIGKILL

        failing = server.start(probe(probe_module, tmp_path, "failing", PROBE_EXIT="3"), wait=False)
        assert failing.process.wait(10) == 3
        with pytest.raises(RuntimeError, match="exited with 3"):
            server.start(probe(probe_module, tmp_path, "failing2", PROBE_EXIT="3"))
    finally:
        server.stop()


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG")
def test_forked_processes_die_with_the_fork_server(probe_module, tmp_path):
    server = ForkServer([], tmp_path / "forkserver.log")
    orphan = server.start(probe(probe_module, tmp_path, "orphan"))
    server.process.kill()
    server.process.wait()
    assert orphan.process.wait(10) == -signal.SIGKILL


@pytest.mark.parametrize("service", ["notebook", "gateway"])
def test_the_fork_server_loads_what_a_service_runs_before_any_fork(service):
    """Each test's system forks its processes from one that imported their code: a ``__main__.py`` that only
    imports its entry point (servicekit.entry) must still have its service loaded there, not in every child."""
    probe = textwrap.dedent(f"""
        import sys
        from testkit.forkserver import preimport
        preimport({service!r})
        print(sorted(name for name in sys.modules if name.startswith({service!r} + ".")))
    """)
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert f"'{service}.main'" in loaded if service == "gateway" else f"'{service}.bootstrap'" in loaded
