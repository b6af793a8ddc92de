"""The done-when of the notebook, in Chromium: a professional of the demo territory finds a beneficiary, joins as
référent, fills the diagnostic and a work axis with an objective and an action, books an appointment; a
professional of another structure sees only the public card; the beneficiary reads all of it and who looked."""
from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from carnet.demo import DEMO_ACCOUNTS, DEMO_BENEFICIARY_PHONE, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY
from contracts.identity import Role
from tests.browser.journeys import open_tab
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, log_in_by_email, log_in_by_sms

pytestmark = pytest.mark.browser
SOPHIE = DEMO_NOTEBOOKS.beneficiaries[0].notebook_id


async def test_a_professional_follows_a_beneficiary_who_reads_it_all(system, browser: Browser):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(page, system, "pro@demo.carnet.test")
    await accept_steps(page, Role.professional)
    await page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Bénéficiaires").click()
    await page.get_by_label("Rechercher un bénéficiaire").fill("tifour")
    await page.get_by_role("button", name="Rechercher").click()
    await page.get_by_role("link", name="TIFOUR Sophie").click()
    await expect(page.get_by_role("main")).to_contain_text("fiche publique")
    await expect(page.get_by_role("heading", name="Plan d'action")).to_have_count(0)

    await page.get_by_label("Oui").check()
    await page.get_by_label("Dispositif d'accompagnement").select_option(label="Professionnel")
    await page.get_by_role("button", name="Se rattacher").click()
    await expect(page.get_by_role("status")).to_have_text("Vous êtes rattaché(e) à ce carnet.")
    await expect(page.get_by_role("cell", name="Référent (dispositif Professionnel)")).to_be_visible()

    await open_tab(page, "Parcours")
    await page.get_by_text("Mettre à jour le diagnostic socioprofessionnel").click()
    # What is chosen before searching a métier is still there after the search (v1 reloaded and lost it).
    await page.get_by_label("Situation actuelle").select_option(label="En recherche d'emploi")
    await page.get_by_label("Hébergé chez un tiers").check()
    await page.get_by_label("Rechercher un métier ou un code ROME").fill("dev info")
    await page.evaluate("window.stayedOnThePage = true")
    await page.get_by_role("button", name="Rechercher").click()
    # htmx replaces the métier choices only (the page stays, what was typed too) and says what it found.
    await expect(page.locator("#metier-resultat")).to_contain_text("trouvé")
    await expect(page.locator("#metier-resultat")).to_contain_text("« dev info »")
    assert await page.evaluate("window.stayedOnThePage === true"), "the search reloaded the page"
    await page.screenshot(path=SCREENSHOTS / "notebook-rome-search.png", full_page=True)
    await expect(page.get_by_label("Situation actuelle")).to_have_value("recherche_emploi")
    await expect(page.get_by_label("Hébergé chez un tiers")).to_be_checked()
    await expect(page.get_by_label("Rechercher un métier ou un code ROME")).to_have_value("dev info")
    await page.get_by_label("Nouveau projet : métier").select_option(
        label="Développeur / Développeuse informatique (M1805)")
    await page.get_by_label("Ne pas ajouter de projet").uncheck()
    await page.get_by_label("Zone de mobilité (km)").fill("15")
    await page.get_by_role("button", name="Enregistrer le diagnostic").click()
    await expect(page.get_by_role("status")).to_have_text("Diagnostic socioprofessionnel enregistré.")
    diagnostic = page.locator("#diagnostic")
    await expect(diagnostic).to_contain_text("Développeur / Développeuse informatique (M1805)")
    await expect(diagnostic).to_contain_text("Zone de mobilité : 15 km")
    await expect(diagnostic).to_contain_text("Hébergé chez un tiers")

    await page.get_by_label("Thème").select_option(label="Logement")
    await page.get_by_role("button", name="Ajouter un axe de travail").click()
    await expect(page.get_by_role("status")).to_have_text("Nouvel axe de travail créé !")
    await page.get_by_text("Ajouter un objectif (Logement)").click()
    await page.get_by_label("Objectif", exact=True).select_option(label="Accéder à un logement")
    await page.get_by_role("button", name="Ajouter l'objectif").click()
    await page.get_by_text("Ajouter une action à « Accéder à un logement »").click()
    await page.get_by_label("Sélectionner une action").select_option(label="Actions collectives liées au logement")
    await page.get_by_role("button", name="Ajouter", exact=True).click()
    plan = page.locator("#plan")
    await expect(plan).to_contain_text("1 action en cours")
    await expect(plan.get_by_role("cell", name="Actions collectives liées au logement", exact=True)).to_be_visible()

    await open_tab(page, "Rendez-vous")
    await page.get_by_label("Date de rendez-vous").fill("2026-12-01")
    await page.get_by_label("Heure du rendez-vous").fill("15:45")
    await page.get_by_role("button", name="Ajouter un rendez-vous").click()
    await expect(page.locator("#rendez-vous")).to_contain_text("01/12/2026 15:45")
    await expect(page.locator("#historique")).to_contain_text("Action ajoutée : Actions collectives liées au logement")
    await page.screenshot(path=SCREENSHOTS / "notebook-professional.png", full_page=True)

    # Without JavaScript the search posts the form, and the page comes back with the choices and what was typed.
    plain = await (await browser.new_context(locale="fr-FR", java_script_enabled=False,
                                             storage_state=await page.context.storage_state())).new_page()
    await plain.goto(f"{system.base_url}/carnets/{SOPHIE}")
    await plain.get_by_text("Mettre à jour le diagnostic socioprofessionnel").click()
    await plain.get_by_label("Date de fin du dernier emploi").fill("2025-06-30")
    await plain.get_by_label("Rechercher un métier ou un code ROME").fill("dev info")
    await plain.get_by_role("button", name="Rechercher").click()
    await expect(plain.locator("#metier-resultat")).to_contain_text("« dev info »")
    await expect(plain.get_by_label("Date de fin du dernier emploi")).to_have_value("2025-06-30")
    await expect(plain.get_by_label("Nouveau projet : métier")).to_contain_text("(M1805)")

    other = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(other, system, "pro2@demo.carnet.test")
    await accept_steps(other, Role.professional)
    await other.goto(f"{system.base_url}/carnets/{SOPHIE}")
    await expect(other.get_by_role("main")).to_contain_text("fiche publique")
    await expect(other.get_by_role("cell", name="Référent (dispositif Professionnel)")).to_be_visible()
    for hidden in ("Diagnostic socioprofessionnel", "Plan d'action", "Historique de parcours"):
        await expect(other.get_by_role("heading", name=hidden)).to_have_count(0)
    await expect(other.get_by_role("main")).not_to_contain_text("Accéder à un logement")

    beneficiary = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_sms(beneficiary, system, DEMO_BENEFICIARY_PHONE)
    await accept_steps(beneficiary, Role.beneficiary)
    await beneficiary.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mon carnet").click()
    main = beneficiary.get_by_role("main")
    await expect(beneficiary.get_by_role("heading", level=1)).to_have_text("Mon carnet de bord")
    for seen in ("pro@demo.carnet.test", "Développeur / Développeuse informatique (M1805)", "Accéder à un logement",
                 "Actions collectives liées au logement", "01/12/2026 15:45"):
        await expect(main).to_contain_text(seen)
    visits = beneficiary.locator("#consultations")
    await expect(visits).to_contain_text("Pierre Chevalier")
    await expect(visits).to_contain_text("Simon Anka")
    await beneficiary.get_by_text("Mettre à jour les informations personnelles").click()
    await beneficiary.get_by_label("Téléphone").fill("07 81 22 33 44")
    await beneficiary.get_by_role("button", name="Enregistrer").click()
    await expect(beneficiary.get_by_role("status")).to_have_text("Informations mises à jour.")
    await expect(main).to_contain_text("07 81 22 33 44")
    await beneficiary.screenshot(path=SCREENSHOTS / "notebook-beneficiary.png", full_page=True)

    history = beneficiary.locator("#historique")
    await expect(history).to_contain_text("Informations personnelles mises à jour : téléphone")
    await open_tab(beneficiary, "Historique")
    await beneficiary.get_by_label("Auteur").select_option(label="Pierre Chevalier")
    await beneficiary.get_by_role("button", name="Filtrer").click()
    await expect(history).to_contain_text("Action ajoutée : Actions collectives liées au logement")
    await expect(history).not_to_contain_text("Informations personnelles mises à jour")


async def test_a_manager_assigns_a_referent_to_several_beneficiaries_from_the_list(system, browser: Browser):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    page = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(page, system, "manager@demo.carnet.test")
    await accept_steps(page, Role.manager)
    await page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Bénéficiaires").click()
    await expect(page.get_by_role("main")).to_contain_text("Bénéficiaires non accompagnés")
    await page.get_by_label("Sélectionner Myrna HENDERSON").check()
    await page.get_by_label("Sélectionner Lindsay AGUILAR").check()
    await page.get_by_label("Nom du référent").select_option(
        label="Pierre CHEVALIER – Centre communal d'action sociale de Livry-Gargan")
    await page.get_by_role("button", name="Rattacher").click()
    await expect(page.get_by_role("status")).to_have_text("Le référent est désigné pour les bénéficiaires sélectionnés.")
    await page.get_by_label("Statut").select_option(label="Accompagné")
    await page.get_by_role("button", name="Rechercher").click()
    rows = page.get_by_role("row")
    await expect(rows).to_have_count(3)  # the header and the two beneficiaries
    await expect(page.get_by_role("table")).to_contain_text("Pierre Chevalier")
    await page.screenshot(path=SCREENSHOTS / "beneficiaries-manager.png", full_page=True)
