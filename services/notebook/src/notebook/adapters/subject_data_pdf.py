"""Everything held about a beneficiary as a readable PDF (fpdf2, the contracts' machinery): a heading per section,
then its data as « libellé : valeur » lines, lists item by item. The JSON download carries the same data whole; here
identifiers (UUIDs) and empty values are left out, keys get a French label when one is known, dates are French."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from contracts.rights import SubjectDataSection
from notebook.adapters.contract_pdf import ContractDocument, french_date
from notebook.domain.export_lists import RIGHT_RSA, ROLE

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
}


CHANNELS = {"email": "courriel", "sms": "SMS"}
# Codes shown as words, by the key they come under.
VALUES = {
    "right_rsa": RIGHT_RSA, "role": ROLE, "channel": CHANNELS, "notification_channels": CHANNELS,
    "member_type": {"referent": "Référent", "no_referent": "Membre du groupe",
                    "orientation_manager": "Chargé d'orientation"},
    "kind": {"rectification": "Demande de rectification", "objection": "Opposition au traitement"},
    "state": {"open": "en attente de réponse", "accepted": "acceptée", "refused": "refusée"},
}


def label_of(key: str) -> str:
    return LABELS.get(key, key.replace("_", " ").capitalize())


def value_of(value, key: str = "") -> str:
    if isinstance(value, str) and value in VALUES.get(key, {}):
        return VALUES[key][value]
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
        indent = "    " * depth
        if depth > MAX_DEPTH:
            return
        if isinstance(data, dict):
            for key, value in data.items():
                if key.endswith("_id") or key in ("version", "withheld") or empty(value):
                    continue
                if isinstance(value, (dict, list)):
                    self.document.line(f"{indent}{label_of(key)} :", bold=True)
                    self.write(value, depth + 1, key)
                else:
                    self.document.line(f"{indent}{label_of(key)} : {value_of(value, key)}")
        elif isinstance(data, list):
            if not data:
                self.document.line(f"{indent}Aucune donnée.")
            for item in data:
                if isinstance(item, (dict, list)):
                    self.write(item, depth)
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
            writer.write(section.data)
    return document.output()
