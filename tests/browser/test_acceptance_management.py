"""Acceptance scenarios of spec §5 that test_acceptance_scenarios left, rewritten for our product (issue 20 item 5),
each asserting what the person sees, with axe-core on every page the journey reaches:
- orientation manager (§5.4 « Modifier le chargé d'orientation »): she assigns a chargé d'orientation to a
  beneficiary from the list; the beneficiary is then in her portfolio and the group shows her role;
- structure admin (§5.6 « importProfessionnels »): he imports his structure's professionals from a file, reviews
  and applies it; they are on the structure's page and each is invited by e-mail;
- structure admin (§5.6 carnet/appointments: a member's appointments managed by another person): he books an
  appointment with a référent of his structure, then changes its status; the référent sees it as his;
- professional (§5.5 contract.feature): the CER's duration is chosen as 12 or 24 months or indeterminate, and the
  period reads with its length."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page, expect

from carnet.demo import DEMO_NOTEBOOKS
from contracts.identity import Role
from testkit.clock import paris_today
from tests.browser.journeys import SOPHIE, demo, open_tab, pierre_becomes_referent, signed_in
from tests.browser.test_accessibility import check, need_axe
from tests.browser.test_every_role_logs_in import SCREENSHOTS, newest_message

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]


async def accessible(page: Page, who: str) -> None:
    """axe-core finds no serious or critical violation on the page as it stands."""
    found: list[str] = []
    await check(page, found, who)
    assert not found, "\n".join(found)


async def test_the_orientation_manager_assigns_a_charge_d_orientation_who_finds_the_beneficiary_in_her_portfolio(
        system, browser: Browser, db_backend):
    if db_backend == "postgresql":
        pytest.skip("the assignment's data is checked on both databases by the notebook service's tests")
    need_axe()
    await demo(system)
    co = await signed_in(browser, system, "orientation@demo.carnet.test", Role.orientation_manager)
    menu = co.get_by_role("navigation", name="Menu principal")
    await menu.get_by_role("link", name="Bénéficiaires").click()
    await co.get_by_label("Mes bénéficiaires seulement").check()
    await co.get_by_role("button", name="Rechercher").click()
    await expect(co.get_by_role("heading", name="0 bénéficiaire")).to_be_visible()

    await menu.get_by_role("link", name="Bénéficiaires").click()
    await co.get_by_label("Sélectionner Myrna HENDERSON").check()
    await co.get_by_label("Nom du chargé d'orientation").select_option(label="Giulia DIABY")
    await accessible(co, "orientation_manager")
    await co.get_by_role("button", name="Assigner un chargé d'orientation").click()
    await expect(co.get_by_role("status")).to_have_text(
        "Le chargé d'orientation est assigné aux bénéficiaires sélectionnés.")

    await co.get_by_label("Mes bénéficiaires seulement").check()
    await co.get_by_role("button", name="Rechercher").click()
    await expect(co.get_by_role("heading", name="1 bénéficiaire")).to_be_visible()
    await co.get_by_role("link", name="HENDERSON Myrna").click()
    group = co.get_by_role("region", name="Groupe de suivi")
    await expect(group.get_by_role("row", name="Giulia DIABY")).to_contain_text("Chargé d'orientation")
    await expect(co.locator("#historique")).to_contain_text("Giulia Diaby devient chargé d'orientation")
    await accessible(co, "orientation_manager")
    await co.screenshot(path=SCREENSHOTS / "acceptance-orientation-manager-assigned.png", full_page=True)


PROFESSIONALS_FILE = ("Courriel*;Prénom*;Nom*;Téléphone;Fonction\r\n"
                      "lea.martin@ccas-livry.fr;Léa;Martin;06 11 22 33 44;Conseillère en insertion\r\n"
                      "omar.haddad@ccas-livry.fr;Omar;Haddad;;Travailleur social\r\n").encode("utf-8-sig")


async def test_a_structure_admin_imports_his_professionals_who_are_invited(system, browser: Browser, db_backend):
    if db_backend == "postgresql":
        pytest.skip("the professionals import is checked on both databases by tests/e2e")
    need_axe()
    await demo(system)
    jacques = await signed_in(browser, system, "structure@demo.carnet.test", Role.admin_structure)
    await jacques.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Imports").click()
    await expect(jacques.get_by_role("heading", level=1)).to_have_text("Imports de fichiers")
    professionals = jacques.locator("section.import-kind").filter(
        has=jacques.get_by_role("heading", name="Professionnels"))
    await expect(professionals.get_by_role("link", name="CSV")).to_have_attribute(
        "href", "/api/v1/imports/templates/professionals.csv")
    await accessible(jacques, "admin_structure")
    await professionals.get_by_label("Fichier à importer").set_input_files(files=[{
        "name": "professionnels.csv", "mimeType": "text/csv", "buffer": PROFESSIONALS_FILE}])
    await jacques.get_by_role("button", name="Importer : Professionnels").click()

    await expect(jacques.get_by_role("heading", name="Vérification avant enregistrement")).to_be_visible(
        timeout=60_000)
    await expect(jacques.get_by_role("main")).to_contain_text("2 ligne(s) applicable(s)")
    await expect(jacques.get_by_role("row", name="Léa")).to_contain_text("Nouveau")
    await accessible(jacques, "admin_structure")
    await jacques.get_by_role("button", name="Appliquer l'import").click()
    await expect(jacques.get_by_role("heading", name="Résultat")).to_be_visible(timeout=120_000)
    await expect(jacques.locator(".tile").filter(has_text="créée(s)")).to_contain_text("2")
    await expect(jacques.locator(".tile").filter(has_text="rejetée(s)")).to_contain_text("0")
    await accessible(jacques, "admin_structure")

    await jacques.get_by_role("link", name="Accueil").first.click()
    await jacques.get_by_role("link", name="Ma structure").click()
    listed = jacques.get_by_role("region", name="Professionnels de la structure")
    await expect(listed).to_contain_text("Léa Martin – lea.martin@ccas-livry.fr – Conseillère en insertion")
    await expect(listed).to_contain_text("Omar Haddad – omar.haddad@ccas-livry.fr – Travailleur social")
    await accessible(jacques, "admin_structure")
    await jacques.screenshot(path=SCREENSHOTS / "acceptance-professionals-imported.png", full_page=True)
    invitation = await newest_message(system, "lea.martin@ccas-livry.fr", 1)
    assert invitation["subject"] == "Votre compte Carnet de bord a été créé"


async def test_a_structure_admin_books_an_appointment_for_a_referent_of_his_structure_and_changes_it(
        system, browser: Browser, db_backend):
    if db_backend == "postgresql":
        pytest.skip("who may book for whom is checked on both databases by the notebook service's tests")
    need_axe()
    await demo(system)
    pro = await pierre_becomes_referent(browser, system)  # Sophie's notebook joins his structure, Jacques's

    jacques = await signed_in(browser, system, "structure@demo.carnet.test", Role.admin_structure)
    await jacques.goto(f"{system.base_url}/carnets/{SOPHIE}")
    await open_tab(jacques, "Rendez-vous")
    appointments = jacques.get_by_role("region", name="Rendez-vous")
    await expect(appointments).to_contain_text("Aucun rendez-vous.")
    day = paris_today() - timedelta(days=1)
    await appointments.get_by_label("Avec", exact=True).select_option(label="Pierre CHEVALIER")
    await appointments.get_by_label("Date de rendez-vous").fill(day.isoformat())
    await appointments.get_by_label("Heures").fill("10")
    await appointments.get_by_label("Minutes").fill("30")
    await appointments.get_by_label("Statut du rendez-vous").select_option(label="Présent")
    await accessible(jacques, "admin_structure")
    await appointments.get_by_role("button", name="Ajouter un rendez-vous").click()
    await expect(jacques.get_by_role("status")).to_have_text("Rendez-vous enregistré.")
    row = appointments.get_by_role("row", name=f"{day:%d/%m/%Y} 10:30")
    await expect(row).to_contain_text("Pierre CHEVALIER")
    await expect(row.get_by_role("combobox")).to_have_value("present")
    await open_tab(jacques, "Situation")
    group = jacques.get_by_role("region", name="Groupe de suivi")
    await expect(group.get_by_role("row", name="Pierre CHEVALIER")).to_contain_text(f"{day:%d/%m/%Y} 10:30")

    # She did not come after all: he changes the status of the référent's appointment.
    await open_tab(jacques, "Rendez-vous")
    await row.get_by_role("combobox").select_option(label="Absent")
    async with jacques.expect_response(lambda r: r.url.endswith("/statut-rendez-vous")) as saved:
        await row.get_by_role("button", name="Modifier").click()  # saved in place, or by the page posted
    assert (await saved.value).status < 400
    await jacques.reload()
    await open_tab(jacques, "Rendez-vous")
    await expect(row.get_by_role("combobox")).to_have_value("absent")
    await accessible(jacques, "admin_structure")
    await jacques.screenshot(path=SCREENSHOTS / "acceptance-structure-admin-appointment.png", full_page=True)

    await pro.goto(f"{system.base_url}/carnets/{SOPHIE}#rendez-vous")
    mine = pro.get_by_role("region", name="Rendez-vous").get_by_role("row", name=f"{day:%d/%m/%Y} 10:30")
    await expect(mine.get_by_role("combobox")).to_have_value("absent")
    await expect(pro.locator("#historique")).to_contain_text(f"Rendez-vous du {day:%d/%m/%Y} à 10:30 : absent")


async def test_the_referent_chooses_the_cer_duration_and_reads_its_length(system, browser: Browser, db_backend):
    if db_backend == "postgresql":
        pytest.skip("a contract's dates are checked on both databases by the notebook service's tests")
    need_axe()
    await demo(system)
    pro = await pierre_becomes_referent(browser, system)
    await open_tab(pro, "Contrats")
    await pro.locator("#contrats").get_by_role("link", name="Préparer un CER ou rattacher un contrat").click()
    await pro.get_by_role("button", name="Préparer un CER").click()
    await expect(pro.get_by_role("status")).to_have_text("Le brouillon du CER est créé à partir du carnet.")
    period = pro.locator("#contract-period")
    await expect(period).to_have_text("Dates à définir")
    await accessible(pro, "professional")

    await pro.get_by_label("Début du contrat").fill("2026-05-20")
    await pro.get_by_label("12 mois").check()
    await pro.get_by_role("button", name="Enregistrer").click()
    await expect(pro.get_by_role("status")).to_have_text("Le CER est enregistré.")
    await expect(pro.get_by_label("Fin du contrat")).to_have_value("2027-05-20")
    await expect(period).to_have_text("Du 20/05/2026 au 20/05/2027 (environ 1 an)")

    await pro.get_by_label("24 mois").check()
    await pro.get_by_role("button", name="Enregistrer").click()
    await expect(pro.get_by_role("status")).to_have_text("Le CER est enregistré.")
    await expect(period).to_have_text("Du 20/05/2026 au 20/05/2028 (environ 2 ans)")

    await pro.get_by_label("6 mois").check()
    await pro.get_by_role("button", name="Enregistrer").click()
    await expect(period).to_have_text("Du 20/05/2026 au 20/11/2026 (environ 6 mois)")

    await pro.get_by_label("Durée indéterminée").check()
    await pro.get_by_role("button", name="Enregistrer").click()
    await expect(pro.get_by_role("status")).to_have_text("Le CER est enregistré.")
    await expect(pro.get_by_label("Fin du contrat")).to_have_value("")
    await expect(period).to_have_text("Depuis le 20/05/2026 (durée indéterminée)")
    await accessible(pro, "professional")

    await pro.get_by_role("link", name="Contrats", exact=True).first.click()
    await expect(pro.get_by_role("row", name="Contrat d'Engagement Réciproque (CER)")).to_contain_text(
        "Depuis le 20/05/2026 (durée indéterminée)")
    await pro.screenshot(path=SCREENSHOTS / "acceptance-cer-duration.png", full_page=True)
