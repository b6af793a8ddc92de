"""Schemathesis over the gateway's OpenAPI, against the running system on both databases: whatever a manager or a
professional sends, valid by the schema or not, the answer is never a server error."""
from __future__ import annotations

import asyncio

import pytest
import schemathesis
from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from testkit.system import bearer, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]

# A handful per operation, per caller and per mode keeps the whole run to a couple of minutes.
EXAMPLES = 5
# Development routes, and those that would end the callers' own sessions or accounts mid-run.
SKIPPED = {
    ("POST", "/api/v1/auth/logout"), ("DELETE", "/api/v1/me/sessions/{session_id}"),
    ("POST", "/api/v1/accounts/{account_id}/{action}"),
}


def fuzzed(operation) -> bool:
    return not operation.path.startswith("/api/v1/dev/") and (operation.method.upper(), operation.path) not in SKIPPED


def fuzz(operations, base_url: str, token: str, mode: GenerationMode) -> tuple[int, list[str]]:
    """Sends up to EXAMPLES generated requests to each operation; returns how many, and the server errors met."""
    errors: list[str] = []
    sent = []
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def send(case):
            response = case.call(base_url=base_url, headers=bearer(token), timeout=20)
            sent.append(response.status_code)
            if response.status_code >= 500:
                errors.append(f"{operation.method.upper()} {case.formatted_path} {case.query} {case.body!r:.200} "
                              f"-> {response.status_code} {response.text[:200]}")
        try:
            send()
        except Unsatisfiable:  # nothing to get wrong: no parameter nor body to make invalid
            pass
    return len(sent), errors


async def test_no_request_from_a_manager_or_a_professional_makes_a_server_error(system):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    async with system.client() as client:
        tokens = {"manager": await sign_in(system, client, "manager@demo.carnet.test"),
                  "professional": await sign_in(system, client, "pro@demo.carnet.test")}
        document = (await client.get("/api/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [operation for operation in operations if fuzzed(operation)]
    assert len(operations) > 50  # the whole API, not an empty schema

    errors = []
    for who, token in tokens.items():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            sent, found = await asyncio.to_thread(fuzz, operations, system.base_url, token, mode)
            assert sent >= 2 * len(operations), (who, mode, sent)
            errors += [f"{who} {mode.value}: {error}" for error in found]
    assert errors == [], "\n".join(errors)
