"""A running system for end-to-end and browser tests: identity, directory, notebook, notify and the gateway
as real processes."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from contracts.base import IntegrationEvent, RpcRequest
from contracts.identity import DemoAccount, DeploymentChoice, SeedDemoAccountsV1
from servicekit.bus import client_bus
from servicekit.topology import SERVICES_BY_NAME
from testkit.forkserver import ForkServer
from testkit.harness import ServiceProcess, gateway_process, service_process, stop_all
from testkit.oidc_issuer import LocalOidcIssuer

E2E_SERVICES = ("identity", "directory", "notebook", "data_import", "notify", "audit")

SEED_TIMEOUT_S = 60  # seconds: see RunningSystem.call


@dataclass
class RunningSystem:
    base_url: str
    nats_url: str
    trace_file: Path
    log_dir: Path
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=15, follow_redirects=False)

    async def seed(self, *accounts: DemoAccount, deployments: list[DeploymentChoice] = ()) -> None:
        await self.call(SeedDemoAccountsV1(accounts=list(accounts), deployments=list(deployments)))

    async def call(self, request: RpcRequest):
        """An RPC straight on the bus, as a service or a tool would (the dev seeds). A seed writes many rows at
        once: on a loaded CI machine it may take longer than a user's request is allowed."""
        async with client_bus("test", self.nats_url) as bus:
            return await bus.call(request, timeout_s=SEED_TIMEOUT_S)

    async def publish(self, event: IntegrationEvent) -> None:
        """Publishes an event as its owner service would (directory and notebook are not part of this system)."""
        async with client_bus("test", self.nats_url) as bus:
            await bus.stream_context.publish(event.subject, event.model_dump_json().encode(),
                                             headers={"Nats-Msg-Id": str(event.event_id)})

    async def mailbox(self, client: httpx.AsyncClient, to: str, count: int = 1, timeout_s: float = 30) -> list[dict]:
        """Waits until ``to`` has at least ``count`` messages in the dev mailbox; newest first. Up to 30 s: a message
        crosses two or three services' events, slow on a loaded CI machine (10 s were once not enough)."""
        for _ in range(int(timeout_s / 0.1)):
            answer = await client.get("/api/v1/dev/mailbox", params={"to": to})
            assert answer.status_code == 200, answer.text
            if len(answer.json()) >= count:
                return answer.json()
            await asyncio.sleep(0.1)
        raise AssertionError(f"no message for {to} after {timeout_s}s")

    async def login_by_link(self, client: httpx.AsyncClient, email: str, count: int = 1) -> httpx.Response:
        """Asks for a link, reads it in the dev mailbox, opens it and presses "Continuer" as a browser would."""
        await client.post("/api/v1/auth/magic-link", json={"email": email})
        [message, *_] = await self.mailbox(client, email, count)
        return await open_link(client, message["links"][0])

    def spans(self) -> list[dict]:
        return [json.loads(line) for line in self.trace_file.read_text().splitlines() if line.strip()]


def csrf_of(client: httpx.AsyncClient) -> str:
    return client.cookies["carnet_csrf"]


async def open_link(client: httpx.AsyncClient, link: str) -> httpx.Response:
    """GET shows a page with a button (mail scanners open links); the POST of that button uses the link."""
    path = "/" + link.split("/", 3)[3]
    landing = await client.get(path)
    assert landing.status_code == 200, landing.text
    return await client.post(path, data={"csrf": csrf_of(client)})


def token_of(message: dict) -> str:
    return message["links"][0].rsplit("/", 1)[1]


ONBOARDING_PROFILE = {"phone": "01 48 12 34 56", "position": "Conseiller"}


async def sign_in(system: RunningSystem, client: httpx.AsyncClient, email: str, count: int = 1) -> str:
    """Logs in by link (the ``count``-th message to ``email``) and completes the CGU and onboarding steps
    through the API; returns an access token free of pending steps."""
    pair = (await client.post("/api/v1/auth/token", json={"token": await link_token(system, client, email, count)})).json()
    assert "access_token" in pair, pair
    token = pair["access_token"]
    me = (await client.get("/api/v1/me", headers=bearer(token))).json()
    if "cgu" in me["pending_steps"]:
        answer = (await client.post("/api/v1/me/cgu", json={"version": me["cgu_version"]}, headers=bearer(token))).json()
        token = answer["access_token"]
    if "onboarding" in me["pending_steps"]:
        profile = {**ONBOARDING_PROFILE, "firstname": me["firstname"] or "Prénom", "lastname": me["lastname"] or "Nom"}
        answer = (await client.post("/api/v1/me/onboarding", json=profile, headers=bearer(token))).json()
        assert "access_token" in answer, answer
        token = answer["access_token"]
    return token


async def link_token(system: RunningSystem, client: httpx.AsyncClient, email: str, count: int = 1) -> str:
    """Asks for a login link and waits for it: at least ``count`` messages, and one more than before asking
    (an earlier link, already used, must not be taken for the new one)."""
    before = len((await client.get("/api/v1/dev/mailbox", params={"to": email})).json())
    await client.post("/api/v1/auth/magic-link", json={"email": email})
    [message, *_] = await system.mailbox(client, email, max(count, before + 1))
    return token_of(message)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def forkserver(tmp_path_factory):
    """Every system's processes are forks of one process that imported their code once (see testkit.forkserver)."""
    server = ForkServer([SERVICES_BY_NAME[name].package for name in E2E_SERVICES] + ["gateway"],
                        tmp_path_factory.mktemp("forkserver") / "forkserver.log")
    yield server
    server.stop()


@pytest.fixture
async def system(nats_url, jetstream, databases, forkserver, clamd_server, tmp_path, request):
    trace_file = tmp_path / "spans.jsonl"
    common = {"NATS_URL": nats_url, "CARNET_ENV": "dev", "CARNET_TRACE_FILE": str(trace_file),
              "CARNET_RPC_TIMEOUT_S": "2", "CARNET_VAR_DIR": str(tmp_path / "var"),
              "NOTIFY_SCHEDULE_INTERVAL_S": "1"}
    processes: dict[str, ServiceProcess] = {}
    # A test that also asks for ``oidc_issuer`` gets identity pointed at it.
    extra_env: dict[str, dict[str, str]] = {}
    if clamd_server is not None:  # uploads scanned as in production (without clamd, only where REQUIRE_INFRA≠1)
        extra_env["data_import"] = {"DATA_IMPORT_CLAMD_SOCKET": str(clamd_server.socket_path)}
    if "oidc_issuer" in request.fixturenames:
        extra_env["identity"] = request.getfixturevalue("oidc_issuer").identity_env()
    # A test may set a service's settings: ``@pytest.mark.service_env(notify={"NOTIFY_DIGEST_HOUR": "0"})``.
    if marker := request.node.get_closest_marker("service_env"):
        for name, env in marker.kwargs.items():
            extra_env.setdefault(name, {}).update(env)
    # ...or through a ``service_env`` fixture when the values are known at run time only (a local server's port).
    if "service_env" in request.fixturenames:
        for name, env in request.getfixturevalue("service_env").items():
            extra_env.setdefault(name, {}).update(env)
    urls: dict[str, str] = {}
    try:
        gateway = gateway_process(common, tmp_path, extra_env=extra_env.get("gateway"))
        for name in E2E_SERVICES:
            url = urls[name] = await databases.create(name, SERVICES_BY_NAME[name].migrations_dir)
            env = {"CARNET_PUBLIC_URL": gateway.base_url, **extra_env.get(name, {})}
            processes[name] = forkserver.start(service_process(name, common, url, tmp_path, env), wait=False)
        processes["gateway"] = forkserver.start(gateway, wait=False)
        for process in processes.values():
            await asyncio.to_thread(process.wait_ready, 60)
        yield RunningSystem(gateway.base_url, nats_url, trace_file, tmp_path, processes, urls)
    finally:
        stop_all(list(processes.values()), 10)  # all at once: each takes a few tenths of a second to stop


@pytest.fixture
def oidc_issuer():
    issuer = LocalOidcIssuer().start()
    yield issuer
    issuer.stop()
