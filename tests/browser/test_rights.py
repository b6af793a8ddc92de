"""The beneficiary's rights in Chromium: from her notebook she opens « Mes données », downloads her data as a PDF and
as JSON, asks a rectification; her référent answers it from the notebook's requests page; she reads the answer."""
from __future__ import annotations

import asyncio
import json

import pytest
from playwright.async_api import Browser, expect

from carnet.demo import DEMO_ACCOUNTS, DEMO_BENEFICIARY_PHONE, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY
from contracts.identity import Role
from tests.browser.test_every_role_logs_in import accept_steps, log_in_by_email, log_in_by_sms

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
SOPHIE = DEMO_NOTEBOOKS.beneficiaries[0].notebook_id


async def test_she_downloads_her_data_and_her_referent_answers_her_rectification(system, browser: Browser):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    pro = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(pro, system, "pro@demo.carnet.test")
    await accept_steps(pro, Role.professional)
    for _ in range(150):  # the professional's orientation systems reach the notebook as events
        await pro.goto(f"{system.base_url}/carnets/{SOPHIE}")
        if await pro.locator("#join-system option").count() > 1:
            break
        await asyncio.sleep(0.2)
    await pro.get_by_label("Oui").check()
    await pro.get_by_label("Dispositif d'accompagnement").select_option(index=1)
    await pro.get_by_role("button", name="Se rattacher").click()

    me = await (await browser.new_context(locale="fr-FR", accept_downloads=True)).new_page()
    await log_in_by_sms(me, system, DEMO_BENEFICIARY_PHONE)
    await accept_steps(me, Role.beneficiary)
    await me.goto(f"{system.base_url}/mon-carnet")
    await me.get_by_role("link", name="Mes données et mes demandes").click()
    await expect(me.get_by_role("heading", name="Mes données", exact=True)).to_be_visible()
    async with me.expect_download() as pdf:
        await me.get_by_role("link", name="Télécharger mes données (PDF)").click()
    assert (await pdf.value).suggested_filename.endswith(".pdf")
    async with me.expect_download() as as_json:
        await me.get_by_role("link", name="Télécharger mes données (JSON)").click()
    with open(await (await as_json.value).path(), encoding="utf-8") as file:
        data = json.load(file)
    assert {s["service"] for s in data["sections"]} == {"notebook", "identity", "notify", "data_import"}

    await me.get_by_label("Quelle information ?").fill("Ville")
    await me.get_by_label("Qu'est-ce qui est inexact ?").fill("J'ai déménagé à Montreuil")
    await me.get_by_label("Que faudrait-il indiquer à la place ?").fill("Montreuil")
    await me.get_by_role("button", name="Demander une rectification").click()
    await expect(me.get_by_role("status")).to_contain_text("Votre demande de rectification est envoyée")
    await expect(me.locator("#mes-demandes")).to_contain_text("En attente de réponse")

    await pro.goto(f"{system.base_url}/carnets/{SOPHIE}")
    await pro.get_by_role("link", name="Voir les demandes de la personne").click()
    await expect(pro.get_by_role("main")).to_contain_text("J'ai déménagé à Montreuil")
    await pro.get_by_label("Réponse à la personne").fill("Votre ville est corrigée.")
    await pro.get_by_role("button", name="Accepter").click()
    await expect(pro.get_by_role("status")).to_contain_text("La réponse est enregistrée")

    await me.reload()
    await expect(me.locator("#mes-demandes")).to_contain_text("Votre ville est corrigée.")
    await expect(me.locator("#mes-demandes")).to_contain_text("Acceptée")
