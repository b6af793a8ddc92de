"""Orientation in Chromium (spec §5, orientation manager): the référent asks for a reorientation; the orientation
manager finds it with the list filter and reorients the beneficiary to another structure and référent."""
from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY
from contracts.identity import Role
from tests.browser.journeys import open_tab
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, log_in_by_email

pytestmark = pytest.mark.browser
SOPHIE = DEMO_NOTEBOOKS.beneficiaries[0].notebook_id


async def test_a_referent_asks_for_a_reorientation_and_the_orientation_manager_reorients(system, browser: Browser):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    pro = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(pro, system, "pro@demo.carnet.test")
    await accept_steps(pro, Role.professional)
    await pro.goto(f"{system.base_url}/carnets/{SOPHIE}")
    await pro.get_by_label("Oui").check()
    await pro.get_by_label("Dispositif d'accompagnement").select_option(label="Professionnel")
    await pro.get_by_role("button", name="Se rattacher").click()
    await expect(pro.get_by_role("status")).to_have_text("Vous êtes rattaché(e) à ce carnet.")
    await open_tab(pro, "Parcours")
    await pro.get_by_text("Demander une réorientation").click()
    await pro.get_by_label("Motif de demande de réorientation").fill("Réorientation requise")
    await pro.get_by_label("Orientation recommandée").select_option(label="Social")
    await pro.get_by_role("button", name="Envoyer ma demande").click()
    await expect(pro.get_by_role("status").first).to_have_text("Demande de réorientation envoyée.")
    orientation = pro.locator("#orientation")
    await expect(orientation).to_contain_text("Orientation recommandée : Social")
    await expect(pro.get_by_text("Demander une réorientation")).to_have_count(0)

    co = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(co, system, "orientation@demo.carnet.test")
    await accept_steps(co, Role.orientation_manager)
    await co.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Bénéficiaires").click()
    await co.get_by_label("Statut").select_option(label="Avec une demande de réorientation")
    await co.get_by_role("button", name="Rechercher").click()
    await expect(co.get_by_role("heading", name="1 bénéficiaire")).to_be_visible()
    await co.get_by_role("link", name="TIFOUR Sophie").click()
    await expect(co.locator("#orientation")).to_contain_text("Motif : Réorientation requise")
    await open_tab(co, "Parcours")
    form = co.get_by_role("region", name="Orientation")
    await form.get_by_text("Réorienter", exact=True).click()
    await form.get_by_label("Dispositif d'accompagnement").select_option(label="Social")
    await form.get_by_label("Nom de la structure").select_option(label="Groupe NS")
    await form.get_by_label("Nom du référent (facultatif)").select_option(label="Simon Anka")
    await form.get_by_label("Motif de l'orientation (facultatif)").fill("Un accompagnement social renforcé")
    await form.get_by_role("button", name="Valider").click()
    await expect(co.get_by_role("status").first).to_have_text("L'orientation est enregistrée.")
    orientation = co.locator("#orientation")
    await expect(orientation).to_contain_text("Demande de réorientation acceptée")
    await expect(orientation).to_contain_text("Dispositif d'accompagnement : Social")
    await open_tab(co, "Situation")
    await expect(co.get_by_role("cell", name="Référent (dispositif Social)")).to_be_visible()
    await co.screenshot(path=SCREENSHOTS / "notebook-orientation-manager.png", full_page=True)

    # Orientation in bulk from the list: the four demo beneficiaries in one decision; Sophie, already oriented so,
    # (same system, structure, référent and reason) is refused with the reason, the three others are oriented.
    await co.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Bénéficiaires").click()
    await co.get_by_label("Statut").select_option(label="Tous")
    await co.get_by_role("button", name="Rechercher").click()
    await expect(co.get_by_role("heading", name="4 bénéficiaires")).to_be_visible()
    await co.get_by_role("link", name="Orienter plusieurs bénéficiaires").click()
    await expect(co.locator("#bulk-system")).to_be_visible()
    await expect(co.get_by_role("heading", name="4 bénéficiaires")).to_be_visible()  # the same search
    await co.get_by_label("Sélectionner tous les bénéficiaires de cette page").check()
    await co.locator("#bulk-system").select_option(label="Social")
    await co.locator("#bulk-structure").select_option(label="Groupe NS")
    await co.locator("#bulk-referent").select_option(label="Simon Anka")
    await co.locator("#bulk-reason").fill("Un accompagnement social renforcé")
    await co.get_by_role("button", name="Orienter les bénéficiaires").click()
    await expect(co.get_by_role("heading", level=1)).to_have_text("Résultat de l'orientation")
    await expect(co.get_by_role("status")).to_contain_text("3 bénéficiaires orientés, 1 refusé.")
    await expect(co.get_by_role("main")).to_contain_text("Déjà orienté")
    await co.screenshot(path=SCREENSHOTS / "bulk-orientation-result.png", full_page=True)
