"""``@exactly_once``: the claim and the effect share one transaction, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Uuid, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import IntegrationEvent
from servicekit.db import create_engine, sessionmaker
from servicekit.inbox import LARGE_BATCH, exactly_once
from servicekit.messaging import create_messaging_tables

pytestmark = pytest.mark.integration

# No key on event_id: an effect applied twice shows as two rows instead of failing on a constraint.
effects = Table("decorated_effect", MetaData(), Column("row", Integer, primary_key=True, autoincrement=True),
                Column("event_id", Uuid, nullable=False))


class ThingHappenedV1(IntegrationEvent):
    """A test-only event, deliberately left out of the contracts registry."""

    subject: ClassVar[str] = "notify.thing.happened.v1"


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    fail: bool = False
    pause_s: float = 0.0


@exactly_once("kit-decorated")
async def on_thing(event: ThingHappenedV1, session: AsyncSession, deps: Deps) -> None:
    await session.execute(insert(effects).values(event_id=event.event_id))
    await asyncio.sleep(deps.pause_s)  # holds the transaction open while another delivery arrives
    if deps.fail:
        raise ConnectionError("the effect failed half-way")


@pytest.fixture
async def deps(databases):
    engine = create_engine(await databases.create("inbox"))
    async with engine.begin() as connection:
        await connection.run_sync(create_messaging_tables)
        await connection.run_sync(effects.metadata.create_all)
    yield Deps(sessionmaker(engine))
    await engine.dispose()


async def applied(deps: Deps) -> int:
    async with deps.sessions() as session:
        return await session.scalar(select(func.count()).select_from(effects))


async def test_the_first_delivery_applies_the_effect_and_a_redelivery_does_nothing(deps):
    event = ThingHappenedV1()
    await on_thing(event, None, deps)
    assert await applied(deps) == 1
    await on_thing(event, None, deps)
    assert await applied(deps) == 1
    await on_thing(ThingHappenedV1(), None, deps)  # another event is another claim
    assert await applied(deps) == 2


async def test_an_effect_that_raises_rolls_its_claim_back_so_the_redelivery_applies_it(deps):
    event = ThingHappenedV1()
    deps.fail = True
    with pytest.raises(ConnectionError):
        await on_thing(event, None, deps)
    assert await applied(deps) == 0
    deps.fail = False
    await on_thing(event, None, deps)
    assert await applied(deps) == 1


async def test_two_deliveries_at_once_apply_the_effect_once(deps):
    event = ThingHappenedV1()
    deps.pause_s = 0.3
    await asyncio.gather(on_thing(event, None, deps), on_thing(event, None, deps))
    assert await applied(deps) == 1


async def test_the_handler_is_called_like_every_consumer_after_deps_are_bound(deps):
    handler = partial(on_thing, deps=deps)
    await handler(ThingHappenedV1(), None)
    assert await applied(deps) == 1
    assert on_thing.__name__ == "on_thing"


async def test_a_large_batch_is_planned_for_its_tables_as_they_are_and_a_small_one_keeps_its_prepared_plans(deps):
    """An import's flow of events reads tables it grows: on PostgreSQL its statements are planned for their parameters
    (a generic plan chosen while a table was small stayed a sequential scan once it was large); ordinary traffic's
    few events keep the prepared plans and save the round trip."""
    modes: list[str] = []

    async def plan_mode(events, session, deps):
        if session.bind.dialect.name == "postgresql":
            modes.append(await session.scalar(text("SHOW plan_cache_mode")))

    async def record(event, session, deps):
        await session.execute(insert(effects).values(event_id=event.event_id))

    handler = exactly_once("kit-planned", prepare=plan_mode)(record)
    await handler.together([ThingHappenedV1() for _ in range(3)], deps)
    await handler.together([ThingHappenedV1() for _ in range(LARGE_BATCH)], deps)
    assert await applied(deps) == 3 + LARGE_BATCH
    if deps.sessions.kw["bind"].dialect.name == "postgresql":
        assert modes == ["auto", "force_custom_plan"]
