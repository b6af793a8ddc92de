"""An endpoint's arguments model (FastDepends' copy of the request's validator) is built at its first message, not
at start: an idle service keeps none of the validators of the RPCs and events it has not received yet (issue 19
item 4: idle RSS < 90 MB)."""
from __future__ import annotations

from typing import ClassVar

import pytest

from contracts.base import RpcReply, RpcRequest
from servicekit.bus import Bus

pytestmark = pytest.mark.integration


class EchoReply(RpcReply):
    said: str


class EchoV1(RpcRequest):
    """A test-only request, deliberately left out of the contracts registry."""

    subject: ClassVar[str] = "rpc.probe.echo.v1"
    reply_model: ClassVar = EchoReply
    say: str


async def test_an_endpoints_arguments_model_is_built_at_its_first_message(nats_url):
    async def handler(request: EchoV1, _context) -> EchoReply:
        return EchoReply(said=request.say)

    server = Bus("probe", nats_url)
    server.handle(EchoV1, handler)
    await server.start()
    try:
        (subscriber,) = server._rpc.subscribers
        arguments = subscriber.calls[0].dependant.serializer.model
        assert not arguments.__pydantic_complete__
        assert (await server.client.call(EchoV1(say="bonjour"))).said == "bonjour"
        assert arguments.__pydantic_complete__
    finally:
        await server.stop()
