"""Everything held about a beneficiary as a readable PDF (fpdf2, the contracts' machinery): a heading per section,
then its data as « libellé : valeur » lines, lists item by item. The JSON download carries the same data whole; here
identifiers (UUIDs) and empty values are left out, keys get a French label when one is known, dates are French."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from contracts import labels
from contracts.rights import SubjectDataSection
from notebook.adapters.contract_pdf import ContractDocument, french_date

PARIS = ZoneInfo("Europe/Paris")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
MAX_DEPTH = 6
LABELS = {
    "firstname": "Prénom", "lastname": "Nom", "date_of_birth": "Date de naissance", "place_of_birth": "Lieu de naissance",
    "email": "Courriel", "mobile_number": "Téléphone portable", "phone": "Téléphone", "address1": "Adresse",
    "address2": "Complément d'adresse", "postal_code": "Code postal", "city": "Ville", "nir": "NIR",
    "caf_number": "Numéro CAF/MSA", "pe_number": "Identifiant France Travail", "right_rsa": "Droit RSA",
    "right_are": "Droit ARE", "right_ass": "Droit ASS", "right_bonus": "Prime d'activité",
    "subject_to_right_and_duty": "Soumis aux droits et devoirs", "territoire": "Territoire",
    "carnet_cree_le": "Carnet créé le", "membres": "Membres", "structures": "Structures", "person": "Professionnel",
    "member_type": "Rôle", "started_at": "Depuis le", "ended_at": "Jusqu'au", "name": "Nom", "status": "État",
    "structure_name": "Structure", "theme_label": "Axe de travail", "targets": "Objectifs", "target": "Objectif",
    "actions": "Actions", "action": "Action", "at": "Date", "created_at": "Créé le", "created_by_name": "Par",
    "dispositif": "Dispositif", "motif": "Motif", "oriente_le": "Orienté le", "oriente_par": "Par",
    "date": "Date", "evenement": "Événement", "auteur": "Auteur", "origine": "Origine", "jour": "Jour",
    "personne": "Personne", "role": "Rôle", "structure": "Structure", "consultations": "Consultations",
    "kind": "Type", "field": "Information", "text": "Demande", "wanted": "Correction souhaitée", "due_on": "Réponse due le",
    "state": "État", "answer": "Réponse", "answered_by_name": "Répondu par", "answered_at": "Répondu le",
    "bilan_date": "Date du bilan", "start_date": "Début", "end_date": "Fin", "work_situation": "Situation",
    "education_level": "Niveau de formation", "situations": "Situations", "projects": "Projets professionnels",
    "sent_at": "Envoyé le", "channel": "Canal", "subject": "Objet", "recipient": "Destinataire",
    "cgu_accepted_at": "Conditions d'utilisation acceptées le", "cgu_version": "Version des conditions",
    "last_login_at": "Dernière connexion", "logins": "Connexions", "sessions": "Sessions ouvertes",
    "date_du_flux": "Date du flux", "recu_le": "Reçu le", "donnees": "Données", "message": "Message",
    "transferts": "Transferts", "acces_temporaires": "Accès temporaires", "de": "De", "vers": "Vers",
    "demande_le": "Demandé le", "decide_le": "Décidé le", "jusqu_au": "Jusqu'au", "accorde_le": "Accordé le",
    "par": "Par", "moyen": "Moyen", "statut": "Statut", "derniere_utilisation": "Dernière utilisation",
    "onboarded_at": "Inscription terminée le", "notification_channels": "Être prévenu par", "ip": "Adresse IP", "user_agent": "Navigateur", "success": "Réussie", "views": "Vues",
    "fichier": "Fichier", "type": "Type", "importe_le": "Importé le", "ligne": "Ligne", "cellules": "Contenu de la ligne",
    "resultat": "Résultat", "messages": "Messages",
    # The diagnostic, the plan, the group: the notebook's own field names (the demo walk found them in English).
    "updated_at": "Mis à jour le", "updated_by_name": "Mis à jour par", "added_at": "Ajouté le",
    "added_by_name": "Ajouté par", "description": "Description", "work_situation_date": "Depuis le",
    "work_situation_end_date": "Jusqu'au", "right_rqth": "RQTH", "last_job_ended_at": "Date du dernier emploi",
    "rome_code": "Métier", "mobility_radius_km": "Zone de mobilité", "hourly_rate_cents": "Salaire minimum brut horaire",
    "contract_type": "Type de contrat", "employment_type": "Temps de travail", "orientation_system_name": "Dispositif",
    "last_appointment_at": "Dernier rendez-vous", "linked_to": "Contrat", "user_consent": "Accord de la personne",
    "starting_at": "Date de début", "signed_on": "Signé le", "active": "En vigueur",
}
# Codes that the words beside them already say (an axis's theme_label, a situation's description).
HIDDEN = frozenset({"version", "withheld", "theme"})


def label_of(key: str) -> str:
    return LABELS.get(key, key.replace("_", " ").capitalize())


def value_of(value, key: str = "", within: str = "") -> str:
    words = labels.SUBJECT_DATA_IN_LIST.get(within, {}).get(key) or labels.SUBJECT_DATA_VALUES.get(key, {})
    if isinstance(value, str) and value in words:
        return words[value]
    if key == "hourly_rate_cents" and isinstance(value, int):
        return f"{value / 100:.2f} €".replace(".", ",")
    if key == "user_agent" and isinstance(value, str):  # as the account's page says it, not the raw header
        return labels.browser(value)
    if key == "mobility_radius_km" and isinstance(value, int):
        return f"{value} km"
    if isinstance(value, bool):
        return "oui" if value else "non"
    text = str(value)
    if DATETIME.match(text):
        try:
            return datetime.fromisoformat(text).astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
        except ValueError:
            return text
    if DATE.match(text):
        return french_date(date.fromisoformat(text))
    return text


def empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {} or (
        isinstance(value, str) and bool(UUID.match(value)))


class Writer:
    def __init__(self, document: ContractDocument) -> None:
        self.document = document

    def write(self, data, depth: int = 0, key: str = "") -> None:
        """``key``: the field or list ``data`` comes under (a section's key at the top), which says a code's words."""
        indent = "    " * depth
        if depth > MAX_DEPTH:
            return
        if isinstance(data, dict):
            for field, value in data.items():
                if field.endswith("_id") or field in HIDDEN or empty(value):
                    continue
                if isinstance(value, (dict, list)):
                    self.document.line(f"{indent}{label_of(field)} :", bold=True)
                    self.write(value, depth + 1, field)
                else:
                    self.document.line(f"{indent}{label_of(field)} : {value_of(value, field, key)}")
        elif isinstance(data, list):
            if not data:
                self.document.line(f"{indent}Aucune donnée.")
            for item in data:
                if isinstance(item, (dict, list)):
                    self.write(item, depth, key)
                    self.document.pdf.ln(1.5)
                elif not empty(item):
                    self.document.line(f"{indent}- {value_of(item, key)}")
        elif not empty(data):
            self.document.line(f"{indent}{value_of(data)}")


def subject_data_pdf(name: str, territory: str, today: date, sections: list[SubjectDataSection]) -> bytes:
    document = ContractDocument()
    document.line(territory or "Carnet de bord", size=14, bold=True)
    document.line("Carnet de bord", size=9)
    document.pdf.ln(3)
    document.line("Mes données personnelles", size=16, bold=True)
    document.line(f"{name} — données détenues au {french_date(today)}", size=11)
    document.line("Ce document rassemble toutes les informations que Carnet de bord détient sur vous, service par "
                  "service. Pour faire corriger une information inexacte, utilisez « Demander une rectification » "
                  "depuis votre carnet.", size=9, gap=3)
    writer = Writer(document)
    for section in sections:
        document.heading(section.title)
        if empty(section.data):
            document.line("Aucune donnée.")
        else:
            writer.write(section.data, key=section.key)
    return document.output()
