"""Acceptance scenarios of spec §5 that test_acceptance_scenarios left, rewritten for our product (issue 20 item 5),
each asserting what the person sees, with axe-core on every page the journey reaches:
- orientation manager (§5.4 « Modifier le chargé d'orientation »): she assigns a chargé d'orientation to a
  beneficiary from the list; the beneficiary is then in her portfolio and the group shows her role;
- structure admin (§5.6 « importProfessionnels »): he imports his structure's professionals from a file, reviews
  and applies it; they are on the structure's page and each is invited by e-mail;
- structure admin (§5.6 carnet/appointments: a member's appointments managed by another person): he books an
  appointment with a référent of his structure, then changes its status; the référent sees it as his;
- professional (§5.5 contract.feature): the CER's duration is chosen as 12 or 24 months or indeterminate, and the
  period reads with its length;
- administrator (§5.2 déploiement, add_manager, remove_manager): she opens a territory with its first manager, adds a
  second one, deactivates the first;
- manager (§5.3 importStructures, importOrientationManager): structures with their admins, then chargés
  d'orientation from a file whose wrong rows say why; she validates a sign-up request (§5.3 validateAccount), and the
  professional signs in;
- structure admin (§5.6 « Modifier plusieurs rattachements »): two beneficiaries oriented to his structure without a
  référent wait in his list; he gives them one of his professionals, the only ones offered;
- manager (§5.3 updateStructure, editOrientationSystems): she moves a structure and withdraws one of its orientation
  systems; the list shows the new town and no longer finds it under that system;
- structure admin (§5.6 deleteProfessional): he deactivates a professional from his structure's page, whose open
  page then says so;
- professional (§5.5 professional_projects « Ajout de plusieurs projets »): two projects with their mobility, wage,
  contract and working time; the wage under the SMIC is flagged."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page, expect

from carnet.demo import DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS
from contracts.identity import Role
from testkit.clock import paris_today
from tests.browser.journeys import (SOPHIE, demo_journey, open_bulk_orientation, open_tab, pierre_becomes_referent,
                                   signed_in)
from tests.browser.test_accessibility import check
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, newest_message

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]
# The journeys run once, on SQLite: what they store is the services' own tests' business, on both databases.
CCAS = "Centre communal d'action sociale de Livry-Gargan"


async def accessible(page: Page, who: str) -> None:
    """axe-core finds no serious or critical violation on the page as it stands. The check unfolds every
    confirmation and shows every tab: they are folded and hidden again after, as the person left them."""
    await page.evaluate("""() => {
      document.querySelectorAll('details:not([open])').forEach(d => { d.dataset.axeClosed = '1'; });
      document.querySelectorAll('[data-tab-panel][hidden]').forEach(p => { p.dataset.axeHidden = '1'; }); }""")
    found: list[str] = []
    await check(page, found, who)
    await page.evaluate("""() => {
      document.querySelectorAll('[data-axe-closed]').forEach(d => { d.open = false; delete d.dataset.axeClosed; });
      document.querySelectorAll('[data-axe-hidden]').forEach(p => { p.hidden = true; delete p.dataset.axeHidden; });
    }""")
    assert not found, "\n".join(found)


async def test_the_orientation_manager_assigns_a_charge_d_orientation_who_finds_the_beneficiary_in_her_portfolio(
        system, browser: Browser):
    await demo_journey(system)
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


async def test_a_structure_admin_imports_his_professionals_who_are_invited(system, browser: Browser):
    await demo_journey(system)
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
    await expect(listed).to_contain_text("Léa Martin – lea.martin@ccas-livry.fr – 06 11 22 33 44 – Conseillère en insertion")
    await expect(listed).to_contain_text("Omar Haddad – omar.haddad@ccas-livry.fr – Travailleur social")
    await accessible(jacques, "admin_structure")
    await jacques.screenshot(path=SCREENSHOTS / "acceptance-professionals-imported.png", full_page=True)
    invitation = await newest_message(system, "lea.martin@ccas-livry.fr", 1)
    assert invitation["subject"] == "Votre compte Carnet de bord a été créé"


async def test_a_structure_admin_books_an_appointment_for_a_referent_of_his_structure_and_changes_it(
        system, browser: Browser):
    await demo_journey(system)
    pro = await pierre_becomes_referent(browser, system)  # Sophie's notebook joins his structure, Jacques's

    jacques = await signed_in(browser, system, "structure@demo.carnet.test", Role.admin_structure)
    await jacques.goto(f"{system.base_url}/carnets/{SOPHIE}")
    await open_tab(jacques, "Rendez-vous")
    appointments = jacques.get_by_role("region", name="Rendez-vous")
    await expect(appointments).to_contain_text("Aucun rendez-vous.")
    day = paris_today() - timedelta(days=1)
    await appointments.get_by_label("Avec", exact=True).select_option(label="Pierre CHEVALIER")
    await appointments.get_by_label("Date de rendez-vous").fill(day.isoformat())
    await appointments.get_by_label("Heure du rendez-vous").fill("10:30")
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


async def test_the_referent_chooses_the_cer_duration_and_reads_its_length(system, browser: Browser):
    await demo_journey(system)
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


async def test_the_administrator_opens_a_territory_adds_a_manager_and_deactivates_him(system, browser: Browser):
    await demo_journey(system)
    admin = await signed_in(browser, system, "admin@demo.carnet.test", Role.admin_cdb)
    await admin.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Territoires").click()
    await admin.get_by_label("Nom du territoire").fill("Expérimentation Drôme")
    await admin.get_by_label("Code du département").fill("26")
    await admin.get_by_label("Prénom").fill("Gérard")
    await admin.get_by_label("Nom", exact=True).fill("Manvol")
    await admin.get_by_label("Adresse e-mail").fill("gerard.manvol@ladrome.fr")
    await accessible(admin, "admin_cdb")
    await admin.get_by_role("button", name="Ouvrir le territoire").click()
    await expect(admin.get_by_role("status")).to_have_text(
        "Le territoire est ouvert : son gestionnaire reçoit une invitation par e-mail.")
    await expect(admin.get_by_role("heading", level=1)).to_have_text("État du territoire : Expérimentation Drôme (26)")
    await expect(admin.get_by_role("main")).to_contain_text("Gérard Manvol – gerard.manvol@ladrome.fr")
    await accessible(admin, "admin_cdb")

    await admin.get_by_role("navigation", name="Rubriques du territoire").get_by_role("link", name="Personnes").click()
    await admin.get_by_label("Rôle", exact=True).last.select_option(label="Gestionnaire du territoire")
    form = admin.locator("section", has=admin.get_by_role("heading", name="Ajouter une personne"))
    await form.get_by_label("Prénom").fill("Juste")
    await form.get_by_label("Nom", exact=True).fill("Leblanc")
    await form.get_by_label("Adresse e-mail").fill("juste.leblanc@ladrome.fr")
    await form.get_by_role("button", name="Ajouter et inviter").click()
    await expect(admin.get_by_role("status")).to_contain_text("Juste Leblanc est enregistré(e)")
    await expect(admin.get_by_role("row", name="Juste Leblanc")).to_contain_text("Gestionnaire du territoire")
    assert (await newest_message(system, "juste.leblanc@ladrome.fr", 1))["links"]
    await accessible(admin, "admin_cdb")

    await admin.locator("summary", has_text="Désactiver : Gérard Manvol").click()
    await admin.get_by_role("button", name="Confirmer : désactiver Gérard Manvol").click()
    await expect(admin.get_by_role("status")).to_contain_text("Gérard Manvol est désactivé(e)")
    await admin.get_by_role("navigation", name="Rubriques du territoire").get_by_role(
        "link", name="Expérimentation Drôme").click()
    managers = admin.get_by_role("main")
    await expect(managers).to_contain_text("Juste Leblanc – juste.leblanc@ladrome.fr")
    await expect(managers).not_to_contain_text("gerard.manvol@ladrome.fr")
    await admin.screenshot(path=SCREENSHOTS / "acceptance-admin-territory.png", full_page=True)


STRUCTURES_FILE = ("Nom*;Code postal*;Ville*;Courriel responsable*;Prénom responsable;Nom responsable\r\n"
                   "Maison de l'emploi de Bobigny;93000;Bobigny;alain.terieur@mde-bobigny.fr;Alain;Térieur\r\n"
                   "Maison de l'emploi de Bobigny;93000;Bobigny;alex.terieur@mde-bobigny.fr;Alex;Térieur\r\n"
                   ).encode("utf-8-sig")
ORIENTATION_MANAGERS_FILE = ("Courriel*;Prénom;Nom\r\n"
                             "samy.rouate@cd93.fr;Samy;Rouate\r\n"
                             "justine.titegoute;Justine;Titegoute\r\n"
                             ";Sarah;Porte\r\n").encode("utf-8-sig")


async def upload(page: Page, kind: str, name: str, content: bytes) -> None:
    """Sends a file from /imports and waits for its review."""
    await page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Imports").click()
    section = page.locator("section.import-kind").filter(has=page.get_by_role("heading", name=kind, exact=True))
    await section.get_by_label("Fichier à importer").set_input_files(files=[{
        "name": name, "mimeType": "text/csv", "buffer": content}])
    await page.get_by_role("button", name=f"Importer : {kind}").click()
    await expect(page.get_by_role("heading", name="Vérification avant enregistrement")).to_be_visible(timeout=60_000)


async def test_a_manager_imports_structures_with_their_admins_and_orientation_managers(system, browser: Browser):
    await demo_journey(system)
    manager = await signed_in(browser, system, "manager@demo.carnet.test", Role.manager)

    await upload(manager, "Structures", "structures.csv", STRUCTURES_FILE)
    await expect(manager.get_by_role("main")).to_contain_text("2 ligne(s) applicable(s)")
    await accessible(manager, "manager")
    await manager.get_by_role("button", name="Appliquer l'import").click()
    await expect(manager.get_by_role("heading", name="Résultat")).to_be_visible(timeout=120_000)
    await expect(manager.locator(".tile").filter(has_text="rejetée(s)")).to_contain_text("0")
    await manager.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Structures").click()
    await manager.get_by_role("link", name="Maison de l'emploi de Bobigny").click()
    await expect(manager.get_by_role("heading", level=1)).to_have_text("Maison de l'emploi de Bobigny")
    for email in ("alain.terieur@mde-bobigny.fr", "alex.terieur@mde-bobigny.fr"):
        assert (await newest_message(system, email, 1))["links"]

    # Two of four rows are wrong: each says why, and only the others are applied.
    await upload(manager, "Chargés d'orientation", "charges.csv", ORIENTATION_MANAGERS_FILE)
    await expect(manager.get_by_role("main")).to_contain_text("1 ligne(s) applicable(s)")
    await expect(manager.get_by_role("row", name="justine.titegoute")).to_contain_text(
        "n'est pas une adresse e-mail valide")
    await expect(manager.get_by_role("row", name="Porte")).to_contain_text("obligatoire")
    await accessible(manager, "manager")
    await manager.get_by_role("button", name="Appliquer l'import").click()
    await expect(manager.get_by_role("heading", name="Résultat")).to_be_visible(timeout=120_000)
    await expect(manager.locator(".tile").filter(has_text="créée(s)")).to_contain_text("1")
    await accessible(manager, "manager")
    await manager.goto(f"{system.base_url}/territoire/personnes?q=rouate")
    await expect(manager.get_by_role("row", name="Samy Rouate")).to_contain_text("Chargé d'orientation")
    await manager.screenshot(path=SCREENSHOTS / "acceptance-manager-imports.png", full_page=True)


async def test_a_manager_validates_a_sign_up_request_and_the_professional_signs_in(system, browser: Browser):
    await demo_journey(system)
    manager = await signed_in(browser, system, "manager@demo.carnet.test", Role.manager)

    visitor = await (await browser.new_context(locale="fr-FR")).new_page()
    await visitor.goto(f"{system.base_url}/inscription")
    await visitor.get_by_label("Prénom").fill("Lejeune")
    await visitor.get_by_label("Nom", exact=True).fill("Bienvenu")
    await visitor.get_by_label("Adresse e-mail professionnelle").fill("lejeune.bienvenu@asso93.fr")
    await visitor.get_by_label("Territoire").select_option(str(DEMO_DEPLOYMENTS[0].deployment_id))
    await visitor.get_by_label("Structure").fill("Association Bienvenue 93")
    await accessible(visitor, "anonyme")
    await visitor.get_by_role("button", name="Envoyer ma demande").click()
    await expect(visitor.get_by_role("status")).to_contain_text("gestionnaires du territoire")

    await manager.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Comptes").click()
    row = manager.get_by_role("row", name="Lejeune Bienvenu")
    await expect(row).to_contain_text("En attente de validation")
    await expect(row).to_contain_text("Structure demandée : Association Bienvenue 93")
    await accessible(manager, "manager")
    await manager.get_by_role("button", name="Valider la demande : Lejeune Bienvenu").click()
    await expect(manager.get_by_role("status")).to_have_text(
        "La demande est validée : un lien de connexion a été envoyé à la personne.")
    await expect(row).to_contain_text("Actif")

    link = (await newest_message(system, "lejeune.bienvenu@asso93.fr", 1))["links"][0]
    await visitor.goto(link)
    await visitor.get_by_role("button", name="Continuer sur Carnet de bord").click()
    await accept_steps(visitor, Role.professional)
    await expect(visitor.get_by_role("heading", level=1)).to_contain_text("Lejeune Bienvenu")
    await accessible(visitor, "professional")


async def test_a_structure_admin_gives_a_referent_to_the_beneficiaries_oriented_to_his_structure(
        system, browser: Browser):
    await demo_journey(system)
    # The orientation manager orients two beneficiaries to the CCAS, leaving the référent to the structure.
    co = await signed_in(browser, system, "orientation@demo.carnet.test", Role.orientation_manager)
    await open_bulk_orientation(co)
    await co.get_by_label("Sélectionner Myrna HENDERSON").check()
    await co.get_by_label("Sélectionner Lindsay AGUILAR").check()
    await co.locator("#bulk-system").select_option(label="Social")
    await co.locator("#bulk-structure").select_option(label=CCAS)
    await co.get_by_role("button", name="Orienter les bénéficiaires").click()
    await expect(co.get_by_role("status")).to_contain_text("2 bénéficiaires orientés")

    jacques = await signed_in(browser, system, "structure@demo.carnet.test", Role.admin_structure)
    await jacques.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Bénéficiaires").click()
    await expect(jacques.get_by_role("heading", name="2 bénéficiaires")).to_be_visible()
    for name in ("HENDERSON Myrna", "AGUILAR Lindsay"):
        row = jacques.get_by_role("row", name=name)
        await expect(row).to_contain_text(CCAS)
        await expect(row.get_by_role("cell").nth(4)).to_have_text("Non rattaché")
    # Only his structure's professionals are offered.
    referents = jacques.get_by_label("Nom du référent")
    await expect(referents.locator("option")).to_have_text(["Choisir un professionnel", f"Pierre CHEVALIER – {CCAS}"])
    await accessible(jacques, "admin_structure")
    await jacques.get_by_label("Sélectionner Myrna HENDERSON").check()
    await jacques.get_by_label("Sélectionner Lindsay AGUILAR").check()
    await referents.select_option(label=f"Pierre CHEVALIER – {CCAS}")
    await jacques.get_by_role("button", name="Rattacher").click()
    await expect(jacques.get_by_role("status")).to_have_text(
        "Le référent est désigné pour les bénéficiaires sélectionnés.")
    for name in ("HENDERSON Myrna", "AGUILAR Lindsay"):
        await expect(jacques.get_by_role("row", name=name)).to_contain_text("Pierre Chevalier")
    await accessible(jacques, "admin_structure")
    await jacques.screenshot(path=SCREENSHOTS / "acceptance-structure-admin-referents.png", full_page=True)


async def test_a_manager_moves_a_structure_and_withdraws_one_of_its_orientation_systems(system, browser: Browser):
    await demo_journey(system)
    manager = await signed_in(browser, system, "manager@demo.carnet.test", Role.manager)
    await manager.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Structures").click()
    row = manager.get_by_role("row", name="Groupe NS")
    await expect(row).to_contain_text("Social")
    await row.get_by_role("link", name="Groupe NS").click()
    fiche = manager.get_by_role("region", name="Fiche de la structure")
    await fiche.get_by_label("Code postal").fill("93200")
    await fiche.get_by_label("Ville", exact=True).fill("Saint-Denis")
    await fiche.get_by_label("Social", exact=True).uncheck()
    await accessible(manager, "manager")
    await fiche.get_by_role("button", name="Enregistrer").click()
    await expect(manager.get_by_role("status")).to_have_text("Les modifications sont enregistrées.")
    await expect(fiche.get_by_label("Ville", exact=True)).to_have_value("Saint-Denis")
    await expect(fiche.get_by_label("Social", exact=True)).not_to_be_checked()
    await accessible(manager, "manager")

    await manager.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Structures").click()
    await expect(row).to_contain_text("93200 Saint-Denis")
    await expect(row).not_to_contain_text("Social")
    await manager.get_by_label("Dispositif").select_option(label="Social")
    await manager.get_by_role("button", name="Rechercher").click()
    await expect(manager.get_by_role("table")).not_to_contain_text("Groupe NS")
    await manager.screenshot(path=SCREENSHOTS / "acceptance-structure-moved.png", full_page=True)


async def test_a_structure_admin_deactivates_a_professional_of_his_structure(system, browser: Browser):
    await demo_journey(system)
    pierre = await signed_in(browser, system, "pro@demo.carnet.test", Role.professional)
    jacques = await signed_in(browser, system, "structure@demo.carnet.test", Role.admin_structure)
    await jacques.get_by_role("link", name="Ma structure").click()
    listed = jacques.get_by_role("region", name="Professionnels de la structure")
    await expect(listed).to_contain_text("Pierre Chevalier – pro@demo.carnet.test")
    await listed.locator("summary", has_text="Désactiver : Pierre Chevalier").click()
    await expect(listed.get_by_role("group", name="Désactiver : Pierre Chevalier")).to_contain_text(
        "ne pourra plus se connecter")
    await accessible(jacques, "admin_structure")
    await listed.get_by_role("button", name="Confirmer : désactiver Pierre Chevalier").click()
    await expect(jacques.get_by_role("status")).to_contain_text("Pierre Chevalier est désactivé(e)")
    await accessible(jacques, "admin_structure")

    await pierre.reload()
    await expect(pierre.get_by_role("alert")).to_contain_text("Votre compte a été désactivé")


async def test_the_referent_adds_two_projects_and_a_wage_under_the_smic_is_flagged(system, browser: Browser):
    await demo_journey(system)
    pro = await pierre_becomes_referent(browser, system)
    await open_tab(pro, "Parcours")
    diagnostic = pro.locator("#diagnostic")
    for search, metier, km, rate, contract in (
            ("dev info", "Développeur / Développeuse informatique (M1805)", "100", "10", "CDI"),
            ("formateur", "Formateur / Formatrice (K2111)", "15", "14.95", "CDD")):
        await pro.get_by_text("Mettre à jour le diagnostic socioprofessionnel").click()
        await pro.get_by_label("Rechercher un métier ou un code ROME").fill(search)
        await pro.get_by_role("button", name="Rechercher").click()
        await pro.get_by_label("Nouveau projet : métier").select_option(label=metier)
        await pro.get_by_label("Ne pas ajouter de projet").uncheck()
        new = pro.locator("#metier-choix").locator("xpath=..")  # the new project's block
        await new.get_by_label("Zone de mobilité (km)").fill(km)
        await new.get_by_label("Salaire minimum brut horaire (€)").fill(rate)
        await new.get_by_label("Type de contrat").select_option(label=contract)
        await new.get_by_label("Durée du temps de travail").select_option(label="Temps plein")
        await accessible(pro, "professional")
        await pro.get_by_role("button", name="Enregistrer le diagnostic").click()
        await expect(pro.get_by_role("status")).to_have_text("Diagnostic socioprofessionnel enregistré.")

    shown = diagnostic.locator(".message", has_text="Mis à jour par")  # not the form's blocks
    developer = shown.filter(has_text="Développeur / Développeuse informatique (M1805)")
    await expect(developer).to_contain_text("Zone de mobilité : 100 km")
    await expect(developer).to_contain_text("10,00")
    await expect(developer).to_contain_text("Attention, la valeur est inférieure au SMIC.")
    await expect(developer).to_contain_text("CDI. Temps plein.")
    trainer = shown.filter(has_text="Formateur / Formatrice (K2111)")
    await expect(trainer).to_contain_text("Zone de mobilité : 15 km")
    await expect(trainer).to_contain_text("14,95")
    await expect(trainer).not_to_contain_text("SMIC")
    await accessible(pro, "professional")
    await pro.screenshot(path=SCREENSHOTS / "acceptance-projects.png", full_page=True)
