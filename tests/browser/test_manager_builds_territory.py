"""The done-when of the directory: a manager builds their territory from the pages, each new person is
invited and logs in, and a manager of another territory sees none of it."""
from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Browser, expect

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_TERRITORY
from contracts.directory import DemoPerson, PersonFields, SeedDemoTerritoryV1
from contracts.identity import Role
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, log_in_by_email, newest_message

pytestmark = pytest.mark.browser


async def test_a_manager_builds_the_territory_from_the_pages(system, browser: Browser):
    manager = next(a for a in DEMO_ACCOUNTS if a.role == Role.manager)
    await system.seed(manager, deployments=DEMO_DEPLOYMENTS)
    await system.call(SeedDemoTerritoryV1(
        deployment_id=DEMO_TERRITORY.deployment_id, label=DEMO_TERRITORY.label, department_code="93",
        people=[p for p in DEMO_TERRITORY.people if p.role == "manager"]))
    page = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(page, system, manager.email)
    await accept_steps(page, manager.role)

    await page.get_by_role("link", name="État du territoire").click()
    await page.get_by_label("Nom du nouveau dispositif").fill("Garantie jeunes")
    await page.get_by_role("button", name="Ajouter le dispositif").click()
    await expect(page.get_by_role("status")).to_have_text("Le dispositif d'accompagnement est ajouté.")
    await expect(page.get_by_role("main")).to_contain_text("Garantie jeunes")

    await page.get_by_role("navigation", name="Rubriques du territoire").get_by_role("link", name="Structures").click()
    await page.get_by_label("Nom de la structure").fill("Mission locale de Bondy")
    await page.get_by_label("SIRET").fill("732 829 320 00075")
    await page.get_by_label("Code postal", exact=True).fill("93140")
    await page.get_by_label("Ville", exact=True).fill("Bondy")
    await page.get_by_label("Garantie jeunes").check()
    await page.get_by_role("button", name="Ajouter la structure").click()
    await expect(page.get_by_role("alert")).to_contain_text("clé de contrôle")
    await page.get_by_label("SIRET").fill("732 829 320 00074")
    await page.get_by_role("button", name="Ajouter la structure").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mission locale de Bondy")
    await expect(page.get_by_role("status")).to_have_text("La structure est créée.")

    await page.get_by_label("Prénom").first.fill("Élodie")
    await page.get_by_label("Nom", exact=True).first.fill("Dupré")
    await page.get_by_label("Adresse e-mail").first.fill("elodie.dupre@ml-bondy.fr")
    await page.get_by_role("button", name="Ajouter et inviter").click()
    await expect(page.get_by_role("status")).to_contain_text("une invitation à se connecter vient de lui être envoyée")
    await page.screenshot(path=SCREENSHOTS / "structure-manager.png", full_page=True)

    await page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Annuaire").click()
    await page.get_by_label("Nom, structure, ville ou code postal").fill("elodie bondy")
    await page.get_by_role("button", name="Rechercher").click()
    await expect(page.get_by_role("cell", name="Élodie Dupré")).to_be_visible()

    invitation = await newest_message(system, "elodie.dupre@ml-bondy.fr", 1)
    assert invitation["subject"] == "Votre compte Carnet de bord a été créé"
    pro_page = await (await browser.new_context(locale="fr-FR")).new_page()
    await pro_page.goto(invitation["links"][0])
    await pro_page.get_by_role("button", name="Continuer sur Carnet de bord").click()
    await accept_steps(pro_page, Role.professional)
    await expect(pro_page.get_by_role("heading", level=1)).to_contain_text("Élodie Dupré")


async def test_a_manager_of_another_territory_sees_none_of_it(system, browser: Browser):
    other_email = "marc@cd51.fr"
    await system.seed(*[a for a in DEMO_ACCOUNTS if a.role != Role.beneficiary], deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    d51 = DEMO_TERRITORY.model_copy(update={
        "deployment_id": uuid.uuid4(), "label": "Démo 51", "department_code": "51", "structures": [],
        "people": [DemoPerson(person_id=uuid.uuid4(), role="manager",
                              person=PersonFields(firstname="Marc", lastname="Marne", email=other_email))]})
    await system.call(d51)
    page = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(page, system, other_email)  # the account comes from directory's event
    await accept_steps(page, Role.manager)
    await page.get_by_role("link", name="Structures").first.click()
    await expect(page.get_by_role("main")).to_contain_text("0 structure")
    await page.goto(f"{system.base_url}/territoire/structures/{DEMO_TERRITORY.structures[0].structure_id}")
    await expect(page.get_by_role("alert")).to_contain_text("pas le droit")
