"""Starts real service processes for end-to-end tests, as ``make run`` does."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from servicekit.topology import SERVICES_BY_NAME
from testkit.infra import free_port


class ServiceProcess:
    def __init__(self, name: str, module: str, env: dict[str, str], health_url: str, log_dir: Path) -> None:
        self.name = name
        self.module = module
        self.env = env
        self.health_url = health_url
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 30, wait: bool = True) -> ServiceProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module], env={**os.environ, **self.env}, stdout=log, stderr=log
        )
        if wait:
            self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.logs()}")
            try:
                with urllib.request.urlopen(self.health_url, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:  # refused while starting, or 503 (HTTPError) while not ready
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout_s}s:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""

    def stop(self, timeout_s: float = 10) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def service_process(name: str, common_env: dict[str, str], database_url: str, log_dir: Path,
                    extra_env: dict[str, str] | None = None) -> ServiceProcess:
    info = SERVICES_BY_NAME[name]
    port = free_port()
    env = {**common_env, f"{info.env_prefix}_DATABASE_URL": database_url, f"{info.env_prefix}_HEALTH_PORT": str(port),
           **(extra_env or {})}
    return ServiceProcess(name, info.package, env, f"http://127.0.0.1:{port}/readyz", log_dir)


def gateway_process(common_env: dict[str, str], log_dir: Path, port: int | None = None,
                    extra_env: dict[str, str] | None = None) -> ServiceProcess:
    port = port or free_port()
    health_port = free_port()  # /metrics is there, like the services', never on the public port
    env = {**common_env, "CARNET_PORT": str(port), "CARNET_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "GATEWAY_HEALTH_PORT": str(health_port), **(extra_env or {})}
    process = ServiceProcess("gateway", "gateway", env, f"http://127.0.0.1:{port}/healthz", log_dir)
    process.base_url = f"http://127.0.0.1:{port}"
    process.health_base_url = f"http://127.0.0.1:{health_port}"
    return process
