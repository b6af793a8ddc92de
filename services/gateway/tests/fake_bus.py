"""The fake bus and the visit of the gateway's page tests: the gateway's app built for tests, its RPC client
replaced by answers given per request type, driven as a signed-in browser (a Bearer token, the CSRF cookie and, in a
form sent, its field). Imported as ``from services.gateway.tests.fake_bus import FakeRpc, visit`` (pytest runs from
the repository root, which is on the path, as for ``tests.browser.in_process``)."""
from __future__ import annotations

import json
from collections.abc import Mapping

import httpx
from pydantic_core import to_jsonable_python

from gateway.config import GatewaySettings
from gateway.main import create_app

TOKEN = "eyJ.access.token"
CSRF = "jeton"


class FakeRpc:
    """Stands for ``servicekit.rpc.RpcClient``: answers each request by its type (an exception is raised, a function
    is called with the request, anything else is the reply). Every request is kept in ``asked`` and, with the headers
    it was sent with, in ``calls``, in order."""

    def __init__(self, answers: Mapping[type, object] | None = None) -> None:
        self.answers = dict(answers or {})
        self.asked: list = []
        self.calls: list[tuple[object, dict[str, str]]] = []

    async def call(self, request, *, headers=None, timeout_s=None):
        self.asked.append(request)
        self.calls.append((request, dict(headers or {})))
        answer = self.answers[type(request)]
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer

    async def call_json(self, request, *, headers=None, timeout_s=None) -> bytes:
        """As the service sends a reply: its model's JSON (FastStream's encoding)."""
        return json.dumps(to_jsonable_python(await self.call(request, headers=headers, timeout_s=timeout_s))).encode()

    def sent(self, kind) -> list:
        return [r for r in self.asked if isinstance(r, kind)]


async def visit(rpc, path: str, data: Mapping[str, object] | None = None) -> httpx.Response:
    """GETs ``path``, or POSTs ``data`` as a form with the CSRF field, through a gateway whose bus is ``rpc``."""
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = rpc
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                                 cookies={"carnet_csrf": CSRF}) as client:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if data is None:
            return await client.get(path, headers=headers)
        return await client.post(path, data={"csrf": CSRF, **data}, headers=headers)
