"""The notebook page's tabs and inline saving in Chromium (issue 20 item 1), on the demo notebook of Sophie once
Pierre follows it with a plan and an appointment: one panel shows at a time (Situation first), a tab or a link of the summary band shows its panel and the
address keeps it (reload, back); an action's status saves without leaving the page, twice in a row (the row comes
back with its new version, the counter and the history with it: htmx), a stale save is refused in place; without JavaScript every section shows, one after the other."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.async_api import Browser, expect

from testkit.clock import paris_today
from tests.browser.journeys import demo, open_tab, pierre_becomes_referent
from tests.browser.test_every_role_logs_in import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


async def test_the_notebook_shows_one_tab_at_a_time_and_saves_a_status_in_place(system, browser: Browser):
    await demo(system)
    pro = await pierre_becomes_referent(browser, system)
    context = pro.context
    await open_tab(pro, "Parcours")
    await pro.get_by_label("Thème").select_option(label="Logement")
    await pro.get_by_role("button", name="Ajouter un axe de travail").click()
    await pro.get_by_text("Ajouter un objectif (Logement)").click()
    await pro.get_by_label("Objectif", exact=True).select_option(label="Accéder à un logement")
    await pro.get_by_role("button", name="Ajouter l'objectif").click()
    await pro.get_by_text("Ajouter une action à « Accéder à un logement »").click()
    await pro.get_by_label("Sélectionner une action").select_option(label="Actions collectives liées au logement")
    await pro.get_by_role("button", name="Ajouter", exact=True).click()
    await expect(pro.get_by_role("status")).to_have_text("Action ajoutée.")
    await open_tab(pro, "Rendez-vous")
    await pro.get_by_label("Date de rendez-vous").fill((paris_today() + timedelta(days=7)).isoformat())
    await pro.get_by_label("Heure du rendez-vous").fill("10:00")
    await pro.get_by_role("button", name="Ajouter un rendez-vous").click()
    await expect(pro.get_by_role("status")).to_have_text("Rendez-vous enregistré.")
    await pro.goto(pro.url.split("#")[0].split("?")[0])
    notebook_url = pro.url

    tabs = pro.get_by_role("navigation", name="Sections du carnet")
    await expect(tabs.get_by_role("link", name="Situation")).to_have_attribute("aria-current", "true")
    await expect(pro.get_by_role("heading", name="Informations personnelles")).to_be_visible()
    await expect(pro.get_by_role("heading", name="Groupe de suivi")).to_be_visible()
    for hidden in ("Plan d'action", "Rendez-vous", "Historique de parcours"):
        await expect(pro.get_by_role("heading", name=hidden, exact=True)).to_be_hidden()

    await open_tab(pro, "Parcours")
    await expect(pro).to_have_url(f"{notebook_url}#orientation")
    await expect(pro.get_by_role("heading", name="Plan d'action")).to_be_visible()
    await expect(pro.get_by_role("heading", name="Informations personnelles")).to_be_hidden()
    await expect(tabs.get_by_role("link", name="Situation")).not_to_have_attribute("aria-current", "true")

    # An action's status, changed twice without leaving the page (htmx): the second save uses the row's new version.
    # Nothing is refused by the CSP on the way (htmx injects no style, evaluates nothing) nor fails in a script.
    errors = []
    pro.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    pro.on("pageerror", lambda error: errors.append(str(error)))
    await pro.evaluate("window.stayedOnThePage = true")
    plan = pro.locator("#plan")
    row = pro.locator("#" + await plan.locator("tbody tr[id]").first.get_attribute("id"))
    for status, label, counter in (("done", "Réalisée", "Aucune action en cours"),
                                   ("in_progress", "En cours", "1 action en cours")):
        await row.get_by_role("combobox").select_option(label=label)
        await row.get_by_role("button", name="Modifier le statut").click()
        await expect(plan.locator(".inline-status")).to_have_text("Statut mis à jour.")
        await expect(plan.locator("h3").first).to_contain_text(counter)  # the counter, swapped out of band
        await expect(row.get_by_role("combobox")).to_have_value(status)
        await expect(row.get_by_role("button", name="Modifier le statut")).to_be_focused()
        await pro.locator(".inline-status").evaluate("e => { e.textContent = ''; }")  # the next save says it again
    assert errors == []
    # A stale version (saved meanwhile elsewhere) is refused in place: the row as stored, the refusal read out.
    await row.locator("input[name=version]").evaluate("e => { e.value = '1'; }")
    await row.get_by_role("combobox").select_option(label="Réalisée")
    await row.get_by_role("button", name="Modifier le statut").click()
    await expect(plan.locator(".inline-status.inline-refused")).not_to_be_empty()
    await expect(row.get_by_role("combobox")).to_have_value("in_progress")
    assert errors == ["Failed to load resource: the server responded with a status of 409 (Conflict)"]
    assert await pro.evaluate("window.stayedOnThePage === true"), "the page was reloaded"
    assert await pro.evaluate("typeof htmx === 'object' && htmx.version") == "2.0.11"
    await expect(pro.locator("#historique")).to_contain_text("Réalisée → En cours")  # the history too
    await pro.screenshot(path=SCREENSHOTS / "notebook-tab-parcours.png", full_page=True)

    # The summary band's next appointment leads to the Rendez-vous tab; back returns to Parcours.
    await pro.locator('[data-summary="appointment"] a').click()
    await expect(pro).to_have_url(f"{notebook_url}#rendez-vous")
    await expect(tabs.get_by_role("link", name="Rendez-vous")).to_have_attribute("aria-current", "true")
    await expect(pro.get_by_role("heading", name="Rendez-vous", exact=True)).to_be_visible()
    await expect(pro.get_by_role("heading", name="Plan d'action")).to_be_hidden()
    await pro.go_back()
    await expect(tabs.get_by_role("link", name="Parcours")).to_have_attribute("aria-current", "true")
    await expect(pro.get_by_role("heading", name="Plan d'action")).to_be_visible()

    # Reloaded, the address shows the same tab, and the status saved last is the one stored.
    await pro.reload()
    await expect(tabs.get_by_role("link", name="Parcours")).to_have_attribute("aria-current", "true")
    await expect(row.get_by_role("combobox")).to_have_value("in_progress")

    # Without JavaScript the tabs are links and every section shows.
    plain = await browser.new_context(locale="fr-FR", java_script_enabled=False,
                                      storage_state=await context.storage_state())
    page = await plain.new_page()
    await page.goto(notebook_url)
    for shown in ("Informations personnelles", "Plan d'action", "Rendez-vous", "Historique de parcours"):
        await expect(page.get_by_role("heading", name=shown, exact=True)).to_be_visible()
    await page.get_by_role("navigation", name="Sections du carnet").get_by_role("link", name="Historique").click()
    await expect(page).to_have_url(re.compile("#historique$"))
