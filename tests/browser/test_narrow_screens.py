"""Every page a role reaches from its own pages reflows at 320 px (a phone held upright, as many beneficiaries
connect): the page is never wider than the screen. Each role of the demo territory signs in, then follows every
link of its pages, two clicks deep, at 320 px."""
from __future__ import annotations

import os
import re
from urllib.parse import urldefrag, urlsplit

import pytest
from playwright.async_api import Browser, Page

from carnet.demo import DEMO_ACCOUNTS, DEMO_BENEFICIARY_PHONE, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY
from contracts.identity import Role
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, log_in_by_email, log_in_by_sms

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
WIDTH = 320
DEPTH = 2
PAGES_PER_ROLE = 60
# Links that end the session or answer a file, not a page.
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+")
SKIPPED = ("/deconnexion", "/logout", ".pdf", ".csv", ".xlsx", "/telecharger", "/report", "/modele", "/api/")


def shape(url: str) -> str:
    """A page's kind: its path without identifiers nor query (one notebook or account stands for the others)."""
    return ID.sub(":id", urlsplit(url).path)


def worth_visiting(base_url: str, href: str) -> str | None:
    url, _fragment = urldefrag(href)
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != base_url or any(s in parts.path for s in SKIPPED):
        return None
    return url


async def page_width(page: Page) -> int:
    return await page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


# The innermost elements that reach past the screen's right edge, to say what to mend.
OVERFLOWING = """width => Array.from(document.querySelectorAll("body *"))
  .filter(e => e.getBoundingClientRect().right > width + 1 && !Array.from(e.children).some(
     c => c.getBoundingClientRect().right > width + 1))
  .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""))"""


async def crawl(page: Page, base_url: str, role: str, visited: set[str]) -> dict[str, tuple[int, list[str]]]:
    """Visits the role's pages breadth first from its home; answers those wider than the screen, with their width
    and what overflows."""
    start = page.url
    seen, frontier, too_wide = {shape(start)}, [start], {}
    for _depth in range(DEPTH + 1):
        following = []
        for url in frontier:
            if len(seen) > PAGES_PER_ROLE:
                break
            answer = await page.goto(url)
            if answer is None or answer.status >= 400 or "text/html" not in answer.headers.get("content-type", ""):
                continue
            visited.add(f"{role} {shape(url)}")
            if (width := await page_width(page)) > WIDTH:
                too_wide[urlsplit(url).path] = (width, await page.evaluate(OVERFLOWING, WIDTH))
            if width > WIDTH or os.environ.get("CARNET_SCREENSHOTS_ALL"):  # to look at them all: set it to 1
                name = urlsplit(url).path.strip("/").replace("/", "_") or "accueil"
                await page.screenshot(path=SCREENSHOTS / f"320-{role}-{name[:60]}.png", full_page=True)
            for href in await page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                if (link := worth_visiting(base_url, href)) and shape(link) not in seen:
                    seen.add(shape(link))
                    following.append(link)
        frontier = following
    return too_wide


async def test_every_page_of_every_role_fits_a_320_px_screen(system, browser: Browser, db_backend):
    if db_backend == "postgresql":
        pytest.skip("a page's layout does not depend on the database: SQLite is enough")
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    too_wide: dict[str, tuple[int, list[str]]] = {}
    visited: set[str] = set()
    for account in DEMO_ACCOUNTS:
        context = await browser.new_context(locale="fr-FR", viewport={"width": WIDTH, "height": 640})
        page = await context.new_page()
        if account.role == Role.beneficiary:
            await log_in_by_sms(page, system, DEMO_BENEFICIARY_PHONE)
        else:
            await log_in_by_email(page, system, account.email)
        await accept_steps(page, account.role)
        for path, width in (await crawl(page, system.base_url, account.role.value, visited)).items():
            too_wide[f"{account.role.value} {path}"] = width
        await context.close()
    assert len(visited) >= 30, visited  # the crawl reached the roles' pages, not only their homes
    assert not too_wide, f"wider than {WIDTH} px (screenshots in {os.fspath(SCREENSHOTS)}): {too_wide}"
