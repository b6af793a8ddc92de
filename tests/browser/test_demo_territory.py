"""The lived-in demo in Chromium (issue 20): with what `make run` seeds, Pierre finds a portfolio of followed
beneficiaries, opens one with a plan, appointments and a CER, and reads its summary band first; its in-page
navigation takes him to a section; at 320 px the notebook, full as it is, fits the screen."""
from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from carnet.main import _seed
from contracts.identity import Role
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, log_in_by_email
from tests.browser.test_narrow_screens import OVERFLOWING, WIDTH, page_width

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


async def test_pierre_opens_a_followed_notebook_and_reads_its_summary_first(system, browser: Browser):
    await _seed(system.nats_url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    pro = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(pro, system, "pro@demo.carnet.test")
    await accept_steps(pro, Role.professional)
    await pro.goto(f"{system.base_url}/beneficiaires?mine=1")
    rows = pro.locator("tbody tr")
    await expect(rows.first).to_be_visible()
    assert await rows.count() > 5
    # The first notebook he is référent of (a member only also has some).
    await pro.locator("tbody tr", has_text="CHEVALIER").first.get_by_role("link").first.click()

    band = pro.get_by_role("region", name="En bref")
    await expect(band).to_be_visible()
    for label in ("Référent", "Orientation", "Droits", "Prochain rendez-vous", "Réorientation"):
        await expect(band.get_by_text(label, exact=True)).to_be_visible()
    await expect(band.get_by_role("link", name="Pierre CHEVALIER")).to_be_visible()
    await pro.screenshot(path=SCREENSHOTS / "demo-notebook-pierre.png", full_page=False)

    await pro.get_by_role("navigation", name="Sections du carnet").get_by_role("link", name="Historique").click()
    await expect(pro).to_have_url(f"{pro.url.split('#')[0]}#historique")
    await expect(pro.locator("#historique")).to_contain_text("Carnet créé")

    await pro.set_viewport_size({"width": WIDTH, "height": 800})
    await pro.reload()
    width = await page_width(pro)
    await pro.screenshot(path=SCREENSHOTS / "demo-notebook-pierre-320.png", full_page=True)
    assert width <= WIDTH, (width, await pro.evaluate(OVERFLOWING, WIDTH))
