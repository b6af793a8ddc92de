"""What an RPC answers when the request breaks an input rule (422 naming the field in French) and when the handler
fails unexpectedly (500 with the request id, never 503: retrying a bug cannot succeed)."""
from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import Field

from contracts.base import ErrorCode, ErrorEnvelope, RpcReply, RpcRequest
from contracts.inputs import Line
from servicekit.errors import ServiceError
from servicekit.bus import Bus

pytestmark = pytest.mark.integration


class ProbeReply(RpcReply):
    pass


class ProbeV1(RpcRequest):
    """A test-only request, deliberately left out of the contracts registry."""

    subject: ClassVar[str] = "rpc.probe.fail.v1"
    reply_model: ClassVar = ProbeReply
    firstname: Line = Field(max_length=10)


async def test_a_failing_handler_answers_internal_with_the_request_id_and_bad_input_names_the_field(
        nats_client, nats_url):
    async def handler(request: ProbeV1, _context) -> ProbeReply:
        raise ZeroDivisionError("a bug")

    server = Bus("probe", nats_url)
    server.handle(ProbeV1, handler)
    await server.start()
    client = server.client
    try:
        with pytest.raises(ServiceError) as failed:
            await client.call(ProbeV1(firstname="Noël"), headers={"X-Request-Id": "req-42"})
        assert failed.value.code == ErrorCode.internal and failed.value.http_status == 500
        assert failed.value.details == {"request_id": "req-42"} and "req-42" in failed.value.message

        # The client's model would refuse it: send the raw bytes a buggy or hostile caller could.
        answer = await nats_client.request(ProbeV1.subject, b'{"firstname": "No\\u0000\\u00ebl"}', timeout=5)
        assert answer.headers["Carnet-Error"] == "invalid"
        envelope = ErrorEnvelope.model_validate_json(answer.data)
        assert envelope.message == "Le prénom contient des caractères de contrôle."
        assert envelope.details["fields"][0]["loc"] == ["firstname"]
    finally:
        await server.stop()
