"""``servicekit.periodic.repeat``: the background loop of tidying, statistics, nightly runs and reminders."""
from __future__ import annotations

import asyncio

import pytest
import structlog

from servicekit.periodic import repeat


async def test_a_failed_round_is_logged_and_the_next_one_runs():
    rounds = []

    async def work():
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("la base ne répond pas")
        if len(rounds) == 3:
            raise asyncio.CancelledError  # as a cancel of the task: it ends the loop, not logged

    with structlog.testing.capture_logs() as logs, pytest.raises(asyncio.CancelledError):
        await repeat(work, 0, "work_failed", structlog.get_logger("test"))
    assert rounds == [0, 1, 2]
    assert [entry["event"] for entry in logs] == ["work_failed"]


async def test_first_after_waits_a_period_before_the_first_round():
    rounds = []

    async def work():
        rounds.append(asyncio.get_running_loop().time())

    task = asyncio.create_task(repeat(work, 0.2, "work_failed", structlog.get_logger("test"), first_after=True))
    await asyncio.sleep(0.1)
    assert rounds == []
    await asyncio.sleep(0.2)
    task.cancel()
    assert len(rounds) == 1
