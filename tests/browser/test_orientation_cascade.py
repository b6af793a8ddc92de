"""« Orienter » in Chromium, with JavaScript and without (issue 20 item 5): the structures offered follow the chosen
orientation system and the professionals the chosen structure — in place with orientation_form.js, in steps (each a
page) without it; a refused choice comes back with the choices and the reason kept and the real cause named."""
from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY
from contracts.identity import Role
from testkit.system import bearer, sign_in
from tests.browser.journeys import open_tab
from tests.browser.test_every_role_logs_in import accept_steps, log_in_by_email
from tests.e2e.test_notebook import orientation_options

pytestmark = pytest.mark.browser
SOPHIE = DEMO_NOTEBOOKS.beneficiaries[0].notebook_id
CCAS = "Centre communal d'action sociale de Livry-Gargan"
OFFERED_STRUCTURES = "#or-structure option:not([hidden])"
OFFERED_REFERENTS = "#or-referent option:not([hidden])"


async def test_the_orientation_choices_cascade_with_and_without_javascript(system, browser: Browser):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    async with system.client() as client:  # a structure offering « Professionnel » only
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        systems = {s["name"]: s["orientation_system_id"] for s in (await client.get(
            "/api/v1/orientation-systems", headers=bearer(manager))).json()["orientation_systems"]}
        created = await client.post("/api/v1/structures", headers=bearer(manager), json={"structure": {
            "name": "Atelier Emploi Bondy", "postal_code": "93140", "city": "Bondy",
            "orientation_system_ids": [systems["Professionnel"]]}})
        assert created.status_code == 201, created.text
        await orientation_options(client, manager, [created.json()["structure_id"]])

    # Without JavaScript: one step a page.
    plain = await browser.new_context(locale="fr-FR", java_script_enabled=False)
    co = await plain.new_page()
    await log_in_by_email(co, system, "orientation@demo.carnet.test")
    await accept_steps(co, Role.orientation_manager)
    await co.goto(f"{system.base_url}/carnets/{SOPHIE}")
    form = co.get_by_role("region", name="Orientation")
    await form.get_by_text("Orienter", exact=True).click()
    await expect(form.locator(OFFERED_STRUCTURES)).to_have_text(["Choisir une structure"])
    await form.get_by_label("Dispositif d'accompagnement").select_option(label="Social")
    await form.get_by_role("button", name="Afficher les structures de ce dispositif").click()
    assert "or_dispositif=" in co.url and co.url.endswith("#orientation")
    await expect(form.locator(OFFERED_STRUCTURES)).to_have_text(["Choisir une structure", CCAS, "Groupe NS"])
    await form.get_by_label("Nom de la structure").select_option(label="Groupe NS")
    await form.get_by_role("button", name="Afficher les professionnels de cette structure").click()
    await expect(form.locator(OFFERED_REFERENTS)).to_have_text(["Pas de référent pour le moment", "Simon Anka"])
    # A structure that lacks the system, with a reason typed: refused, everything kept, the structure named.
    await co.goto(f"{system.base_url}/carnets/{SOPHIE}?or_dispositif={systems['Professionnel']}#orientation")
    await form.get_by_label("Nom de la structure").select_option(label="Atelier Emploi Bondy")
    await form.get_by_label("Dispositif d'accompagnement").select_option(label="Social")
    await form.get_by_label("Motif de l'orientation (facultatif)").fill("Un motif à garder")
    await form.get_by_role("button", name="Valider").click()
    await expect(form.get_by_role("alert")).to_have_text(
        "La structure Atelier Emploi Bondy ne propose pas le dispositif Social.")
    assert "or_refus=1" in co.url
    await expect(form.get_by_label("Dispositif d'accompagnement")).to_have_value(systems["Social"])
    await expect(form.locator("#or-structure option:checked")).to_have_text("Atelier Emploi Bondy")
    await expect(form.get_by_label("Motif de l'orientation (facultatif)")).to_have_value("Un motif à garder")

    # With JavaScript: the same lists filter in place, no step buttons.
    live = await browser.new_context(locale="fr-FR", storage_state=await plain.storage_state())
    co = await live.new_page()
    await co.goto(f"{system.base_url}/carnets/{SOPHIE}")
    await open_tab(co, "Parcours")
    form = co.get_by_role("region", name="Orientation")
    await form.get_by_text("Orienter", exact=True).click()
    await expect(form.get_by_role("button", name="Afficher les structures de ce dispositif")).to_be_hidden()
    await form.get_by_label("Dispositif d'accompagnement").select_option(label="Professionnel")
    await expect(form.locator(OFFERED_STRUCTURES)).to_have_text(
        ["Choisir une structure", "Atelier Emploi Bondy", CCAS, "Groupe NS"])
    await form.get_by_label("Dispositif d'accompagnement").select_option(label="Social")
    await expect(form.locator(OFFERED_STRUCTURES)).to_have_text(["Choisir une structure", CCAS, "Groupe NS"])
    await form.get_by_label("Nom de la structure").select_option(label=CCAS)
    await expect(form.locator(OFFERED_REFERENTS)).to_have_text(["Pas de référent pour le moment", "Pierre Chevalier"])
    await form.get_by_label("Nom de la structure").select_option(label="Groupe NS")
    await expect(form.locator(OFFERED_REFERENTS)).to_have_text(["Pas de référent pour le moment", "Simon Anka"])
    await form.get_by_label("Nom du référent (facultatif)").select_option(label="Simon Anka")
    await form.get_by_role("button", name="Valider").click()
    await expect(co.get_by_role("status").first).to_have_text("L'orientation est enregistrée.")
    await expect(co.locator("#orientation")).to_contain_text("Dispositif d'accompagnement : Social")
