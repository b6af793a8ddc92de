"""The dashboards' charts are readable on a phone (issue 20 walkthrough: their labels were about 6 px tall on a
375 px screen, an SVG drawn 640 wide shrunk with the page). In real Chromium at 375 and 320 px, then at 1280 px:
every text of the chart shown is at least 12 px once rendered, no chart is wider than the page, and one chart only
is shown per figure. The gateway runs in-process with a fake bus answering the dashboard of the unit tests (a
stacked bar chart, a line chart, a histogram): every request of the page is answered by the app itself."""
from __future__ import annotations

import pytest

from contracts.identity import GetMeV1
from contracts.pilotage import GetPilotageDashboardV1
from services.gateway.tests.fake_bus import FakeRpc
from services.gateway.tests.test_dashboard_pages import ME, dashboard
from tests.browser.in_process import gateway_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
SMALLEST = 12

# Each visible chart's texts: their rendered size in CSS pixels (the font size times the SVG's scale on screen).
RENDERED = """() => Array.from(document.querySelectorAll("svg.chart")).filter(svg => svg.getClientRects().length)
  .map(svg => ({id: svg.id, width: svg.getBoundingClientRect().right,
                sizes: Array.from(svg.querySelectorAll("text")).map(
                  t => parseFloat(t.getAttribute("font-size")) * t.getScreenCTM().a)}))"""


async def rendered_charts(browser, width: int) -> tuple[list[dict], int]:
    async with gateway_page(browser, FakeRpc({GetMeV1: ME, GetPilotageDashboardV1: dashboard()}), "/pilotage",
                            width) as page:
        return await page.evaluate(RENDERED), await page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("width", [375, 320, 1280])
async def test_chart_labels_are_readable_at_every_width(browser, width):
    charts, page_width = await rendered_charts(browser, width)
    assert page_width <= width
    keys = [chart["id"].removesuffix("-etroit") for chart in charts]
    assert len(keys) == len(set(keys)) == 4, keys  # one chart per figure, the empty one included
    for chart in charts:
        assert chart["width"] <= width, chart
        assert min(chart["sizes"]) >= SMALLEST, (chart["id"], sorted(chart["sizes"])[:3])
