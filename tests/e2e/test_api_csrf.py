"""The JSON API takes the session cookie for a change only from the gateway's own pages: another site cannot
make a signed-in manager's browser deactivate someone. Every POST, PUT, PATCH and DELETE route is listed from
the OpenAPI schema, so a new route is checked without touching this test."""
from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_TERRITORY

from testkit.system import bearer, sign_in

pytestmark = pytest.mark.e2e

MANAGER = "manager@demo.carnet.test"
PRO1 = "93000000-0000-4000-8000-00000000b004"
PRO2 = "93000000-0000-4000-8000-00000000b005"
EVIL = {"Origin": "https://evil.example"}
UNSAFE = ("post", "put", "patch", "delete")
# Login, token exchange and refresh take no cookie: what they need is in their body.
PUBLIC = "/api/v1/auth/"


def refused(answer) -> bool:
    return answer.status_code == 403 and "vient d'un autre site" in answer.json()["message"]


def concrete(path: str, operation: dict, schemas: dict) -> str:
    """The path with each parameter filled: a new uuid, or the first value of an enum."""
    def value(parameter: dict) -> str:
        schema = parameter["schema"]
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return str(schema["enum"][0]) if "enum" in schema else str(uuid.uuid4())
    values = {p["name"]: value(p) for p in operation.get("parameters", []) if p["in"] == "path"}
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path)


async def signed_in_browser(system, client) -> str:
    """Steps done through the API, then a session cookie as a browser gets it; returns the bearer token too."""
    token = await sign_in(system, client, MANAGER)
    await system.login_by_link(client, MANAGER, count=2)
    assert {"carnet_session", "carnet_refresh"} <= set(client.cookies.keys())
    return token


async def test_every_change_with_the_cookie_alone_from_another_site_is_refused_before_any_rpc(system):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    async with system.client() as browser:
        await signed_in_browser(system, browser)
        schema = (await browser.get("/api/openapi.json")).json()
        routes = [(method, concrete(path, operation, schema["components"]["schemas"]))
                  for path, operations in schema["paths"].items() if not path.startswith(PUBLIC)
                  for method, operation in operations.items() if method in UNSAFE]
        assert len(routes) > 30
        # Each refused request starts a trace of its own, named by the test (W3C traceparent, which the gateway
        # continues): the spans file is then searched for those traces only, whatever else is written meanwhile.
        traces = []

        def evil_request_headers() -> dict:
            traces.append(uuid.uuid4().hex)
            return {**EVIL, "traceparent": f"00-{traces[-1]}-{uuid.uuid4().hex[:16]}-01"}

        for method, path in routes:
            # An empty body: the refusal comes before the body is read, whatever the route expects.
            answer = await browser.request(method.upper(), path, json={}, headers=evil_request_headers())
            assert refused(answer), (method, path, answer.status_code, answer.text)

        # Only the refresh cookie left (the access one expired): refused before the session is renewed.
        refresh_only = {"carnet_refresh": browser.cookies["carnet_refresh"]}
        async with system.client() as other:
            other.cookies.update(refresh_only)
            assert refused(await other.put("/api/v1/me/profile", json={}, headers=evil_request_headers()))

    # None of those requests reached a service: no span of identity, directory, notebook or notify shares the
    # trace of a refused request (the gateway writes its span before answering, a service before replying).
    for _ in range(50):  # the gateway's last spans may still be on their way to the file
        spans = [s for s in system.spans() if s["trace_id"] in set(traces)]
        if {s["trace_id"] for s in spans if s["service"] == "gateway" and s["kind"] == "SERVER"} == set(traces):
            break
        await asyncio.sleep(0.1)
    assert {s["trace_id"] for s in spans if s["service"] == "gateway" and s["kind"] == "SERVER"} == set(traces)
    assert not [s for s in spans if s["service"] != "gateway"]


async def test_a_cross_site_deactivation_changes_nothing_and_the_same_call_from_the_pages_or_a_token_works(system):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    async with system.client() as browser, system.client() as api:
        token = await signed_in_browser(system, browser)

        async def deactivated(person_id: str) -> bool:
            answer = await api.get(f"/api/v1/people/{person_id}", headers=bearer(token))
            assert answer.status_code == 200, answer.text
            return answer.json()["deactivated"]

        for headers in (EVIL, {}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
                        {"Sec-Fetch-Site": "same-site"}, {"Sec-Fetch-Site": "cross-site", "Origin": system.base_url}):
            answer = await browser.post(f"/api/v1/people/{PRO1}/deactivate", headers=headers)
            assert refused(answer), (headers, answer.status_code, answer.text)
            assert answer.json()["code"] == "forbidden"
        assert not await deactivated(PRO1)

        same_origin = await browser.post(f"/api/v1/people/{PRO1}/deactivate", headers={"Origin": system.base_url})
        assert same_origin.status_code == 200, same_origin.text
        assert await deactivated(PRO1)

        # A bearer token is never sent by a browser on its own: another Origin does not matter.
        with_token = await api.post(f"/api/v1/people/{PRO2}/deactivate", headers={**EVIL, **bearer(token)})
        assert with_token.status_code == 200, with_token.text
        assert await deactivated(PRO2)

        # What a browser says of a request from the page itself is enough too.
        fetched = await browser.put("/api/v1/me/notification-preferences", json={"frequency": "daily"},
                                    headers={"Sec-Fetch-Site": "same-origin"})
        assert fetched.status_code == 200, fetched.text

        # Reading with the cookie stays open (GET changes nothing), and the pages keep their form token.
        assert (await browser.get("/api/v1/me", headers=EVIL)).status_code == 200
        assert (await browser.post("/deconnexion", data={"csrf": "forged"}, headers=EVIL)).status_code == 403
