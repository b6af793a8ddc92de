"""The dashboards' charts are readable on a phone (issue 20 walkthrough: their labels were about 6 px tall on a
375 px screen, an SVG drawn 640 wide shrunk with the page). In real Chromium at 375 and 320 px, then at 1280 px:
every text of the chart shown is at least 12 px once rendered, no chart is wider than the page, and one chart only
is shown per figure. The gateway runs in-process with a fake bus answering the dashboard of the unit tests (a
stacked bar chart, a line chart, a histogram): every request of the page is answered by the app itself."""
from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Route

from gateway.config import GatewaySettings
from gateway.main import create_app
from services.gateway.tests.test_dashboard_pages import FakeRpc

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
SMALLEST = 12

# Each visible chart's texts: their rendered size in CSS pixels (the font size times the SVG's scale on screen).
RENDERED = """() => Array.from(document.querySelectorAll("svg.chart")).filter(svg => svg.getClientRects().length)
  .map(svg => ({id: svg.id, width: svg.getBoundingClientRect().right,
                sizes: Array.from(svg.querySelectorAll("text")).map(
                  t => parseFloat(t.getAttribute("font-size")) * t.getScreenCTM().a)}))"""


async def rendered_charts(browser, width: int) -> tuple[list[dict], int]:
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = FakeRpc()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        async def answer(route: Route) -> None:
            request = route.request
            reply = await client.request(request.method, request.url, headers={
                **request.headers, "authorization": "Bearer eyJ.access.token"})
            await route.fulfill(status=reply.status_code, headers=dict(reply.headers), body=reply.content)

        context = await browser.new_context(viewport={"width": width, "height": 800})
        page = await context.new_page()
        await page.route("http://gateway/**", answer)
        await page.goto("http://gateway/pilotage")
        charts = await page.evaluate(RENDERED)
        page_width = await page.evaluate("document.documentElement.scrollWidth")
        await context.close()
    return charts, page_width


@pytest.mark.parametrize("width", [375, 320, 1280])
async def test_chart_labels_are_readable_at_every_width(browser, width):
    charts, page_width = await rendered_charts(browser, width)
    assert page_width <= width
    keys = [chart["id"].removesuffix("-etroit") for chart in charts]
    assert len(keys) == len(set(keys)) == 4, keys  # one chart per figure, the empty one included
    for chart in charts:
        assert chart["width"] <= width, chart
        assert min(chart["sizes"]) >= SMALLEST, (chart["id"], sorted(chart["sizes"])[:3])
