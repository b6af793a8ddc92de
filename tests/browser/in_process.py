"""A page of the gateway run in-process with a fake bus, in real Chromium: every request of the page (its CSS, its
scripts) is answered by the app itself, signed in with a bearer token the fake bus accepts. For what only a browser
tells (a rendered size, a script's effect) without the whole system."""
from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
from playwright.async_api import Browser, Page, Route

from gateway.config import GatewaySettings
from gateway.main import create_app

ORIGIN = "http://gateway"


@asynccontextmanager
async def gateway_page(browser: Browser, rpc, path: str, width: int = 1280):
    """The page at ``path``, the gateway's bus being ``rpc``, on a screen ``width`` px wide."""
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = rpc
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as client:
        async def answer(route: Route) -> None:
            request = route.request
            headers = {**await request.all_headers(), "authorization": "Bearer eyJ.access.token"}  # cookies too
            reply = await client.request(request.method, request.url, content=request.post_data_buffer,
                                         headers=headers)
            await route.fulfill(status=reply.status_code, headers=dict(reply.headers), body=reply.content)

        context = await browser.new_context(viewport={"width": width, "height": 800})
        try:
            page: Page = await context.new_page()
            await page.route(f"{ORIGIN}/**", answer)
            await page.goto(f"{ORIGIN}{path}")
            yield page
        finally:
            await context.close()
