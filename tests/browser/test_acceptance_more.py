"""More acceptance scenarios of spec §5, rewritten for our product (issue 20 item 5), each asserting what the person
sees, with axe-core on every page the journey reaches:
- visitor (§5.1 home.feature): the home page leads to the login page, where she asks for her link;
- manager (§5.3 home.feature, showListBeneficiairies.feature): the key figures of the territory, a figure opening the
  list behind it, search by the beginning or the end of a name, the list filtered by a professional; a structure's
  professionals (showListProfessionals.feature);
- orientation manager (§5.4 home.feature, filterBeneficiary.feature, carnet/edit.feature): her figures, the
  « droits et devoirs » filter, and, made chargé d'orientation of a notebook, she updates its contact and rights;
- structure admin (§5.6 accueil.feature, dashboard.feature, rattachementBeneficiaires.feature « Import liste de
  rattachement »): his structure's figures and the list behind one, then a référent given by an imported file;
- structure admin (§5.6 edit_professional.feature, add_admin.feature): he updates a professional of his structure,
  adds a fellow administrator and updates her phone;
- manager (§5.7 orientationImport.js): a reorientations file moves a beneficiary to another structure and référent;
- manager (§5.3 importBeneficiaires.feature): dates in every format, a partial file whose invalid NIRs are refused,
  a second file that updates the beneficiary already there;
- professional (§5.5 sociopro.feature « Informations Pôle emploi »): France Travail's principal flux, imported by
  the manager, shows on the notebook of the beneficiary it matched."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from carnet.demo import DEMO_NOTEBOOKS
from contracts.identity import Role
from tests.browser.journeys import SOPHIE, demo_journey, open_tab, orient_to_ccas, pierre_becomes_referent, signed_in
from tests.browser.test_acceptance_management import CCAS, accessible, upload
from tests.browser.test_every_role_logs_in import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]
V1_FILES = Path("/work/shared/fixtures/cdb-v1")
MYRNA = DEMO_NOTEBOOKS.beneficiaries[1].notebook_id


async def figures(page: Page) -> dict[str, int]:
    """The key figures as the page shows them: label → number (a figure's detail line left out)."""
    return await page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.tile')].map(tile => {
      const copy = tile.cloneNode(true);
      copy.querySelectorAll('.tile-number, .hint').forEach(e => e.remove());
      return [copy.textContent.trim(), Number(tile.querySelector('.tile-number').textContent)]; }))""")


async def until_figures(page: Page, expected: dict[str, int]) -> None:
    """The figures come from read models fed by the bus: the page is reloaded until they have caught up."""
    seen: dict[str, int] = {}
    for _ in range(100):
        seen = await figures(page)
        if seen == expected:
            return
        await asyncio.sleep(0.2)
        await page.reload()
    assert seen == expected


async def apply_import(page: Page) -> None:
    await page.get_by_role("button", name="Appliquer l'import").click()
    await expect(page.get_by_role("heading", name="Résultat")).to_be_visible(timeout=120_000)


def outcome(page: Page, label: str):
    return page.locator(".tile").filter(has_text=label).locator(".tile-number")


async def test_the_home_page_leads_a_visitor_to_the_login_page(system, browser: Browser):
    await demo_journey(system)
    visitor = await (await browser.new_context(locale="fr-FR")).new_page()
    await visitor.goto(f"{system.base_url}/")
    await expect(visitor.get_by_role("heading", level=1)).to_have_text("Se connecter à Carnet de bord")
    await expect(visitor.get_by_role("banner")).to_contain_text("Carnet de bord")
    await expect(visitor.get_by_role("link", name="Demander un compte")).to_be_visible()
    await accessible(visitor, "anonyme")
    await expect(visitor).to_have_url(f"{system.base_url}/connexion")
    await visitor.get_by_role("textbox", name="Adresse e-mail").fill("pro@demo.carnet.test")
    await visitor.get_by_role("button", name="Recevoir mon lien de connexion").click()
    await expect(visitor.get_by_role("status")).to_contain_text("un lien de connexion vient d'y être envoyé")
    await accessible(visitor, "anonyme")


async def test_a_manager_reads_her_figures_searches_names_and_filters_by_professional(system, browser: Browser):
    await demo_journey(system)
    await pierre_becomes_referent(browser, system)
    manager = await signed_in(browser, system, "manager@demo.carnet.test", Role.manager)
    menu = manager.get_by_role("navigation", name="Menu principal")
    await menu.get_by_role("link", name="Bénéficiaires").click()
    await until_figures(manager, {"Bénéficiaires sur le territoire": 4, "Bénéficiaires non accompagnés": 3,
                                  "Demandes de réorientation": 0, "Structures sur le territoire": 2,
                                  "Structures sans bénéficiaire": 1})
    await accessible(manager, "manager")
    await manager.get_by_role("link", name="Bénéficiaires non accompagnés").click()
    await expect(manager.get_by_role("heading", name="3 bénéficiaires")).to_be_visible()
    await expect(manager.get_by_role("table")).not_to_contain_text("TIFOUR")

    # By the beginning of a name, then by its end.
    for typed in ("gon", "alez"):
        await menu.get_by_role("link", name="Bénéficiaires").click()
        await manager.get_by_label("Rechercher un bénéficiaire").fill(typed)
        await manager.get_by_role("button", name="Rechercher").click()
        await expect(manager.get_by_role("heading", name="1 bénéficiaire", exact=True)).to_be_visible()
        await expect(manager.get_by_role("row", name="GONZALEZ Étienne")).to_contain_text("14/04/1984")

    # The beneficiaries of one professional.
    await menu.get_by_role("link", name="Bénéficiaires").click()
    await manager.get_by_role("link", name="Requêtes et filtres avancés").click()
    await manager.get_by_role("group", name="Référents").get_by_label("Pierre Chevalier").check()
    await manager.get_by_role("button", name="Appliquer les filtres").click()
    await expect(manager.locator("#resultat")).to_have_text("1 bénéficiaire")
    await expect(manager.get_by_role("row", name="TIFOUR Sophie")).to_contain_text("Pierre Chevalier")
    await accessible(manager, "manager")
    await manager.get_by_role("link", name="Effacer les filtres").click()
    await manager.get_by_role("button", name="Appliquer les filtres").click()
    await expect(manager.locator("#resultat")).to_have_text("4 bénéficiaires")

    # A structure's professionals.
    await menu.get_by_role("link", name="Structures").click()
    await manager.get_by_role("link", name=CCAS).click()
    await expect(manager.locator(".tile")).to_have_text("1 professionnel")
    listed = manager.get_by_role("region", name="Professionnels de la structure")
    await expect(listed).to_contain_text("Pierre Chevalier – pro@demo.carnet.test")
    await expect(listed).not_to_contain_text("Simon Anka")
    await accessible(manager, "manager")
    await manager.screenshot(path=SCREENSHOTS / "acceptance-manager-figures.png", full_page=True)


async def test_the_orientation_manager_reads_her_figures_filters_duties_and_edits_a_notebook_she_follows(
        system, browser: Browser):
    await demo_journey(system)
    await pierre_becomes_referent(browser, system)
    co = await signed_in(browser, system, "orientation@demo.carnet.test", Role.orientation_manager)
    menu = co.get_by_role("navigation", name="Menu principal")
    await menu.get_by_role("link", name="Bénéficiaires").click()
    await until_figures(co, {"Demandes de réorientation à traiter": 0, "Bénéficiaires non accompagnés": 3,
                             "Bénéficiaires en attente d'un référent": 0, "Mon portefeuille": 0})
    await accessible(co, "orientation_manager")

    await co.get_by_label("Tenus aux obligations « droits et devoirs RSA »").check()
    await co.get_by_role("button", name="Rechercher").click()
    await expect(co.get_by_role("heading", name="1 bénéficiaire", exact=True)).to_be_visible()
    await expect(co.get_by_role("row", name="TIFOUR Sophie")).to_contain_text(CCAS)
    await expect(co.get_by_role("row", name="TIFOUR Sophie")).to_contain_text("Droits et devoirs")

    # She becomes Sophie's chargé d'orientation: Sophie is in her portfolio, and she updates her notebook.
    await menu.get_by_role("link", name="Bénéficiaires").click()
    await co.get_by_label("Sélectionner Sophie TIFOUR").check()
    await co.get_by_label("Nom du chargé d'orientation").select_option(label="Giulia DIABY")
    await co.get_by_role("button", name="Assigner un chargé d'orientation").click()
    await expect(co.get_by_role("status")).to_have_text(
        "Le chargé d'orientation est assigné aux bénéficiaires sélectionnés.")
    await until_figures(co, {"Demandes de réorientation à traiter": 0, "Bénéficiaires non accompagnés": 3,
                             "Bénéficiaires en attente d'un référent": 0, "Mon portefeuille": 1})
    portfolio = co.locator(".tile").filter(has_text=re.compile(r"^\s*\d+\s*Mon portefeuille"))
    await expect(portfolio.locator(".hint")).to_have_text("dont 1 accompagné par un référent")

    await co.goto(f"{system.base_url}/carnets/{SOPHIE}")
    await co.get_by_text("Mettre à jour les informations personnelles").click()
    await co.get_by_label("Téléphone", exact=True).fill("0601234567")
    await co.get_by_label("Revenu de solidarité active (RSA)").select_option(label="Droit ouvert et suspendu")
    await co.get_by_label("ARE", exact=True).check()
    await co.get_by_label("ASS", exact=True).uncheck()
    await co.get_by_label("Prime d'activité", exact=True).check()
    await accessible(co, "orientation_manager")
    await co.get_by_role("button", name="Enregistrer").first.click()
    await expect(co.get_by_role("status")).to_have_text("Informations mises à jour.")
    info = co.get_by_role("region", name="Informations personnelles")
    await expect(info).to_contain_text("06 01 23 45 67")
    await expect(info).to_contain_text("RSA – Droit ouvert et suspendu ; ARE, Prime d'activité")
    await accessible(co, "orientation_manager")
    await co.screenshot(path=SCREENSHOTS / "acceptance-orientation-manager-edits.png", full_page=True)


async def test_a_structure_admin_reads_his_figures_and_imports_a_referent(system, browser: Browser):
    await demo_journey(system)
    await pierre_becomes_referent(browser, system)
    await orient_to_ccas(browser, system, "Myrna HENDERSON")
    jacques = await signed_in(browser, system, "structure@demo.carnet.test", Role.admin_structure)
    menu = jacques.get_by_role("navigation", name="Menu principal")
    await menu.get_by_role("link", name="Bénéficiaires").click()
    await until_figures(jacques, {"Bénéficiaires accompagnés": 1, "Bénéficiaires non accompagnés": 1})
    await accessible(jacques, "admin_structure")
    await jacques.get_by_role("link", name="Bénéficiaires accompagnés").click()
    await expect(jacques.get_by_role("heading", name="1 bénéficiaire", exact=True)).to_be_visible()
    await expect(jacques.get_by_role("row", name="TIFOUR Sophie")).to_contain_text("Pierre Chevalier")
    await menu.get_by_role("link", name="Bénéficiaires").click()
    await jacques.get_by_role("link", name="Bénéficiaires non accompagnés").click()
    await expect(jacques.get_by_role("row", name="HENDERSON Myrna")).to_contain_text("Non rattaché")

    # The référent comes from a file: the notebook's identifier and the professional's e-mail.
    await upload(jacques, "Rattachements (référents des bénéficiaires)", "rattachements.csv",
                 f"Identifiant Carnet de bord*;Accompagnateurs*\r\n{MYRNA};pro@demo.carnet.test\r\n".encode(
                     "utf-8-sig"))
    await expect(jacques.get_by_role("main")).to_contain_text("1 ligne(s) applicable(s)")
    await accessible(jacques, "admin_structure")
    await apply_import(jacques)
    await expect(outcome(jacques, "rejetée(s)")).to_have_text("0")
    await accessible(jacques, "admin_structure")
    await menu.get_by_role("link", name="Bénéficiaires").click()
    await until_figures(jacques, {"Bénéficiaires accompagnés": 2, "Bénéficiaires non accompagnés": 0})
    await expect(jacques.get_by_role("row", name="HENDERSON Myrna")).to_contain_text("Pierre Chevalier")
    await jacques.screenshot(path=SCREENSHOTS / "acceptance-structure-admin-figures.png", full_page=True)


async def test_a_manager_reorients_a_beneficiary_from_a_file(system, browser: Browser):
    await demo_journey(system)
    await pierre_becomes_referent(browser, system)
    manager = await signed_in(browser, system, "manager@demo.carnet.test", Role.manager)
    await upload(manager, "Réorientations", "reorientations.csv", (
        "Prénom*;Nom*;Date de naissance*;Accompagnateurs à ajouter;Accompagnateurs à supprimer;"
        "Structures à rattacher\r\n"
        "Sophie;Tifour;11/01/1981;pro2@demo.carnet.test;pro@demo.carnet.test;Groupe NS\r\n"
        "Inconnue;Personne;01/01/1990;pro2@demo.carnet.test;;Groupe NS\r\n").encode("utf-8-sig"))
    await expect(manager.get_by_role("main")).to_contain_text("1 ligne(s) applicable(s)")
    await accessible(manager, "manager")
    await apply_import(manager)
    await expect(outcome(manager, "mise(s) à jour")).to_have_text("1")
    await accessible(manager, "manager")

    row = manager.get_by_role("row", name="TIFOUR Sophie")
    for _ in range(100):
        await manager.goto(f"{system.base_url}/beneficiaires?q=tifour")
        if "Groupe NS" in await row.inner_text():
            break
        await asyncio.sleep(0.2)
    await expect(row).to_contain_text("Groupe NS")
    await expect(row).to_contain_text("Simon Anka")
    await manager.get_by_role("link", name="TIFOUR Sophie").click()
    group = manager.get_by_role("region", name="Groupe de suivi")
    await expect(group.get_by_role("row", name="Simon ANKA")).to_contain_text("Référent")
    await expect(group.get_by_role("table")).not_to_contain_text("Pierre CHEVALIER")
    await accessible(manager, "manager")


async def test_a_manager_imports_beneficiaries_in_every_date_format_a_partial_file_and_a_re_import(
        system, browser: Browser):
    await demo_journey(system)
    manager = await signed_in(browser, system, "manager@demo.carnet.test", Role.manager)

    # DD/MM/YYYY and DD-MM-YYYY are read alike: no date is refused, and « 22-04-1997 » and « 22/04/1997 » are the
    # same day, so the second Charlie is flagged as the first one again. (v1 let through a 9-digit phone number and
    # the duplicate, then refused the latter when applying: both are said at once here.)
    await upload(manager, "Bénéficiaires", "dates.csv",
                 (V1_FILES / "import_beneficiaires_with_all_date_formats.csv").read_bytes())
    def line(n: int):
        return manager.get_by_role("row").filter(has=manager.get_by_role("rowheader", name=str(n), exact=True))
    await expect(line(3)).to_contain_text("22-04-1997")
    await expect(line(3)).to_contain_text("Nouveau")
    await expect(line(4)).to_contain_text("Ligne en double : même nom, prénom et date de naissance que la ligne 3.")
    await expect(line(2)).to_contain_text("« 071234567 » n'est pas un numéro de téléphone")
    await expect(line(5)).to_contain_text("Nouveau")
    await expect(manager.get_by_role("main")).not_to_contain_text("date reconnue")
    await expect(manager.get_by_role("main")).to_contain_text("2 ligne(s) applicable(s) sur 4")
    await accessible(manager, "manager")

    # Only the identity and the NIR: the two rows whose NIR is wrong say so and are left out.
    await upload(manager, "Bénéficiaires", "partiel.csv", (V1_FILES / "import_beneficiaires_partial.csv").read_bytes())
    await expect(manager.get_by_role("main")).to_contain_text("2 ligne(s) applicable(s) sur 4")
    await accessible(manager, "manager")
    await apply_import(manager)
    await expect(outcome(manager, "créée(s)")).to_have_text("2")
    await expect(outcome(manager, "rejetée(s)")).to_have_text("2")  # the two wrong NIRs

    # Imported again with the same identifier: one updated, the other new. (v1's re_import_beneficiaires.csv gave SI
    # id 1234 to v1's seeded Sophie TIFOUR; here its rows conflict, rightly, with the charlie fondue just imported:
    # the NIR of one, the name and date of birth of the other.)
    await upload(manager, "Bénéficiaires", "re_import.csv", (
        "Identifiant dans le SI*;Prénom*;Nom*;Date de naissance*;NIR;Téléphone\r\n"
        "123456;charlie;fondue;1997-04-22;200000000000094;0601234568\r\n"
        "7654321;Jay;Randévoui;01/12/1978;;\r\n").encode("utf-8-sig"))
    await expect(line(2)).to_contain_text("Existant")
    await expect(line(3)).to_contain_text("Nouveau")
    await expect(manager.get_by_role("main")).to_contain_text("2 ligne(s) applicable(s) sur 2")
    await apply_import(manager)
    await expect(outcome(manager, "créée(s)")).to_have_text("1")
    await expect(outcome(manager, "mise(s) à jour")).to_have_text("1")
    await accessible(manager, "manager")
    await manager.screenshot(path=SCREENSHOTS / "acceptance-beneficiaries-reimport.png", full_page=True)
    await manager.goto(f"{system.base_url}/beneficiaires?q=fondue")
    await expect(manager.get_by_role("heading", name="2 bénéficiaires")).to_be_visible()
    await manager.get_by_role("link", name="FONDUE charlie").click()
    await expect(manager.get_by_role("region", name="Informations personnelles")).to_contain_text("06 01 23 45 68")


async def test_the_france_travail_flux_shows_on_the_notebook_it_matched(system, browser: Browser):
    await demo_journey(system)
    manager = await signed_in(browser, system, "manager@demo.carnet.test", Role.manager)
    await manager.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Bénéficiaires").click()
    await manager.get_by_label("Prénom").fill("Hendrix")
    await manager.get_by_label("Nom", exact=True).fill("Dorsey")
    await manager.get_by_label("Date de naissance").fill("1976-12-18")
    await manager.get_by_role("button", name="Créer le carnet").click()
    await expect(manager.get_by_role("heading", level=1)).to_contain_text("Hendrix")

    await upload(manager, "Flux France Travail — principal", "principal.csv",
                 (V1_FILES / "i03300c.j.extract_spie_carnet_spie_carnet_de_bord_principal.csv").read_bytes())
    await expect(manager.get_by_role("row", name="DORSEY")).to_contain_text("HENDRIX")
    await accessible(manager, "manager")
    await apply_import(manager)
    await expect(outcome(manager, "mise(s) à jour")).to_have_text("1")

    await manager.goto(f"{system.base_url}/beneficiaires?q=dorsey")
    await manager.get_by_role("link", name="DORSEY Hendrix").click()
    dorsey = manager.url.split("/carnets/")[1].split("?")[0].split("#")[0]

    # Pierre becomes his référent, as in v1, and reads what France Travail said.
    pro = await pierre_becomes_referent(browser, system, dorsey)
    await open_tab(pro, "Parcours")
    await expect(pro.get_by_role("main")).to_contain_text("Agent / Agente d'entretien des collectivités (I1203)")
    await expect(pro.get_by_role("main")).to_contain_text("Aide maternel / maternelle d'école (K1303)")
    await expect(pro.get_by_role("main")).to_contain_text("(France Travail)")
    await accessible(pro, "professional")
    await pro.screenshot(path=SCREENSHOTS / "acceptance-france-travail.png", full_page=True)


async def test_a_structure_admin_edits_a_professional_and_adds_a_fellow_administrator(system, browser: Browser):
    """§5.6 edit_professional.feature (« Modification d'un professionnel »), add_admin.feature (« Ajout d'un
    gestionnaire », « Modification »): from his structure's page, Jacques updates Pierre's phone and position, is
    told in French when an address is wrong, adds Mauricette as a fellow administrator, then updates her phone."""
    await demo_journey(system)
    jacques = await signed_in(browser, system, "structure@demo.carnet.test", Role.admin_structure)
    await jacques.get_by_role("link", name="Ma structure").click()
    professionals = jacques.get_by_role("region", name="Professionnels de la structure")
    await professionals.get_by_role("link", name="Pierre Chevalier").click()
    await expect(jacques.get_by_role("heading", level=1)).to_have_text("Pierre Chevalier")
    await jacques.get_by_label("Téléphone").fill("06 12 34 56 78")
    await jacques.get_by_label("Fonction").fill("Conseiller en insertion")
    await jacques.get_by_role("button", name="Enregistrer").click()
    await expect(jacques.get_by_role("status")).to_have_text("Les modifications sont enregistrées.")
    await expect(jacques.get_by_label("Téléphone")).to_have_value("06 12 34 56 78")
    await expect(jacques.get_by_label("Fonction")).to_have_value("Conseiller en insertion")
    await accessible(jacques, "admin_structure")
    await jacques.get_by_label("Adresse e-mail").fill("pierre.chevalier@")
    await jacques.get_by_role("button", name="Enregistrer").click()
    await expect(jacques.get_by_role("alert")).to_contain_text("n'est pas valide")
    await expect(jacques.get_by_label("Adresse e-mail")).to_have_value("pierre.chevalier@")  # kept, to correct
    await accessible(jacques, "admin_structure")

    await jacques.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Accueil").click()
    await jacques.get_by_role("link", name="Ma structure").click()
    await expect(professionals).to_contain_text("Pierre Chevalier – pro@demo.carnet.test – 06 12 34 56 78")
    admins = jacques.get_by_role("region", name="Administrateurs de la structure")
    await expect(admins).to_contain_text("Jacques Célaire")
    await admins.get_by_label("Prénom").fill("Mauricette")
    await admins.get_by_label("Nom", exact=True).fill("Leblanc")
    await admins.get_by_label("Adresse e-mail").fill("mauricette.leblanc@cd93.fr")
    await admins.get_by_role("button", name="Ajouter l'administrateur et l'inviter").click()
    await expect(jacques.get_by_role("status")).to_contain_text("Mauricette Leblanc est enregistré(e)")
    await expect(admins).to_contain_text("Mauricette Leblanc – mauricette.leblanc@cd93.fr")
    await accessible(jacques, "admin_structure")

    await admins.get_by_role("link", name="Mauricette Leblanc").click()
    await expect(jacques.get_by_role("heading", level=1)).to_have_text("Mauricette Leblanc")
    await expect(jacques.get_by_role("main")).not_to_contain_text("Désactiver")  # a fellow admin is not closed
    await jacques.get_by_label("Téléphone").fill("0612345678")
    await jacques.get_by_role("button", name="Enregistrer").click()
    await expect(jacques.get_by_role("status")).to_have_text("Les modifications sont enregistrées.")
    await expect(jacques.get_by_label("Téléphone")).to_have_value("06 12 34 56 78")
    await accessible(jacques, "admin_structure")
    await jacques.screenshot(path=SCREENSHOTS / "acceptance-structure-admin-people.png", full_page=True)
