"""The beneficiary answers a message of his professionals (issue 20) in Chromium: Sébastien (the demo's
``beneficiaire2``) opens his messages, unfolds « Répondre à ce message » under one, sends his answer and finds it
below with the notice; at 320 px the page still fits the screen."""
from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from carnet.demo import DEMO_FOLLOWED_BENEFICIARY
from carnet.main import _seed
from contracts.identity import Role
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, log_in_by_email
from tests.browser.test_narrow_screens import OVERFLOWING, WIDTH, page_width

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
ANSWER = "Merci, je serai présent mardi."


async def test_sebastien_answers_a_message_shared_with_him(system, browser: Browser):
    await _seed(system.nats_url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(page, system, DEMO_FOLLOWED_BENEFICIARY.email)
    await accept_steps(page, Role.beneficiary)
    await page.goto(f"{system.base_url}/mon-carnet/echanges")
    await expect(page.get_by_role("heading", name="Messages de mes professionnels", level=1)).to_be_visible()
    await expect(page.get_by_text("Vous pouvez répondre à chacun de ces messages")).to_be_visible()

    await page.get_by_text("Répondre à ce message").last.click()
    box = page.get_by_role("textbox", name="Votre réponse à").last
    await expect(box).to_be_visible()
    await box.fill(ANSWER)
    await page.get_by_role("button", name="Envoyer ma réponse").last.click()

    await expect(page.get_by_role("status")).to_contain_text("Votre réponse est envoyée")
    mine = page.locator("ol.thread > li").last
    await expect(mine.get_by_role("heading")).to_contain_text("Votre réponse")
    await expect(mine).to_contain_text(ANSWER)
    await expect(mine).to_contain_text("En réponse à")

    await page.set_viewport_size({"width": WIDTH, "height": 800})
    await page.reload()
    width = await page_width(page)
    await page.screenshot(path=SCREENSHOTS / "beneficiary-answers-320.png", full_page=True)
    assert width <= WIDTH, (width, await page.evaluate(OVERFLOWING, WIDTH))
