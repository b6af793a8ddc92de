"""The supervisor's rules on real, tiny child processes: restart delays that double up to a ceiling and come
back down once a process stayed up; a stop that never waits more than its grace period, whatever the child does
with SIGTERM, and that reaches what the child started."""
from __future__ import annotations

import os
import re
import signal
import socket
import sys
import time

import pytest

from servicekit.processes import ServiceProcess, Supervisor, free_port, stop_all

pytestmark = [pytest.mark.integration, pytest.mark.faults,
              pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")]

NOWHERE = "http://127.0.0.1:9/"  # never ready: these children serve nothing


def child(tmp_path, name: str, code: str) -> ServiceProcess:
    return ServiceProcess(name, "", {}, NOWHERE, tmp_path, argv=[sys.executable, "-c", code])


def delays_said(said: list[str]) -> list[str]:
    return [re.search(r"redémarrage dans ([\d,]+) s", line).group(1) for line in said]


def supervise(supervisor: Supervisor, said: list[str], until_said: int) -> None:
    deadline = time.monotonic() + 30
    while len(said) < until_said:
        assert time.monotonic() < deadline, said
        supervisor.check()
        time.sleep(0.01)


def test_a_process_that_keeps_dying_waits_longer_each_time_up_to_the_ceiling(tmp_path):
    said: list[str] = []
    supervisor = Supervisor(said.append, first_delay_s=0.05, max_delay_s=0.2, stable_after_s=30)
    supervisor.watch(child(tmp_path, "crashy", "raise SystemExit(3)").start(wait=False))
    supervise(supervisor, said, until_said=4)
    assert delays_said(said) == ["0,05", "0,1", "0,2", "0,2"]
    assert said[0].startswith("crashy s'est arrêté (code 3), redémarrage dans 0,05 s (journal : ")
    supervisor.stop()


def test_the_delay_comes_back_to_the_first_once_the_process_stayed_up(tmp_path):
    said: list[str] = []
    supervisor = Supervisor(said.append, first_delay_s=0.05, max_delay_s=1, stable_after_s=0.3)
    supervisor.watch(child(tmp_path, "steady", "import time; time.sleep(0.4)").start(wait=False))
    supervise(supervisor, said, until_said=3)
    assert delays_said(said) == ["0,05", "0,05", "0,05"]
    supervisor.stop()


def test_stop_kills_what_ignores_sigterm_after_the_grace_period_and_reaches_grandchildren(tmp_path):
    grandchild_pid = tmp_path / "grandchild.pid"
    stubborn = child(tmp_path, "stubborn", "import signal, subprocess, sys, time;"
                     "signal.signal(signal.SIGTERM, signal.SIG_IGN);"
                     f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
                     f"open({str(grandchild_pid)!r}, 'w').write(str(p.pid));"
                     "time.sleep(60)").start(wait=False)
    polite = child(tmp_path, "polite", "import time; time.sleep(60)").start(wait=False)
    while not grandchild_pid.exists() or not grandchild_pid.read_text():
        time.sleep(0.01)
    said: list[str] = []
    started = time.monotonic()
    stop_all([stubborn, polite], grace_s=1, say=said.append)
    assert 1 <= time.monotonic() - started < 2
    assert said == ["stubborn ne s'est pas arrêté en 1 s : arrêt forcé"]
    assert stubborn.process.returncode == -9 and polite.process.returncode == -15
    deadline = time.monotonic() + 2
    while _alive(int(grandchild_pid.read_text())):  # its parent was not waiting for it: init reaps it
        assert time.monotonic() < deadline, "the grandchild outlived the stop"
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_ports_for_children_are_outside_the_ephemeral_range_and_never_given_twice():
    """CI: a notify child found its health port taken (« address already in use »): a port from bind(0) is one an
    outgoing connection may take meanwhile. Free ports now come from below that range, each once."""
    ephemeral_start = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(port < ephemeral_start for port in ports)
    with socket.socket() as sock:  # and each is free to bind
        sock.bind(("127.0.0.1", ports[-1]))


class _RaisesWhereIgnored:
    """Where CI lost a Ctrl-C: Python ignores what a finalizer (or subprocess's at-fork hook) raises, so the
    KeyboardInterrupt of a signal handled there never reaches `carnet up`."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # the handler runs here, on the main thread, and its exception is ignored


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the lost interrupt, on purpose
def test_a_signal_whose_interrupt_was_swallowed_still_stops_the_supervisor():
    supervisor = Supervisor(lambda _: None)
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        supervisor.stop_on_signals()
        finalized = _RaisesWhereIgnored()
        del finalized  # its finalizer runs now; the handler's KeyboardInterrupt is ignored, as in CI
        with pytest.raises(KeyboardInterrupt):
            supervisor.raise_if_stopping()  # what `carnet up` asks between the steps of its start
        with pytest.raises(KeyboardInterrupt):
            supervisor.run(poll_s=0.01)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # a second signal cannot cut the stop short
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
