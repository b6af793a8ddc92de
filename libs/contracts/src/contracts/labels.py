"""French labels of the notebook's values, shared by the gateway's pages and the notebook's « Mes données » PDF so
that both say the same words."""
from __future__ import annotations

RIGHT_RSA = {
    "rsa_droit_ouvert_versable": "Droit ouvert et versable", "rsa_droit_ouvert_et_suspendu": "Droit ouvert et suspendu",
    "rsa_droit_ouvert_versement_suspendu": "Droit ouvert mais versement suspendu",
    "rsa_demande_en_attente": "Demande en attente", "rsa_refuse": "Droit refusé", "rsa_clos": "Droit clos",
    "rsa_clos_anterieur": "Droit clos sur mois antérieur",
}
WORK_SITUATION = {
    "recherche_emploi": "En recherche d'emploi", "recherche_formation": "En recherche de formation",
    "recherche_alternance": "En recherche d'alternance", "recherche_stage": "En recherche de stage",
    "emploi": "En emploi", "formation": "En formation", "stage": "En stage", "alternance": "En alternance",
    "service_civique": "En service civique", "iae": "En IAE", "interim": "En intérim",
    "construction_projet": "En construction de projet", "projet_entrepreneurial": "En projet entrepreneurial",
    "entrepreneur": "Entrepreneur", "etudiant": "Étudiant", "scolarisé": "Scolarisé", "enretraite": "En retraite",
    "maladie": "En arrêt maladie", "invalidite": "En invalidité de travail", "conge_parental": "En congé parental",
    "au_foyer": "Au foyer", "autre": "Autre", "cdi_temps_plein": "CDI temps plein",
    "cdi_temps_partiel": "CDI temps partiel", "cdd_temps_plein": "CDD temps plein",
    "cdd_temps_partiel": "CDD temps partiel", "intermittent": "Intermittent du spectacle",
    "aidant_familial": "Aidant familial", "exploitant_agricole": "Exploitant agricole",
}
EDUCATION_LEVEL = {
    "AFS": "Aucune formation scolaire", "C12": "2nd ou 1ère achevée", "C3A": "BEPC ou 3ème achevée",
    "CFG": "4ème achevée", "CP4": "Primaire à 4ème", "NV5": "CAP, BEP ou équivalent", "NV4": "Bac ou équivalent",
    "NV3": "Bac+2 ou équivalent", "NV2": "Bac+3 ou Bac+4 ou équivalent", "NV1": "Bac+5 et plus ou équivalent",
}
CONTRACT_LINK = {
    "cer": "Contrat d'Engagement Réciproque (CER)", "cej": "Contrat d'Engagement Jeune (CEJ)",
    "ppae": "Projet Personnalisé d'Accès à l'Emploi (PPAE)",
    "pacea": "Parcours contractualisé d'Accompagnement vers l'Emploi et l'Autonomie (PACEA)", "no": "Aucun",
}
CONTRACT_STATUS = {"draft": "Brouillon", "submitted": "En attente de validation", "validated": "Validé, à signer",
                   "signed": "Signé", "ended": "Terminé", "renewed": "Renouvelé"}
JOB_CONTRACT = {
    "cdi": "CDI", "cdd": "CDD", "interim": "Intérim", "saisonnier": "Saisonnier", "liberal": "Libéral",
    "contrat_professionnalisation": "Contrat de professionnalisation", "apprentissage": "Apprentissage",
    "portage_salarial": "Portage salarial",
}
EMPLOYMENT = {"full_time": "Temps plein", "part_time": "Temps partiel"}
MEMBER_TYPE = {"referent": "Référent", "no_referent": "Membre", "orientation_manager": "Chargé d'orientation"}
END_REASON = {"left": "s'est détaché", "replaced": "remplacé comme référent", "removed": "retiré",
              "deactivated": "compte désactivé"}
TARGET_STATUS = {"in_progress": "En cours", "done": "Réalisé", "abandoned": "Abandonné"}
ACTION_STATUS = {"planned": "En projet", "in_progress": "En cours", "standby": "En attente", "done": "Réalisée",
                 "abandoned": "Abandonnée par le bénéficiaire", "canceled": "Annulée par la structure"}
APPOINTMENT_STATUS = {"planned": "Prévu", "present": "Présent", "absent": "Absent", "excused": "Excusé",
                      "cancelled": "Annulé"}
SUPPORT = {"all": "Tous", "accompanied": "Accompagné", "waiting": "En attente d'un référent",
           "not_accompanied": "Non accompagné", "reorientation": "Avec une demande de réorientation"}
TIMELINE_KIND = {"": "Tout", "beneficiary": "Informations personnelles", "member": "Groupe de suivi",
                 "diagnostic": "Diagnostic", "focus": "Axes de travail", "target": "Objectifs", "action": "Actions",
                 "appointment": "Rendez-vous", "orientation": "Orientation", "notebook": "Carnet",
                 "bilan": "Bilans"}
SOURCE = {"person": "", "import": "import", "france_travail": "France Travail", "partner": "partenaire"}
ROLE = {"admin_cdb": "Administrateur Carnet de bord", "manager": "Gestionnaire du territoire",
        "admin_structure": "Administrateur de structure", "orientation_manager": "Chargé d'orientation",
        "professional": "Professionnel"}

# « Mes données » (RGPD): the codes its sections carry, as words, by the key they come under; shared by the notebook's
# PDF and the gateway's JSON download so that both say the same words.
CHANNELS = {"email": "courriel", "sms": "SMS"}
SUBJECT_DATA_VALUES = {
    "right_rsa": RIGHT_RSA, "role": {**ROLE, "beneficiary": "Bénéficiaire"}, "channel": CHANNELS,
    "notification_channels": CHANNELS,
    "member_type": {"referent": "Référent", "no_referent": "Membre du groupe",
                    "orientation_manager": "Chargé d'orientation"},
    "kind": {"rectification": "Demande de rectification", "objection": "Opposition au traitement"},
    "state": {"open": "en attente de réponse", "accepted": "acceptée", "refused": "refusée"},
    "work_situation": WORK_SITUATION, "education_level": EDUCATION_LEVEL,
    "contract_type": JOB_CONTRACT, "employment_type": EMPLOYMENT, "linked_to": CONTRACT_LINK,
}
# A status or a kind says different words in different lists (« planned »: an action « En projet », an appointment
# « Prévu »): by the list (or section) it comes in.
SUBJECT_DATA_IN_LIST = {
    "actions": {"status": ACTION_STATUS}, "targets": {"status": TARGET_STATUS},
    "appointments": {"status": APPOINTMENT_STATUS},
    "contracts": {"status": CONTRACT_STATUS, "kind": CONTRACT_LINK},
    "structures": {"status": {"current": "en cours", "outdated": "passée"}},
    "history": {"origine": {"person": "Saisie", "import": "Import de fichier", "france_travail": "France Travail",
                            "partner": "Partenaire"}},
    "transferts": {"status": {"pending": "en attente", "accepted": "accepté", "refused": "refusé"}},
    "account": {"statut": {"active": "actif", "pending": "en attente de validation", "deactivated": "désactivé"}},
}


def code_label(value, key: str = "", within: str = ""):
    """The words of a code found under ``key`` in the list or section ``within``; any other value as it is."""
    words = SUBJECT_DATA_IN_LIST.get(within, {}).get(key) or SUBJECT_DATA_VALUES.get(key, {})
    return words.get(value, value) if isinstance(value, str) else value


def readable_codes(data, key: str = ""):
    """``data`` with its codes as words, its keys and every other value unchanged (the « Mes données » JSON a person
    reads: « Référent », not « referent »). ``key``: the field, list or section ``data`` comes under."""
    if isinstance(data, dict):
        return {field: readable_codes(value, field) if isinstance(value, (dict, list)) else
                code_label(value, field, key) for field, value in data.items()}
    if isinstance(data, list):
        return [readable_codes(item, key) if isinstance(item, (dict, list)) else code_label(item, key)
                for item in data]
    return code_label(data, key)


# SMIC horaire brut (1er janvier 2025): a lower wanted wage gets a warning, as in v1. Update with each revaluation.
SMIC_HOURLY_CENTS = 1188

# What each message of notify is, for the pages that list sent messages (/envois): never the template's code.
MESSAGE_KINDS = {
    "account_deactivated": "Compte désactivé", "appointment_booked": "Rendez-vous fixé",
    "appointment_booked_email": "Rendez-vous fixé", "appointment_reminder": "Rappel de rendez-vous",
    "appointment_reminder_email": "Rappel de rendez-vous", "bilan_created": "Bilan d'accompagnement",
    "caf_msa_report": "Récapitulatif du flux CAF/MSA", "contract_created": "CER en préparation",
    "contract_ended": "CER terminé", "contract_ending": "CER bientôt à échéance", "contract_returned": "CER renvoyé",
    "contract_signed": "CER signé", "contract_submitted": "CER soumis à validation", "contract_validated": "CER validé",
    "daily_digest": "Récapitulatif quotidien", "email_change": "Changement d'adresse e-mail",
    "exchange_mention": "Échange entre professionnels", "exchange_reply": "Réponse d'un bénéficiaire à un message",
    "exchange_shared": "Message partagé avec le bénéficiaire",
    "exchange_shared_email": "Message partagé avec le bénéficiaire", "invitation": "Invitation",
    "login_link": "Lien de connexion", "notebook_invitation": "Invitation dans un groupe de suivi",
    "orientation_changed": "Orientation", "referent_replaced": "Changement de référent",
    "referral_granted": "Accès d'un professionnel d'un autre territoire", "reorientation_denied": "Réorientation refusée",
    "signup_confirmed": "Inscription validée", "signup_requested": "Demande d'inscription", "sms_code": "Code de connexion",
    "transfer_accepted": "Transfert accepté", "transfer_refused": "Transfert refusé",
    "transfer_requested": "Demande de transfert", "waiting_digest": "Bénéficiaires en attente",
    "webhook_paused": "Webhook suspendu", "bulk_orientation": "Orientations décidées ensemble",
    "rights_request_created": "Demande RGPD reçue", "rights_request_due": "Demande RGPD à échéance",
    "rights_request_answered": "Réponse à une demande RGPD",
}


# Checked in this order: Edge and Opera also say Chrome, Chrome also says Safari; Android also says Linux.
BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
            ("Chromium/", "Chromium"), ("Safari/", "Safari"))
SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
           ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def browser(user_agent: str | None) -> str:
    """A browser's User-Agent as a person recognises it: "Firefox sur Windows", not the header itself (the account's
    sessions and logins on the pages and in the « Mes données » PDF)."""
    if not user_agent:
        return "Inconnu"
    name = next((label for token, label in BROWSERS if token in user_agent), "")
    system = next((label for token, label in SYSTEMS if token in user_agent), "")
    if name and system:
        return f"{name} sur {system}"
    return name or system or "Autre navigateur ou logiciel"
