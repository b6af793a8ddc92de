"""The PDF of everything held about a beneficiary: each section under its heading, French labels and dates, codes in
words, identifiers and empty values left out, an empty section said so."""
from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from contracts.rights import SubjectDataSection
from notebook.adapters.subject_data_pdf import subject_data_pdf

pytestmark = pytest.mark.unit


def test_the_sections_read_as_french_text():
    pdf = subject_data_pdf("Sophie Tifour", "Seine-Saint-Denis", date(2026, 11, 29), [
        SubjectDataSection(service="notebook", key="identity", title="Identité, coordonnées et droits", data={
            "beneficiary_id": "8f2ac9de-c13a-46e7-ae80-65d3dc4f2a91", "firstname": "Sophie", "address2": "",
            "date_of_birth": "1990-04-12", "right_rsa": "rsa_droit_ouvert_et_suspendu",
            "notification_channels": ["email", "sms"]}),
        SubjectDataSection(service="notebook", key="members", title="Groupe de suivi", data={"membres": [
            {"person": {"firstname": "Pierre", "lastname": "Chevalier"}, "member_type": "referent",
             "started_at": "2026-11-01T09:00:00+00:00"}]}),
        SubjectDataSection(service="notify", key="messages", title="Messages qui vous ont été envoyés", data=[]),
    ])
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("Seine-Saint-Denis", "Mes données personnelles", "Sophie Tifour — données détenues au 29/11/2026",
                     "Identité, coordonnées et droits", "Prénom : Sophie", "Date de naissance : 12/04/1990",
                     "Droit RSA : Droit ouvert et suspendu", "- courriel", "- SMS", "Nom : Chevalier",
                     "Rôle : Référent", "Depuis le : 01/11/2026 à 10:00",
                     "Messages qui vous ont été envoyés\nAucune donnée."):
        assert expected in text, expected
    assert "8f2ac9de" not in text and "Complément d'adresse" not in text


def test_the_diagnostic_plan_and_appointments_read_in_french_without_codes():
    """Walk of the demo (issue 20): Sébastien's PDF read « Updated by name », « Situation : recherche_emploi »,
    « Hourly rate cents : 1400 », « État : in_progress »: every field of his diagnostic, plan, group, appointments
    and contracts now has a French label, and each code its words (a status as its list says it)."""
    pdf = subject_data_pdf("Sébastien Dupont", "Démo 93", date(2026, 11, 29), [
        SubjectDataSection(service="notebook", key="diagnostic", title="Diagnostic socioprofessionnel", data={
            "work_situation": "recherche_emploi", "work_situation_date": "2026-04-18", "right_rqth": False,
            "education_level": "NV5", "updated_at": "2026-07-07T11:13:00Z", "updated_by_name": "Aminata Keita",
            "situations": [{"theme": "mobilite", "description": "Co-voiturage", "added_at": "2026-07-07T11:13:00Z",
                            "added_by_name": "Aminata Keita"}],
            "projects": [{"rome_code": "Conseiller d'élevage (A1301)", "mobility_radius_km": 30,
                          "hourly_rate_cents": 1400, "contract_type": "cdd", "employment_type": "part_time"}]}),
        SubjectDataSection(service="notebook", key="members", title="Groupe de suivi", data={
            "membres": [{"orientation_system_name": "Professionnel", "last_appointment_at": "2026-12-08T15:15:00Z"}],
            "structures": [{"name": "CCAS", "status": "current"}]}),
        SubjectDataSection(service="notebook", key="parcours", title="Plan d'action", data=[{
            "theme": "difficulte_financiere", "theme_label": "Difficultés financières", "targets": [{
                "target": "Prévenir", "status": "in_progress", "linked_to": "cer", "user_consent": True,
                "actions": [{"action": "Médiation", "status": "done", "starting_at": "2026-08-25"}]}]}]),
        SubjectDataSection(service="notebook", key="appointments", title="Rendez-vous", data=[
            {"at": "2026-12-08T15:15:00Z", "status": "planned"}]),
        SubjectDataSection(service="notebook", key="contracts", title="Contrats", data=[
            {"kind": "cer", "status": "signed", "active": True, "signed_on": "2026-08-22"}]),
        SubjectDataSection(service="notebook", key="history", title="Historique du carnet", data=[
            {"evenement": "Carnet créé", "origine": "import"}, {"evenement": "Axe ajouté", "origine": "person"}]),
        SubjectDataSection(service="identity", key="account", title="Votre compte", data={"statut": "active"}),
    ])
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("Situation : En recherche d'emploi", "Depuis le : 18/04/2026", "RQTH : non",
                     "Niveau de formation : CAP, BEP ou équivalent", "Mis à jour le : 07/07/2026 à 13:13",
                     "Mis à jour par : Aminata Keita", "Description : Co-voiturage", "Ajouté par : Aminata Keita",
                     "Métier : Conseiller d'élevage (A1301)", "Zone de mobilité : 30 km",
                     "Salaire minimum brut horaire : 14,00 €", "Type de contrat : CDD",
                     "Temps de travail : Temps partiel", "Dispositif : Professionnel",
                     "Dernier rendez-vous : 08/12/2026 à 16:15", "État : en cours",
                     "Axe de travail : Difficultés financières", "État : En cours", "Contrat : Contrat d'Engagement",
                     "Accord de la personne : oui", "État : Réalisée", "Date de début : 25/08/2026",
                     "État : Prévu", "Type : Contrat d'Engagement Réciproque (CER)", "État : Signé",
                     "En vigueur : oui", "Signé le : 22/08/2026", "Origine : Import de fichier",
                     "Origine : Saisie", "Statut : actif"):
        assert expected in text, expected
    for code in ("_", "recherche_emploi", "NV5", "mobilite", "in_progress", "part_time", "Updated", "cents", ": person", ": active"):
        assert code not in text.replace("Sébastien Dupont", ""), code


def test_sessions_and_logins_name_the_browser_as_the_pages_do():
    """Walk of the demo (issue 20): Sébastien's « Mes données » PDF showed « Mozilla/5.0 (X11; Linux x86_64) … »
    where /compte shows « Chrome sur Linux »: the same words (contracts.labels.browser) in both."""
    chrome = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
              "Safari/537.36")
    pdf = subject_data_pdf("Sébastien Dupont", "Démo 93", date(2026, 11, 29), [
        SubjectDataSection(service="identity", key="account", title="Votre compte", data={
            "logins": [{"at": "2026-11-28T09:00:00Z", "ip": "203.0.113.7", "user_agent": chrome}],
            "sessions": [{"started_at": "2026-11-28T09:00:00Z", "user_agent": "curl/8.5.0"}]})])
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Navigateur : Chrome sur Linux" in text
    assert "Navigateur : Autre navigateur ou logiciel" in text
    assert "Mozilla" not in text and "curl" not in text
