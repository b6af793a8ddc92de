"""The API routes that answer a secret in clear, once (a partner's credential, a webhook's signing secret, created
or rotated), tell every cache not to keep it, as their pages do (``Cache-Control: no-store``)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from contracts import partners as p
from contracts import webhooks as w
from gateway.config import GatewaySettings
from gateway.main import create_app
from services.gateway.tests.fake_bus import FakeRpc

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CREDENTIAL = p.PartnerSecretReply(secret="s3cret", credential=p.PartnerCredentialView(
    credential_id=uuid.uuid4(), partner="rdvi", client_id="cdb_0123", deployment_ids=[uuid.uuid4()], created_at=NOW))
SUBSCRIPTION = w.WebhookSecretReply(secret="whsec_s3cret", subscription=w.WebhookSubscriptionView(
    subscription_id=uuid.uuid4(), label="RDVI", url="https://rdvi.example.fr/hook", deployment_ids=[uuid.uuid4()],
    event_types=[w.WebhookEventType.orientation_changed], status=w.WebhookStatus.active, created_at=NOW))


ANSWERS = {p.CreatePartnerCredentialV1: CREDENTIAL, p.RotatePartnerCredentialV1: CREDENTIAL,
           w.CreateWebhookSubscriptionV1: SUBSCRIPTION, w.RotateWebhookSecretV1: SUBSCRIPTION}


@pytest.mark.parametrize("path,body", [
    ("/api/v1/partners/credentials", {"partner": "rdvi", "deployment_ids": [str(uuid.uuid4())]}),
    (f"/api/v1/partners/credentials/{uuid.uuid4()}/rotation", None),
    ("/api/v1/webhooks", {"label": "RDVI", "url": "https://rdvi.example.fr/hook",
                          "deployment_ids": [str(uuid.uuid4())], "event_types": ["orientation.changed"]}),
    (f"/api/v1/webhooks/{uuid.uuid4()}/secret", None),
])
async def test_a_secret_in_clear_is_answered_no_store(path, body):
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = FakeRpc(ANSWERS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        answer = await client.post(path, json=body, headers={"Authorization": "Bearer eyJ.access.token"})
    assert answer.status_code in (200, 201), answer.text
    assert "s3cret" in answer.text and answer.headers.get("Cache-Control") == "no-store"
