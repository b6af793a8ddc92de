"""POST /api/v1/orientations/bulk → rpc.notebook.orient_in_bulk.v1 with the caller's token and a longer wait; more
than 500 notebooks is a 422 in French before any RPC."""
from __future__ import annotations

import uuid

import httpx
import pytest

from contracts.bulk_orientation import (
    BulkOrientationReply,
    BulkOrientationResult,
    BulkOrientationStatus,
    OrientInBulkV1,
)
from gateway.api.bulk_orientation import BULK_TIMEOUT_S
from gateway.config import GatewaySettings
from gateway.main import create_app

pytestmark = pytest.mark.unit

TOKEN = "eyJ.access.token"


class FakeRpc:
    def __init__(self, answer) -> None:
        self.calls: list[tuple[object, dict, float | None]] = []
        self.answer = answer

    async def call(self, request, *, headers=None, timeout_s=None):
        self.calls.append((request, dict(headers or {}), timeout_s))
        return self.answer


async def post(app, body: dict) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.post("/api/v1/orientations/bulk", json=body,
                                 headers={"Authorization": f"Bearer {TOKEN}", "X-Request-Id": "req-42"})


async def test_a_bulk_decision_is_one_rpc_answered_notebook_by_notebook():
    done, out = uuid.uuid4(), uuid.uuid4()
    rpc = FakeRpc(BulkOrientationReply(results=[
        BulkOrientationResult(notebook_id=done, status=BulkOrientationStatus.done, firstname="Anne", lastname="Un"),
        BulkOrientationResult(notebook_id=out, status=BulkOrientationStatus.refused, reason="Aucun carnet")],
        done=1, refused=1))
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = rpc
    system, structure = uuid.uuid4(), uuid.uuid4()
    answer = await post(app, {"notebook_ids": [str(done), str(out)], "orientation_system_id": str(system),
                              "structure_id": str(structure)})
    assert answer.status_code == 200, answer.text
    assert [(r["status"], r["reason"]) for r in answer.json()["results"]] == [("done", ""), ("refused", "Aucun carnet")]
    [(request, headers, timeout_s)] = rpc.calls
    assert isinstance(request, OrientInBulkV1) and request.notebook_ids == [done, out]
    assert (request.orientation_system_id, request.structure_id, request.referent_id) == (system, structure, None)
    assert headers["Authorization"] == f"Bearer {TOKEN}" and timeout_s == BULK_TIMEOUT_S


async def test_more_than_500_notebooks_is_a_french_422_and_no_rpc():
    rpc = FakeRpc(None)
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = rpc
    answer = await post(app, {"notebook_ids": [str(uuid.uuid4()) for _ in range(501)],
                              "orientation_system_id": str(uuid.uuid4()), "structure_id": str(uuid.uuid4())})
    assert answer.status_code == 422
    assert answer.json()["message"] == ("Une décision d'orientation porte sur 500 carnets au plus : 501 sont "
                                        "sélectionnés. Sélectionnez-en moins.")
    assert rpc.calls == []
