"""Every page a role reaches from its own pages reflows at 320 px (a phone held upright, as many beneficiaries
connect): the page is never wider than the screen, axe-core finds no serious or critical violation at that width
(as test_accessibility does at 1280 px), and a deep page (under a notebook, an import, a structure…) says where it
sits with breadcrumbs. Each role of the demo territory signs in, then follows every link of its pages, two clicks
deep, at 320 px."""
from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, expect

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY
from contracts.identity import Role
from tests.browser.crawl import crawl, for_each, shape
from tests.browser.test_accessibility import need_axe, violations
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, every_role_signed_in, log_in_by_email

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
WIDTH = 320


async def page_width(page: Page) -> int:
    return await page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


# The innermost elements that reach past the screen's right edge, to say what to mend.
OVERFLOWING = """width => Array.from(document.querySelectorAll("body *"))
  .filter(e => e.getBoundingClientRect().right > width + 1 && !Array.from(e.children).some(
     c => c.getBoundingClientRect().right > width + 1))
  .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""))"""


def deep(url: str) -> bool:
    """A page below another one of its kind: under a notebook (not the notebook itself), one import, export,
    structure, person, account or webhook, or the beneficiary's pages under « Mon carnet »."""
    kind = shape(url).partition("?")[0]  # a part opened (the list's bulk orientation) is the same page
    return kind.startswith("/mon-carnet/") or (":id" in kind and kind != "/carnets/:id")


async def too_wide_pages(page: Page, base_url: str, role: str, visited: set[str],
                         faults: list[str] | None = None) -> dict[str, tuple[int, list[str]]]:
    """Visits the role's pages; answers those wider than the screen, with their width and what overflows. With
    `faults`, adds to it each page's accessibility violations at this width and the deep pages without
    breadcrumbs."""
    too_wide = {}

    async def measure(url: str) -> None:
        if (width := await page_width(page)) > WIDTH:
            too_wide[urlsplit(url).path] = (width, await page.evaluate(OVERFLOWING, WIDTH))
        if width > WIDTH or os.environ.get("CARNET_SCREENSHOTS_ALL"):  # to look at them all: set it to 1
            name = urlsplit(url).path.strip("/").replace("/", "_") or "accueil"
            await page.screenshot(path=SCREENSHOTS / f"320-{role}-{name[:60]}.png", full_page=True)
        if faults is not None:
            faults.extend(f"{role} at {WIDTH} px: {line}" for line in await violations(page))
            if deep(url) and not await page.get_by_role("navigation", name="Fil d'Ariane").count():
                faults.append(f"{role}: {shape(url)} has no breadcrumbs")

    visited.update(f"{role} {kind}" for kind in await crawl(page, base_url, measure))
    return too_wide


async def test_every_page_of_every_role_fits_a_320_px_screen(system, browser: Browser):
    need_axe()
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    too_wide: dict[str, tuple[int, list[str]]] = {}
    visited: set[str] = set()
    faults: list[str] = []

    async def measure_role(signed) -> None:
        account, page = signed
        for path, width in (await too_wide_pages(page, system.base_url, account.role.value, visited,
                                                 faults)).items():
            too_wide[f"{account.role.value} {path}"] = width

    # Crawled two at a time: the crawls only read.
    async with every_role_signed_in(browser, system, DEMO_ACCOUNTS, viewport={"width": WIDTH, "height": 640}) as pages:
        await for_each(pages, measure_role)
        # The search for whom to « Rattacher » on the list (shown past a hundred people, or once searched): the
        # crawl does not open it.
        page = next(page for account, page in pages if account.role == Role.manager)
        await page.goto(f"{system.base_url}/beneficiaires?personne=chevalier")
        await expect(page.locator("#find-person-q")).to_be_attached()
        if (width := await page_width(page)) > WIDTH:
            too_wide["manager /beneficiaires?personne"] = (width, await page.evaluate(OVERFLOWING, WIDTH))
        # The search's controls are a block of their own: the choice of a référent starts on its own line.
        back = await page.get_by_role("link", name="Revoir toutes les personnes").bounding_box()
        referent = await page.locator("label[for=referent_id]").bounding_box()
        await page.screenshot(path=SCREENSHOTS / "manager-beneficiaires-personne.png", full_page=True)
        assert referent["y"] >= back["y"] + back["height"], (back, referent)
    assert len(visited) >= 30, visited  # the crawl reached the roles' pages, not only their homes
    assert any(deep(kind.split(" ", 1)[1]) for kind in visited), visited  # and breadcrumbs were looked for
    assert not too_wide, f"wider than {WIDTH} px (screenshots in {os.fspath(SCREENSHOTS)}): {too_wide}"
    assert not faults, f"{len(faults)} faults at {WIDTH} px:\n" + "\n".join(faults)


async def test_the_managers_menu_folds_under_one_button_on_a_phone(system, browser: Browser):
    """Her fifteen main pages took about 400 px of a phone's height above every page: at 320 px they fold under
    « Menu » (a <details>, no JavaScript needed), open with the keyboard, the page being read still marked; on a
    desktop they show in a row, with no « Menu » to press."""
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    context = await browser.new_context(locale="fr-FR", viewport={"width": WIDTH, "height": 640})
    page = await context.new_page()
    await log_in_by_email(page, system, "manager@demo.carnet.test")
    await accept_steps(page, Role.manager)
    await page.goto(f"{system.base_url}/territoire")
    nav = page.get_by_role("navigation", name="Menu principal")
    menu = nav.get_by_text("Menu", exact=True)
    await expect(menu).to_be_visible()
    await expect(nav.get_by_role("link", name="Structures")).to_be_hidden()
    header = await page.get_by_role("banner").bounding_box()
    assert header is not None and header["height"] <= 100, f"the folded header takes {header['height']} px"
    assert (await menu.bounding_box())["height"] >= 44

    await page.locator("body").focus()
    for _ in range(5):  # past « Aller au contenu » and the brand, to « Menu »
        await page.keyboard.press("Tab")
        if await menu.evaluate("e => e === document.activeElement"):
            break
    else:
        raise AssertionError("« Menu » not reached with the keyboard")
    await page.keyboard.press("Enter")
    await expect(nav.get_by_role("link", name="Territoire")).to_have_attribute("aria-current", "page")
    structures = nav.get_by_role("link", name="Structures")
    await expect(structures).to_be_visible()
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await structures.evaluate("e => e === document.activeElement"):
            break
    else:
        raise AssertionError("« Structures » not reached with the keyboard once the menu is open")
    assert (await structures.bounding_box())["height"] >= 44
    await expect(nav.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert await page_width(page) <= WIDTH
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{system.base_url}/territoire/structures")
    await expect(page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Structures")
                 ).to_be_hidden()  # a new page starts with the menu folded

    await page.set_viewport_size({"width": 1280, "height": 800})
    await expect(menu).to_be_hidden()
    await expect(nav.get_by_role("link", name="Structures")).to_have_attribute("aria-current", "page")
    header = await page.get_by_role("banner").bounding_box()
    assert header["height"] <= 200
    await context.close()
