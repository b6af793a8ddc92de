"""Acceptance scenarios of spec §5 not yet driven elsewhere in Chromium, rewritten for our product (issue 20 item 5),
each asserting what the person sees:
- professional (§5.5 members, appointments, « Se retirer du groupe de suivi »): the référent invites a colleague of
  another structure, books an appointment where the beneficiary was present (the group shows it as her last one with
  him), and the colleague leaves the group, after which he sees only the public card;
- manager and structure admin (§5.3 « voir un carnet », « Mettre à jour les informations personnelles », §5.6
  carnet/edit): the manager renames a beneficiary; the structure admin may change only the contact details, the names
  read-only and the rights not offered;
- orientation manager (§5.4 « Maintenir l'accompagnement », §5.5 « demande refusée », « motif de maintien »): a
  référent's request waits in « Réorientations »; the manager keeps the support with a reason; the request leaves the
  list and the référent reads the refusal and its reason.
Other scenarios: test_every_role_logs_in (§5.1, onboarding), test_professional_follows_a_beneficiary (§5.5 read-only
notebook, « Se rattacher », diagnostic, projects, plan, history), test_orientation and test_orientation_cascade
(§5.4 orient, reorient, bulk), test_manager_builds_territory (§5.2, §5.3 structures, people), test_imports (§5.3
imports), test_contracts (§5.5 CER)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Browser, expect

from carnet.demo import DEMO_NOTEBOOKS
from contracts.identity import Role
from testkit.clock import paris_today
from tests.browser.journeys import SOPHIE, demo, open_tab, pierre_becomes_referent, signed_in
from tests.browser.test_every_role_logs_in import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]


async def test_a_referent_invites_a_colleague_books_an_appointment_and_the_colleague_leaves(system, browser: Browser):
    await demo(system)
    pro = await pierre_becomes_referent(browser, system)

    await pro.get_by_text("Inviter un accompagnateur").click()
    await pro.get_by_label("Nom, structure ou code postal").fill("Anka")
    await pro.get_by_role("button", name="Rechercher").click()
    await pro.get_by_role("button", name="Inviter Simon ANKA").click()
    await expect(pro.get_by_role("status")).to_have_text("Le professionnel est ajouté au groupe de suivi.")
    group = pro.get_by_role("region", name="Groupe de suivi")
    await expect(group.get_by_role("row", name="Simon ANKA")).to_contain_text("Membre")

    # Yesterday at 15:45, she came: the appointment reads « Présent », and the group shows it beside his name.
    day = paris_today() - timedelta(days=1)
    await open_tab(pro, "Rendez-vous")
    await pro.get_by_label("Date de rendez-vous").fill(day.isoformat())
    await pro.get_by_label("Heure du rendez-vous").fill("15:45")
    await pro.get_by_label("Statut du rendez-vous").select_option(label="Présent")
    await pro.get_by_role("button", name="Ajouter un rendez-vous").click()
    await expect(pro.get_by_role("status")).to_have_text("Rendez-vous enregistré.")
    appointment = pro.get_by_role("region", name="Rendez-vous").get_by_role("row", name=f"{day:%d/%m/%Y} 15:45")
    await expect(appointment).to_contain_text("Pierre CHEVALIER")
    await expect(appointment.get_by_role("combobox")).to_have_value("present")
    await open_tab(pro, "Situation")
    await expect(group.get_by_role("row", name="Pierre CHEVALIER")).to_contain_text(
        f"{day:%d/%m/%Y} 15:45")
    await pro.screenshot(path=SCREENSHOTS / "acceptance-group.png", full_page=True)

    simon = await signed_in(browser, system, "pro2@demo.carnet.test", Role.professional)
    await simon.goto(f"{system.base_url}/carnets/{SOPHIE}")
    await simon.get_by_text("Se détacher").click()
    await expect(simon.get_by_role("main")).to_contain_text(
        "Souhaitez-vous être détaché du carnet de bord et ne plus accéder en écriture à celui-ci ?")
    await simon.get_by_role("button", name="Oui, me détacher").click()
    await expect(simon.get_by_role("status")).to_have_text("Vous êtes détaché(e) de ce carnet.")
    await expect(simon.get_by_role("main")).to_contain_text("fiche publique")
    await expect(simon.get_by_role("heading", name="Informations personnelles")).to_be_visible()
    await expect(simon.get_by_role("heading", name="Groupe de suivi")).to_be_visible()
    for hidden in ("Diagnostic socioprofessionnel", "Plan d'action", "Historique de parcours"):
        await expect(simon.get_by_role("heading", name=hidden)).to_have_count(0)
    group = simon.get_by_role("region", name="Groupe de suivi")
    await expect(group.get_by_role("table")).not_to_contain_text("Simon ANKA")
    await group.get_by_text("Historique du groupe (1)").click()
    await expect(group.get_by_role("listitem").filter(has_text="Simon ANKA")).to_contain_text("(s'est détaché)")


async def test_the_orientation_manager_maintains_the_support_and_the_referent_reads_why(system, browser: Browser):
    await demo(system)
    pro = await pierre_becomes_referent(browser, system)
    await open_tab(pro, "Parcours")
    await pro.get_by_text("Demander une réorientation").click()
    await pro.get_by_label("Motif de demande de réorientation").fill("Un accompagnement social serait plus adapté")
    await pro.get_by_label("Orientation recommandée").select_option(label="Social")
    await pro.get_by_role("button", name="Envoyer ma demande").click()
    await expect(pro.get_by_role("status").first).to_have_text("Demande de réorientation envoyée.")

    co = await signed_in(browser, system, "orientation@demo.carnet.test", Role.orientation_manager)
    await co.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Réorientations").click()
    await expect(co.get_by_role("main")).to_contain_text("1 demande en attente.")
    await expect(co.get_by_role("row", name="TIFOUR Sophie")).to_contain_text(
        "Un accompagnement social serait plus adapté")
    await co.get_by_role("link", name="Décider pour Sophie TIFOUR").click()
    orientation = co.get_by_role("region", name="Orientation")
    await expect(orientation).to_contain_text("Orientation recommandée : Social")
    await orientation.get_by_text("Maintenir l'accompagnement").click()
    await expect(orientation).to_contain_text("Veuillez saisir le motif de maintien en accompagnement.")
    await orientation.get_by_label("Motif de maintien en accompagnement").fill("Le projet professionnel avance bien")
    await orientation.get_by_role("button", name="Valider").first.click()
    await expect(co.get_by_role("status").first).to_have_text(
        "L'accompagnement est maintenu ; le référent en est informé.")
    await expect(orientation).not_to_contain_text("Demande de réorientation envoyée")
    await co.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Réorientations").click()
    await expect(co.get_by_role("main")).to_contain_text("Aucune demande de réorientation n'attend de décision")

    await pro.goto(f"{system.base_url}/carnets/{SOPHIE}#orientation")
    orientation = pro.get_by_role("region", name="Orientation")
    await expect(orientation).to_contain_text("Demande de réorientation refusée")
    await expect(orientation).to_contain_text("orientation recommandée : Social")
    await orientation.get_by_text("Voir le motif du refus").click()
    await expect(orientation).to_contain_text(
        "Maintien de l'accompagnement décidé par Giulia Diaby : Le projet professionnel avance bien")
    await pro.screenshot(path=SCREENSHOTS / "acceptance-maintained.png", full_page=True)


async def test_a_manager_renames_a_beneficiary_and_a_structure_admin_changes_only_her_contact_details(
        system, browser: Browser):
    await demo(system)
    await pierre_becomes_referent(browser, system)  # Sophie's notebook joins his structure, Jacques's

    manager = await signed_in(browser, system, "manager@demo.carnet.test", Role.manager)
    await manager.goto(f"{system.base_url}/carnets/{DEMO_NOTEBOOKS.beneficiaries[2].notebook_id}")
    await expect(manager.get_by_role("main")).to_contain_text("lindsay.aguilar@demo.carnet.test")
    await manager.get_by_text("Mettre à jour les informations personnelles").click()
    await manager.get_by_label("Prénom", exact=True).fill("Lindsaye")
    await manager.get_by_role("button", name="Enregistrer").click()
    await expect(manager.get_by_role("status")).to_have_text("Informations mises à jour.")
    await expect(manager.get_by_role("heading", level=1)).to_have_text("Lindsaye AGUILAR")

    jacques = await signed_in(browser, system, "structure@demo.carnet.test", Role.admin_structure)
    await jacques.goto(f"{system.base_url}/carnets/{SOPHIE}")
    await jacques.get_by_text("Mettre à jour les informations personnelles").click()
    await expect(jacques.get_by_label("Prénom", exact=True)).not_to_be_editable()
    await expect(jacques.get_by_label("Nom", exact=True)).not_to_be_editable()
    for locked in ("Revenu de solidarité active (RSA)", "Identifiant CAF/MSA", "Identifiant France Travail"):
        await expect(jacques.get_by_label(locked)).to_have_count(0)
    await jacques.get_by_label("Téléphone").fill("0601234566")
    await jacques.get_by_role("button", name="Enregistrer").click()
    await expect(jacques.get_by_role("status")).to_have_text("Informations mises à jour.")
    await expect(jacques.get_by_role("region", name="Informations personnelles")).to_contain_text("06 01 23 45 66")
