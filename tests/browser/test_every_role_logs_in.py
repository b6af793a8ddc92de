"""Every role of the demo seed logs in through the pages in a real browser, as a person would."""
from __future__ import annotations

import os
import re
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from carnet.demo import DEMO_ACCOUNTS, DEMO_BENEFICIARY_PHONE, DEMO_DEPLOYMENTS
from contracts.identity import Role

pytestmark = pytest.mark.browser
ONBOARDED = {Role.professional, Role.manager, Role.admin_structure, Role.orientation_manager}
ROLE_LABELS = {Role.admin_cdb: "Administrateur Carnet de bord", Role.manager: "Gestionnaire du territoire",
               Role.admin_structure: "Administrateur de structure", Role.orientation_manager: "Chargé d'orientation",
               Role.professional: "Professionnel", Role.beneficiary: "Bénéficiaire"}
SCREENSHOTS = Path(os.environ.get("CARNET_SCREENSHOTS", "var/screenshots"))


async def newest_message(system, to: str, count: int) -> dict:
    async with system.client() as client:
        return (await system.mailbox(client, to, count))[0]


async def accept_steps(page: Page, role: Role) -> None:
    await expect(page.get_by_role("heading", name="Conditions générales d'utilisation")).to_be_visible()
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_role("alert")).to_contain_text("Cochez la case")
    await page.get_by_label("J'ai lu et j'accepte les conditions générales d'utilisation").check()
    await page.get_by_role("button", name="Valider").click()
    if role in ONBOARDED:
        await expect(page.get_by_role("heading", name=re.compile("Création de mon compte"))).to_be_visible()
        await page.get_by_label("Téléphone").fill("01 48 12 34 56")
        await page.get_by_label("Fonction").fill("Conseillère")
        await page.get_by_role("button", name="Créer mon compte").click()
        await expect(page.get_by_role("status")).to_have_text("Votre compte a été créé avec succès.")
        await page.get_by_role("link", name="Accéder à mon compte").click()


async def log_in_by_email(page: Page, system, email: str) -> None:
    await page.goto(f"{system.base_url}/connexion")
    await page.get_by_role("textbox", name="Adresse e-mail").fill(email)
    await page.get_by_role("button", name="Recevoir mon lien de connexion").click()
    await expect(page.get_by_role("status")).to_contain_text("un lien de connexion vient d'y être envoyé")
    message = await newest_message(system, email, 1)
    await page.goto(message["links"][0])
    await page.get_by_role("button", name="Continuer sur Carnet de bord").click()


async def log_in_by_sms(page: Page, system, phone: str) -> None:
    """Asks for a code and waits for the new SMS (the number may already have had others, appointments…)."""
    async with system.client() as client:
        before = len((await client.get("/api/v1/dev/mailbox", params={"to": "+33612345678"})).json())
    await page.goto(f"{system.base_url}/connexion")
    await page.get_by_role("link", name="Recevoir un code par SMS").click()
    await page.get_by_label("Numéro de téléphone portable").fill(phone)
    await page.get_by_role("button", name="Recevoir mon code").click()
    async with system.client() as client:
        messages = await system.mailbox(client, "+33612345678", before + 1)
    code = next(re.search(r"\b(\d{6})\b", m["text"]).group(1) for m in messages if "code de connexion" in m["text"])
    await page.get_by_label("Code à 6 chiffres").fill(code)
    await page.get_by_role("button", name="Me connecter").click()


async def signed_in(browser: Browser, system, account, **context_options) -> Page:
    """A page of a new browser context where ``account`` has logged in and accepted the first steps."""
    context = await browser.new_context(locale="fr-FR", **context_options)
    page = await context.new_page()
    if account.role == Role.beneficiary:
        await log_in_by_sms(page, system, DEMO_BENEFICIARY_PHONE)
    else:
        await log_in_by_email(page, system, account.email)
    await accept_steps(page, account.role)
    return page


@asynccontextmanager
async def every_role_signed_in(browser: Browser, system, accounts, **context_options):
    """``(account, page)`` for each account, signed in one after the other (the professionals complete their
    accounts as they do, which other roles' pages show); every browser context is closed on the way out, also when
    a later sign-in failed."""
    signed: list[tuple[object, Page]] = []
    try:
        for account in accounts:
            signed.append((account, await signed_in(browser, system, account, **context_options)))
        yield signed
    finally:
        for _account, page in signed:
            await page.context.close()


async def test_every_demo_role_logs_in_accepts_the_cgu_and_reaches_its_home(system, browser: Browser):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for account in DEMO_ACCOUNTS:
        page = await signed_in(browser, system, account)
        await expect(page.get_by_role("heading", level=1)).to_contain_text(account.firstname)
        await expect(page.get_by_role("main")).to_contain_text(ROLE_LABELS[account.role])
        await page.screenshot(path=SCREENSHOTS / f"home-{account.role.value}.png", full_page=True)
        await page.get_by_role("link", name="Mon compte").first.click()
        await expect(page.get_by_role("heading", name="Historique de mes connexions")).to_be_visible()
        await expect(page.get_by_role("cell", name="Cette session")).to_be_visible()
        await page.screenshot(path=SCREENSHOTS / f"account-{account.role.value}.png", full_page=True)
        await page.context.close()


async def test_a_manager_deactivates_a_professional_whose_open_page_then_says_why(system, browser: Browser):
    manager, pro = (next(a for a in DEMO_ACCOUNTS if a.role == role) for role in (Role.manager, Role.professional))
    await system.seed(manager, pro, deployments=DEMO_DEPLOYMENTS)
    pro_page = await (await browser.new_context()).new_page()
    await log_in_by_email(pro_page, system, pro.email)
    await accept_steps(pro_page, pro.role)

    manager_page = await (await browser.new_context()).new_page()
    await log_in_by_email(manager_page, system, manager.email)
    await accept_steps(manager_page, manager.role)
    await manager_page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Comptes").click()
    # « Désactiver » only unfolds what will happen: the account stays open until it is confirmed.
    await manager_page.locator("summary", has_text=f"Désactiver : {pro.firstname} {pro.lastname}").click()
    await expect(manager_page.get_by_role("group", name=f"Désactiver : {pro.firstname} {pro.lastname}")).to_contain_text(
        "ne pourra plus se connecter")
    await pro_page.reload()
    await expect(pro_page.get_by_role("alert")).to_have_count(0)
    await manager_page.get_by_role("button", name=f"Confirmer : désactiver {pro.firstname} {pro.lastname}").click()
    await expect(manager_page.get_by_role("status")).to_contain_text("Le compte est désactivé")
    await manager_page.screenshot(path=SCREENSHOTS / "accounts-manager.png", full_page=True)

    await pro_page.reload()
    await expect(pro_page.get_by_role("alert")).to_contain_text("Votre compte a été désactivé")
