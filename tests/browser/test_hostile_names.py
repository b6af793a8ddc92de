"""What people type is shown as text in a real browser: a sign-up request whose name is markup, and a search
for markup, leave no element and no redirect in the manager's pages."""
from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS
from contracts.identity import Role
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, log_in_by_email

pytestmark = pytest.mark.browser

LASTNAME = "<meta http-equiv=refresh content='0;url=https://evil.example'>Pirate"
STRUCTURE = '"><b id=injected>x</b>'


async def nothing_injected(page: Page) -> None:
    assert await page.locator("#injected").count() == 0
    assert await page.locator("meta[http-equiv]").count() == 0
    assert "evil.example" not in page.url


async def test_a_sign_up_name_and_a_search_made_of_markup_are_shown_as_typed(system, browser: Browser):
    manager = next(a for a in DEMO_ACCOUNTS if a.role == Role.manager)
    await system.seed(manager, deployments=DEMO_DEPLOYMENTS)
    page = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(page, system, manager.email)
    await accept_steps(page, manager.role)

    visitor = await (await browser.new_context(locale="fr-FR")).new_page()
    await visitor.goto(f"{system.base_url}/inscription")
    await visitor.get_by_label("Prénom").fill("Pia")
    await visitor.get_by_label("Nom", exact=True).fill(LASTNAME)
    await visitor.get_by_label("Adresse e-mail professionnelle").fill("pia@asso.fr")
    await visitor.get_by_label("Territoire").select_option(str(DEMO_DEPLOYMENTS[0].deployment_id))
    await visitor.get_by_label("Structure").fill(STRUCTURE)
    await visitor.get_by_role("button", name="Envoyer ma demande").click()
    await expect(visitor.get_by_role("status")).to_contain_text("gestionnaires du territoire")

    await page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Comptes").click()
    await expect(page.get_by_role("cell", name=f"Pia {LASTNAME} Structure demandée : {STRUCTURE}",
                                  exact=True)).to_be_visible()
    await expect(page.get_by_role("button", name=f"Valider la demande : Pia {LASTNAME}")).to_be_visible()
    await page.wait_for_timeout(500)  # a refresh of 0 s would have left by now
    await nothing_injected(page)
    assert page.url.endswith("/comptes")
    await page.screenshot(path=SCREENSHOTS / "hostile-names-accounts-manager.png", full_page=True)

    await page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Bénéficiaires").click()
    await page.get_by_label("Rechercher un bénéficiaire").fill(STRUCTURE)
    await page.get_by_role("button", name="Rechercher").click()
    await expect(page.get_by_label("Rechercher un bénéficiaire")).to_have_value(STRUCTURE)
    await nothing_injected(page)
