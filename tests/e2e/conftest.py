"""A running system for end-to-end tests: identity, notify and the gateway as real processes."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats
import pytest

from contracts.identity import DemoAccount, Role, SeedDemoAccountsV1
from servicekit.rpc import RpcClient
from servicekit.topology import SERVICES_BY_NAME
from testkit.harness import ServiceProcess, gateway_process, service_process

E2E_SERVICES = ("identity", "notify")


@dataclass
class RunningSystem:
    base_url: str
    nats_url: str
    trace_file: Path
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=15, follow_redirects=False)

    async def seed(self, *accounts: DemoAccount) -> None:
        nc = await nats.connect(self.nats_url)
        try:
            await RpcClient(nc).call(SeedDemoAccountsV1(accounts=list(accounts)))
        finally:
            await nc.drain()

    async def mailbox(self, client: httpx.AsyncClient, to: str, count: int = 1, timeout_s: float = 10) -> list[dict]:
        """Waits until ``to`` has at least ``count`` messages in the dev mailbox; newest first."""
        for _ in range(int(timeout_s / 0.1)):
            answer = await client.get("/api/v1/dev/mailbox", params={"to": to})
            assert answer.status_code == 200, answer.text
            if len(answer.json()) >= count:
                return answer.json()
            await asyncio.sleep(0.1)
        raise AssertionError(f"no message for {to} after {timeout_s}s")

    def spans(self) -> list[dict]:
        return [json.loads(line) for line in self.trace_file.read_text().splitlines() if line.strip()]


@pytest.fixture
async def system(nats_url, jetstream, databases, tmp_path):
    trace_file = tmp_path / "spans.jsonl"
    common = {"NATS_URL": nats_url, "CARNET_ENV": "dev", "CARNET_TRACE_FILE": str(trace_file),
              "CARNET_RPC_TIMEOUT_S": "2", "CARNET_VAR_DIR": str(tmp_path / "var")}
    processes: dict[str, ServiceProcess] = {}
    try:
        gateway = gateway_process(common, tmp_path)
        for name in E2E_SERVICES:
            url = await databases.create(name, SERVICES_BY_NAME[name].migrations_dir)
            env = {"CARNET_PUBLIC_URL": gateway.base_url}
            processes[name] = service_process(name, common, url, tmp_path, env).start(wait=False)
        processes["gateway"] = gateway.start(wait=False)
        for process in processes.values():
            await asyncio.to_thread(process.wait_ready, 60)
        yield RunningSystem(gateway.base_url, nats_url, trace_file, processes)
    finally:
        for process in processes.values():
            process.stop()
