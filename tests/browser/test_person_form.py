"""« Ajouter une personne » in real Chromium (issue 20 walkthrough): the dispositifs offered follow the structure
chosen (static/person_form.js), one no longer offered is unticked and never sent, the step button of the page
without JavaScript is gone. The gateway runs in-process with the fake bus of the unit tests: two structures, the
Mission locale offering « Emploi », the CCAS « Emploi » and « Social »."""
from __future__ import annotations

import pytest
from playwright.async_api import expect

from contracts.directory import CreatePersonV1
from services.gateway.tests.test_person_add_systems import CCAS, SOCIAL, territory_rpc
from servicekit.errors import Invalid
from tests.browser.in_process import gateway_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


async def test_the_dispositifs_follow_the_structure_chosen(browser):
    rpc = territory_rpc({CreatePersonV1: Invalid("Cette adresse e-mail est déjà utilisée.")})
    async with gateway_page(browser, rpc, "/territoire/personnes", 375) as page:
        form = page.locator("form[data-person-form]")
        systems = form.get_by_role("group", name="Dispositifs pour lesquels le professionnel est habilité")
        await expect(form.get_by_role("button", name="Afficher les dispositifs de cette structure")).to_have_count(0)
        await expect(systems.get_by_role("checkbox")).to_have_count(0)
        await expect(systems).to_contain_text("Choisissez la structure du professionnel")

        await form.get_by_label("Structure").select_option(label="CCAS")
        await expect(systems.get_by_role("checkbox")).to_have_count(2)
        await systems.get_by_label("Social").check()
        await form.get_by_label("Structure").select_option(label="Mission locale")
        await expect(systems.get_by_role("checkbox")).to_have_count(1)
        await expect(systems.get_by_label("Emploi")).to_be_visible()
        await form.get_by_label("Structure").select_option(label="CCAS")
        await expect(systems.get_by_label("Social")).not_to_be_checked()  # unticked when it was hidden

        await systems.get_by_label("Social").check()
        await form.get_by_label("Prénom").fill("Léa")
        await form.get_by_label("Nom", exact=True).fill("Pro")
        await form.get_by_label("Adresse e-mail").fill("lea@ccas.fr")
        await form.get_by_label("Prénom").press("Enter")  # Enter adds the person: the step button is gone
        await expect(page.get_by_role("alert")).to_contain_text("déjà utilisée")
        [sent] = rpc.sent(CreatePersonV1)
        assert sent.structure_ids == [CCAS] and sent.orientation_system_ids == [SOCIAL.orientation_system_id]
        systems = page.locator("form[data-person-form]").get_by_role(
            "group", name="Dispositifs pour lesquels le professionnel est habilité")
        await expect(systems.get_by_label("Social")).to_be_checked()
        await expect(systems.get_by_label("Emploi")).not_to_be_checked()
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375
