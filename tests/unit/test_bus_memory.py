"""What every endpoint of a service costs while idle (issue 19 item 4): FastStream's test-broker mock is made at its
first use (servicekit.bus.MockOnFirstUse), and still records under the test broker."""
from __future__ import annotations

import gc
from unittest.mock import MagicMock

import pytest
from faststream.nats import NatsBroker, TestNatsBroker

from servicekit.bus import MockOnFirstUse

pytestmark = pytest.mark.unit


def test_a_built_service_holds_no_mock_for_its_endpoints(monkeypatch, tmp_path):
    monkeypatch.setenv("CARNET_ENV", "dev")
    monkeypatch.setenv("CARNET_VAR_DIR", str(tmp_path))
    from notebook import bootstrap

    service = bootstrap.build()
    assert len(service.bus.broker.subscribers) > 100  # every RPC, consumer and replay endpoint
    gc.collect()
    assert [o for o in gc.get_objects() if isinstance(o, MagicMock)] == []


async def test_the_test_broker_still_records_each_endpoints_calls():
    broker = NatsBroker()

    @broker.subscriber("carnet.test")
    async def handler(body: dict) -> None:
        pass

    async with TestNatsBroker(broker):
        await broker.publish({"hello": "monde"}, "carnet.test")
        handler.mock.assert_called_once_with({"hello": "monde"})
        await handler.assert_called_once_with({"hello": "monde"})
    assert isinstance(handler._recorder.mock, MockOnFirstUse)
