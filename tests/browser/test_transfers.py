"""A notebook moves to another territory in Chromium: the demo territory's manager asks, from Sophie's notebook, that
it go to the Isère (she moved); the Isère's manager, just invited, accepts from « Transferts » and opens it with its
history; the demo manager no longer finds it and sees the transfer accepted."""
from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, expect

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY
from contracts.identity import Role
from testkit.system import bearer, sign_in
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, log_in_by_email

pytestmark = pytest.mark.browser
SOPHIE = DEMO_NOTEBOOKS.beneficiaries[0].notebook_id
ISERE_MANAGER = "gestion@cd38.fr"


async def test_a_manager_transfers_a_notebook_and_the_destination_accepts_it(system, browser: Browser):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with system.client() as client:
        admin = await sign_in(system, client, "admin@demo.carnet.test")
        created = await client.post("/api/v1/deployments", headers=bearer(admin), json={
            "label": "Isère", "department_code": "38",
            "manager": {"firstname": "Inès", "lastname": "Gestion", "email": ISERE_MANAGER}})
        assert created.status_code == 201, created.text
        [invitation] = await system.mailbox(client, ISERE_MANAGER)

    destination = await (await browser.new_context(locale="fr-FR")).new_page()
    await destination.goto(invitation["links"][0])
    await destination.get_by_role("button", name="Continuer sur Carnet de bord").click()
    await accept_steps(destination, Role.manager)
    origin = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(origin, system, "manager@demo.carnet.test")
    await accept_steps(origin, Role.manager)

    await origin.goto(f"{system.base_url}/carnets/{SOPHIE}")
    await origin.get_by_role(
        "link", name="Transférer le carnet ou inviter un professionnel d'un autre territoire").click()
    for _ in range(150):  # the new territory reaches the notebook service as an event
        if await origin.locator("#to-territory option", has_text="Isère").count():
            break
        await asyncio.sleep(0.2)
        await origin.reload()
    await origin.get_by_label("Territoire de destination").select_option(label="Isère (38)")
    await origin.get_by_label("Motif", exact=True).fill("Déménagement à Grenoble")
    await origin.get_by_role("button", name="Demander le transfert").click()
    await expect(origin.get_by_role("status")).to_have_text(
        "La demande de transfert est envoyée au territoire de destination.")
    await expect(origin.get_by_role("main")).to_contain_text("En attente de décision")

    await destination.goto(f"{system.base_url}/")
    await destination.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Transferts").click()
    await expect(destination.get_by_role("main")).to_contain_text("Sophie Tifour")
    await destination.get_by_role("button", name="Accepter le transfert").click()
    await expect(destination.get_by_role("status")).to_have_text(
        "Le transfert est accepté : le carnet appartient désormais à votre territoire.")
    await destination.screenshot(path=SCREENSHOTS / "transfer-accepted.png", full_page=True)
    await destination.goto(f"{system.base_url}/carnets/{SOPHIE}")
    await expect(destination.get_by_role("main")).to_contain_text("Carnet transféré de")

    response = await origin.goto(f"{system.base_url}/carnets/{SOPHIE}")
    assert response.status == 404
    await expect(origin.get_by_role("main")).to_contain_text("Aucun carnet ne correspond")
    await origin.goto(f"{system.base_url}/transferts")
    await expect(origin.get_by_role("main")).to_contain_text("Accepté")
