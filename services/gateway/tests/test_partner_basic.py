"""A partner's HTTP Basic credential that cannot be read as one (control characters in its client id) is answered
like a missing one, 401 in French with the realm (docs/partners.md), not a 422 about a field the body does not have;
identity is not asked."""
from __future__ import annotations

import base64
import uuid

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.main import create_app

pytestmark = pytest.mark.unit


class NoRpc:
    async def call(self, request, *, headers=None, timeout_s=None):
        raise AssertionError(f"identity asked: {type(request).__name__}")


@pytest.mark.parametrize("credential", ["cdb_\x00abc:secret", "\x7f:secret", "cdb_abc\n:secret"])
async def test_an_unreadable_client_id_is_a_401(credential):
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = NoRpc()
    body = {"rdviUserEmail": "gestion@cd51.fr", "deploymentId": str(uuid.uuid4()),
            "notebook": {"nir": "1781299212296", "firstname": "Jay", "lastname": "Randévoui",
                         "dateOfBirth": "1978-12-01"}}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        answer = await client.post("/api/v1/partners/rdvi/notebooks", json=body, headers={
            "Authorization": "Basic " + base64.b64encode(credential.encode()).decode()})
    assert answer.status_code == 401 and answer.json()["code"] == "unauthenticated"
    assert answer.headers["WWW-Authenticate"].startswith("Basic")
