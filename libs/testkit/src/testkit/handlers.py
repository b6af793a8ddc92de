"""Handler tests in memory: a service as its ``bootstrap.build`` wires it, run by FastStream's ``TestNatsBroker``
(no nats-server: requests, replies and events go through the broker's subscribers and middlewares in memory),
over a real migrated database, SQLite and PostgreSQL.

Each test module gets one migrated database per service and backend (``handler_databases``): migrations take
seconds, a test milliseconds. Tests keep apart by their own ids (a territory, an email address each), as
tenants do in production. Import the fixtures from a ``conftest.py``::

    from testkit.handlers import handler_databases, service_under_test, services_under_test, token_mint  # noqa
"""
from __future__ import annotations

import asyncio
import importlib
import os
import secrets
import typing
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from faststream.nats import NatsBroker, TestNatsBroker
from sqlalchemy import func, select

from contracts.base import IntegrationEvent, RpcRequest
from contracts.identity import (
    AcceptCguV1,
    CompleteOnboardingV1,
    ExchangeLoginLinkV1,
    GetJwksV1,
    GetMeV1,
    JwksReply,
    LoginLinkIssuedV1,
    ProfileFields,
    Role,
)
from contracts.profiles import ProfileState
from contracts.registry import registry
from identity.domain.access_tokens import Claims, encode_access_token, public_jwk
from servicekit.app import Service
from servicekit.errors import ServiceError
from servicekit.messaging import outbox_table
from servicekit.topology import SERVICES_BY_NAME
from testkit.infra import DatabaseFactory, missing


class TokenMint:
    """Signs access tokens as identity does (``identity.domain.access_tokens``) with a key of its own, and answers
    ``rpc.identity.jwks.v1`` with its public half: the service verifies them as it verifies identity's."""

    def __init__(self) -> None:
        self.kid = f"test-{secrets.token_hex(4)}"
        self._key = Ed25519PrivateKey.generate()

    def jwks(self) -> list[dict]:
        return [public_jwk(self.kid, self._key)]

    def token(self, role: Role | str, *, deployment_id: uuid.UUID | None = None, profile_id: uuid.UUID | None = None,
              structure_ids: Iterable[uuid.UUID] = (), pending: Iterable[str] = (),
              account_id: uuid.UUID | None = None, session_id: uuid.UUID | None = None) -> str:
        claims = Claims(account_id or uuid.uuid4(), str(role), deployment_id, profile_id, tuple(structure_ids),
                        session_id, tuple(pending))
        return encode_access_token(claims, self.kid, self._key, datetime.now(UTC), timedelta(minutes=15))


@dataclass
class InMemoryService:
    service: Service
    outbox_mark: int  # the outbox's last row before this test

    @property
    def broker(self) -> NatsBroker:
        """The service's own, patched by TestNatsBroker."""
        return self.service.bus.broker

    @property
    def sessions(self):
        return self.service.sessions

    async def call(self, request: RpcRequest, token: str | None = None) -> Any:
        """The request through the broker, as the gateway sends it (with the caller's token): the reply model,
        or the ``ServiceError`` of an error reply."""
        return await self.service.rpc.call(request, headers={"Authorization": f"Bearer {token}"} if token else None)

    async def written(self) -> None:
        """What the service holds in memory to write later (the notebook's access log), written: its stop work."""
        await run_stop_work(self.service)

    async def deliver(self, event: IntegrationEvent) -> None:
        """The event as the relay publishes it (its JSON, its id as ``Nats-Msg-Id``), to this service's
        consumers of its subject."""
        await self.broker.publish(event.model_dump_json().encode(), event.subject,
                                  headers={"Nats-Msg-Id": str(event.event_id)})

    async def events(self, subject: str | None = None) -> list[IntegrationEvent]:
        """Events this test's calls wrote in the outbox (the relay is not running), oldest first."""
        query = select(outbox_table.c.subject, outbox_table.c.payload).where(outbox_table.c.seq > self.outbox_mark)
        if subject:
            query = query.where(outbox_table.c.subject == subject)
        async with self.sessions() as session:
            rows = (await session.execute(query.order_by(outbox_table.c.seq))).all()
        return [registry[row.subject].model_validate_json(row.payload) for row in rows]


async def run_stop_work(service: Service) -> None:
    """``Service.on_stop``'s work, as the service runs it once it serves no more."""
    for work in service.on_stop:
        await work()


def settings_type_of(build) -> type:
    """The settings class a service's ``build(settings: XSettings | None)`` takes."""
    annotation = typing.get_type_hints(build)["settings"]
    return next(arg for arg in typing.get_args(annotation) if arg is not type(None))


def build_service(name: str, database_url: str, **settings: Any) -> Service:
    """Service ``name`` as its bootstrap builds it (every handler registered, nothing connected)."""
    build = importlib.import_module(f"{SERVICES_BY_NAME[name].package}.bootstrap").build
    return build(settings_type_of(build)(database_url=database_url, **settings))


def answer_jwks(service: Service, mint: TokenMint) -> None:
    """The service's broker answers ``rpc.identity.jwks.v1`` with the mint's key, in identity's stead."""
    async def jwks(_request: GetJwksV1, _ctx) -> JwksReply:
        return JwksReply(keys=mint.jwks())

    service.bus.handle(GetJwksV1, jwks)


async def outbox_mark(service: Service) -> int:
    async with service.sessions() as session:
        return await session.scalar(select(func.coalesce(func.max(outbox_table.c.seq), 0)))


@asynccontextmanager
async def in_memory(*services: Service) -> AsyncIterator[tuple[InMemoryService, ...]]:
    """The services' brokers in memory together, as on one NATS: an RPC of one reaches another's handler, an
    event published reaches every consumer of its subject."""
    failed = False
    try:
        marks = [await outbox_mark(service) for service in services]
        async with TestNatsBroker(*(service.bus.broker for service in services)):
            yield tuple(InMemoryService(service, mark) for service, mark in zip(services, marks))
    except BaseException:
        failed = True
        raise
    finally:
        left = []
        for service in services:
            await run_stop_work(service)
            if in_use := await connections_back(service):
                left.append(f"{service.name}: {in_use}")
            await service.engine.dispose()
        if left and not failed:  # a test that failed for a reason of its own keeps that reason
            raise AssertionError(f"connections still in use {SETTLE_S} s after the test ended ({', '.join(left)}): "
                                 "a task the test started still works on the database")


# How long the work a test started may go on once the test ends and its services have done their stop work.
SETTLE_S = 10


async def connections_back(service: Service) -> int:
    """Waits for every connection of the service's pool to come back; how many did not. A task still in a statement
    when the test's loop closes is cut off there, and on SQLite its connection keeps the database's write lock until
    it is collected: the module's next tests (one database per module) then waited on it, 120 s each (CI of
    7db2607). Such a task is the ending test's: ``in_memory`` fails it, naming the service."""
    loop, pool = asyncio.get_running_loop(), service.engine.sync_engine.pool
    deadline = loop.time() + SETTLE_S
    while pool.checkedout() and loop.time() < deadline:
        await asyncio.sleep(0.01)
    return pool.checkedout()


class HandlerDatabases:
    """One migrated database per service, created on first use."""

    def __init__(self, factory: DatabaseFactory) -> None:
        self.factory = factory
        self.backend = factory.backend
        self._urls: dict[str, str] = {}

    async def url(self, name: str) -> str:
        if name not in self._urls:
            self._urls[name] = await self.factory.create(name, SERVICES_BY_NAME[name].migrations_dir)
        return self._urls[name]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgresql"])
async def handler_databases(request, tmp_path_factory) -> AsyncIterator[HandlerDatabases]:
    admin_url = os.environ.get("DATABASE_ADMIN_URL")
    if request.param == "postgresql" and not admin_url:
        missing("PostgreSQL (DATABASE_ADMIN_URL)")
    factory = DatabaseFactory(request.param, tmp_path_factory.mktemp("handlers"), admin_url)
    try:
        yield HandlerDatabases(factory)
    finally:
        await factory.drop_all()


@pytest.fixture(scope="module")
def token_mint() -> TokenMint:
    return TokenMint()


@pytest.fixture
async def services_under_test(handler_databases, token_mint):
    """``notify, identity = await services_under_test("notify", "identity")``: services in memory together for
    this test. Without identity among them, the first answers JWKS with ``token_mint``'s key."""
    async with AsyncExitStack() as stack:
        async def start(*names: str, **settings: Any) -> tuple[InMemoryService, ...]:  # settings of each
            services = [build_service(name, await handler_databases.url(name), **settings) for name in names]
            if "identity" not in names:
                answer_jwks(services[0], token_mint)
            return await stack.enter_async_context(in_memory(*services))

        yield start


@pytest.fixture
def service_under_test(services_under_test):
    """``directory = await service_under_test("directory", **settings)``: one service in memory for this test."""
    async def start(name: str, **settings: Any) -> InMemoryService:
        [service] = await services_under_test(name, **settings)
        return service

    return start


async def refused(call: Awaitable[Any]) -> ServiceError:
    """The error reply ``call`` was answered with."""
    with pytest.raises(ServiceError) as caught:
        await call
    return caught.value


async def signed_in(identity: InMemoryService, profile: ProfileState) -> str:
    """An access token of identity's own for ``profile``'s new account, free of pending steps: the profile
    delivered to identity, its invitation exchanged, the CGU accepted and the profile completed."""
    await identity.deliver(profile)
    [invitation] = [e for e in await identity.events(LoginLinkIssuedV1.subject) if e.email == profile.email]
    token = (await identity.call(ExchangeLoginLinkV1(token=invitation.token))).access_token
    me = await identity.call(GetMeV1(), token)
    token = (await identity.call(AcceptCguV1(version=me.cgu_version), token)).access_token
    fields = ProfileFields(firstname=profile.firstname or "Prénom", lastname=profile.lastname or "Nom",
                           phone="01 48 12 34 56", position="Conseiller")
    return (await identity.call(CompleteOnboardingV1(profile=fields), token)).access_token

