"""Steps that several browser journeys share: the demo territory seeded, a role signed in, Pierre becoming Sophie's
référent, and a tab of the notebook opened (static/notebook.js shows one tab at a time, so a journey that goes on in
another section first opens its tab, as a person would)."""
from __future__ import annotations

import asyncio

from playwright.async_api import Browser, Page, expect

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY
from contracts.identity import Role
from tests.browser.test_accessibility import need_axe
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, log_in_by_email

SOPHIE = DEMO_NOTEBOOKS.beneficiaries[0].notebook_id


async def demo(system) -> None:
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)


async def demo_journey(system) -> None:
    """The start of an acceptance journey: with axe-core at hand, on the demo territory."""
    need_axe()
    await demo(system)


async def signed_in(browser: Browser, system, email: str, role: Role) -> Page:
    page = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(page, system, email)
    await accept_steps(page, role)
    return page


async def pierre_becomes_referent(browser: Browser, system, notebook_id=SOPHIE) -> Page:
    """Pierre joins a notebook (Sophie's unless told) as its référent for the « Professionnel » system."""
    pro = await signed_in(browser, system, "pro@demo.carnet.test", Role.professional)
    for _ in range(150):  # his orientation systems reach the notebook service as events
        await pro.goto(f"{system.base_url}/carnets/{notebook_id}")
        if await pro.locator("#join-system option").count() > 1:
            break
        await asyncio.sleep(0.2)
    await pro.get_by_label("Oui").check()
    await pro.get_by_label("Dispositif d'accompagnement").select_option(label="Professionnel")
    await pro.get_by_role("button", name="Se rattacher").click()
    await expect(pro.get_by_role("status")).to_have_text("Vous êtes rattaché(e) à ce carnet.")
    return pro


async def open_tab(page: Page, name: str) -> None:
    """Clicks a tab of the notebook (Situation, Parcours, Rendez-vous, Contrats, Échanges, Historique) and waits
    for it to be the one shown."""
    tab = page.get_by_role("navigation", name="Sections du carnet").get_by_role("link", name=name, exact=True)
    await tab.click()
    await expect(tab).to_have_attribute("aria-current", "true")


async def open_bulk_orientation(page: Page) -> None:
    """The list of beneficiaries from the menu, then its bulk orientation form (« Orienter plusieurs
    bénéficiaires »). Each click waits for its page: the home page may be the list itself, whose link a click could
    reach before the menu's page replaces it."""
    async with page.expect_navigation():
        await page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Bénéficiaires").click()
    await page.get_by_role("link", name="Orienter plusieurs bénéficiaires").click()
    await expect(page.locator("#bulk-system")).to_be_visible()


async def orient_to_ccas(browser: Browser, system, *names: str) -> Page:
    """The orientation manager orients these beneficiaries (« Myrna HENDERSON ») to the CCAS for the « Social »
    system, leaving the référent to the structure."""
    co = await signed_in(browser, system, "orientation@demo.carnet.test", Role.orientation_manager)
    await open_bulk_orientation(co)
    for name in names:
        await co.get_by_label(f"Sélectionner {name}").check()
    await co.locator("#bulk-system").select_option(label="Social")
    await co.locator("#bulk-structure").select_option(label="Centre communal d'action sociale de Livry-Gargan")
    await co.get_by_role("button", name="Orienter les bénéficiaires").click()
    await expect(co.get_by_role("status")).to_contain_text(
        f"{len(names)} bénéficiaire{'s' if len(names) > 1 else ''} orienté")
    return co
