"""« Journal d'audit » (/journal): the territory's audit trail for its managers (admin_cdb: every territory), with
its filters and a CSV export of what they select."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from contracts.audit import ListAuditLinesV1
from gateway.web.common import ROLE_LABELS, VisitorDep, call_or_leave, render
from gateway.web.formatting import local_time

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
CSV_LIMIT = 5000  # lines in one export: a narrower period for more

ACTIONS = {
    "notebook.read": "Consultation du carnet",
    "notebook.changed": "Modification du carnet",
    "export.requested": "Export demandé",
    "export.downloaded": "Export téléchargé",
    "account.link_used": "Connexion par lien",
    "account.code_used": "Connexion par code SMS",
    "account.oidc_login": "Connexion par fournisseur d'identité",
    "account.link_refused": "Connexion refusée",
    "account.invalid_code": "Code SMS refusé",
    "account.login_refused_deactivated": "Connexion refusée (compte désactivé)",
    "account.oidc_refused": "Connexion refusée (fournisseur d'identité)",
    "account.refresh_replayed": "Session réutilisée : sessions fermées",
    "account.logout": "Déconnexion",
    "account.session_revoked": "Session fermée par son titulaire",
    "account.confirm": "Compte validé",
    "account.deactivate": "Compte désactivé",
    "account.reactivate": "Compte réactivé",
    "account.resend_invitation": "Invitation renvoyée",
    "account.administrator_created": "Administrateur national créé (commande de l'exploitant)",
    "partner.call": "Appel d'un partenaire (API)",
    "partner.message": "Message d'un partenaire",
    "import.opened": "Fichier déposé pour import",
    "import.file_infected": "Fichier importé refusé par l'antivirus",
}
ROLES = {**{role.value: label for role, label in ROLE_LABELS.items()}, "system": "Système", "partner": "Partenaire",
         "operator": "Exploitant"}
# The details' names, as the owners write them; their values stay as written (ids, codes a support reads).
DETAILS = {"rpc": "Opération", "success": "Réussie", "kind": "Type", "format": "Format", "list": "Liste",
           "partner": "Partenaire", "client_id": "Identifiant client", "route": "Adresse appelée",
           "result": "Résultat", "subject": "Message", "outcome": "Résultat", "signature": "Signature",
           "structure": "Structure"}
TARGETS = {"account": "Compte", "notebook": "Carnet", "export": "Export", "import": "Import",
           "partner_call": "Appel partenaire"}
# What a change of a notebook was: the detail « rpc » holds the subject of the RPC served (rpc.notebook.<name>.v1),
# « subject » a partner's message (partner.<partner>.<name>.v1); the page says it by <name>, never by subject.
OPERATIONS = {
    "add_action": "Ajout d'une action", "add_focus": "Ajout d'un axe de travail", "add_target": "Ajout d'un objectif",
    "answer_rights_request": "Réponse à une demande d'exercice des droits", "apply_import": "Import appliqué",
    "apply_partner_appointment": "Rendez-vous envoyé par un partenaire",
    "apply_partner_notebook": "Carnet envoyé par un partenaire",
    "assign_orientation_manager": "Assignation d'un chargé d'orientation",
    "assign_referent": "Désignation du référent", "book_appointment": "Prise de rendez-vous",
    "change_orientation": "Orientation", "create_beneficiary": "Création du carnet",
    "create_bilan": "Bilan d'accompagnement", "create_contract_draft": "Brouillon de contrat",
    "create_partner_notebook": "Carnet créé par un partenaire",
    "create_rights_request": "Demande d'exercice des droits", "decide_contract": "Décision sur un contrat",
    "decide_transfer": "Décision sur un transfert", "delete_parcours_item": "Suppression d'un élément du parcours",
    "delete_saved_query": "Requête supprimée", "deny_reorientation": "Maintien de l'accompagnement",
    "end_contract": "Fin de contrat", "extend_retention": "Conservation prolongée",
    "grant_referral": "Accès accordé à un professionnel d'un autre territoire",
    "invite_member": "Ajout au groupe de suivi", "join": "Rattachement au carnet", "leave": "Détachement du carnet",
    "orient_in_bulk": "Orientation de plusieurs bénéficiaires", "post_exchange": "Message dans les échanges",
    "prepare_bilan": "Préparation d'un bilan", "record_contract": "Contrat enregistré",
    "redact": "Texte de l'historique masqué", "refresh_france_travail": "Actualisation depuis France Travail",
    "remove_member": "Retrait du groupe de suivi", "reply_exchange": "Réponse de la personne à un message",
    "request_reorientation": "Demande de réorientation",
    "request_transfer": "Demande de transfert", "review_import": "Import vérifié",
    "run_retention": "Purge des données arrivées au terme de leur conservation", "save_query": "Requête enregistrée",
    "seed_demo": "Données de démonstration", "set_retention": "Durée de conservation modifiée",
    "sign_contract": "Signature d'un contrat", "start_export": "Export demandé",
    "submit_contract": "Contrat envoyé pour validation", "update_action": "Modification d'une action",
    "update_appointment": "Modification d'un rendez-vous",
    "update_beneficiary": "Modification des informations personnelles",
    "update_contract": "Modification d'un contrat", "update_diagnostic": "Mise à jour du diagnostic",
    "update_target": "Modification d'un objectif",
    # A partner's messages (partner.<partner>.notebook.upsert.v1…)
    "notebook.upsert": "Carnet envoyé par un partenaire", "appointment.upsert": "Rendez-vous envoyé par un partenaire",
}
# The values of the details that are codes (a partner call's result, a message's outcome, a login's success).
VALUES = {"created": "créé", "updated": "mis à jour", "unchanged": "inchangé", "rejected": "refusé",
          "pending": "en cours", "conflict": "conflit", "refused": "refusé", "out_of_scope": "hors de son périmètre",
          "bad_request": "requête invalide", "invalid": "invalide", "failed": "en échec", "True": "oui",
          "False": "non"}
NO_ACCOUNT = {"partner": "Partenaire", "operator": "Exploitant"}  # else « Système »


def readable(code: str) -> str:
    """A code without its label, said as words (« update_diagnostic » → « Update diagnostic »), never as written."""
    words = code.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:] if words else "Opération"


def operation_label(subject: str) -> str:
    """« rpc.notebook.update_diagnostic.v1 » → « Mise à jour du diagnostic »; a partner's
    « partner.cd93.notebook.upsert.v1 » → « Carnet envoyé par un partenaire »."""
    parts = subject.split(".")
    if parts and parts[-1][:1] == "v" and parts[-1][1:].isdigit():
        parts = parts[:-1]
    name = ".".join(parts[2:]) if parts[:1] in (["rpc"], ["partner"]) else ".".join(parts)
    return OPERATIONS.get(name) or readable(name)


def action_label(code: str) -> str:
    return ACTIONS.get(code) or readable(code.split(".", 1)[-1])


def detail_value(key: str, value: str) -> str:
    if key in ("rpc", "subject"):
        return operation_label(value)
    return VALUES.get(value, value)


def details_text(details: dict[str, str]) -> str:
    return ", ".join(f"{DETAILS.get(k, readable(k))} : {detail_value(k, v)}" for k, v in sorted(details.items()))


def actor_label(line) -> str:
    """The « Compte » column: the account's id, or who acted without one (the system, a partner, the operator)."""
    return str(line.actor_account_id) if line.actor_account_id else NO_ACCOUNT.get(line.actor_role or "", "Système")


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip()) if value.strip() else None
    except ValueError:
        return None


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters_of(params) -> dict:
    """The page's filters from its query string; a value that is not one is ignored (shown empty)."""
    action = params.get("action", "")
    return {"period_from": _day(params.get("du", "")), "period_to": _day(params.get("au", "")),
            "actor_account_id": _uuid(params.get("acteur", "")), "notebook_id": _uuid(params.get("carnet", "")),
            "action": action if action in ACTIONS else ""}


def query_of(filters: dict) -> str:
    names = {"period_from": "du", "period_to": "au", "actor_account_id": "acteur", "notebook_id": "carnet",
             "action": "action"}
    return urlencode({names[k]: str(v) for k, v in filters.items() if v})


@router.get("/journal")
async def audit_page(request: Request, visitor: VisitorDep, offset: int = 0):
    filters = filters_of(request.query_params)
    offset = max(0, min(offset, 1_000_000))
    reply = await call_or_leave(request, visitor, ListAuditLinesV1(**filters, offset=offset, limit=PAGE_SIZE))
    return render(request, "audit.html.j2", {
        "reply": reply, "filters": filters, "query": query_of(filters), "offset": offset, "page_size": PAGE_SIZE,
        "actions": ACTIONS, "roles": ROLES, "targets": TARGETS, "action_label": action_label,
        "details_text": details_text, "actor_label": actor_label}, visitor=visitor)


def neutral(value: str) -> str:
    """A spreadsheet cell that starts like a formula (= + - @) is read as text, never computed."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get("/journal.csv")
async def audit_csv(request: Request, visitor: VisitorDep):
    """The lines the filters select (at most CSV_LIMIT): UTF-8 with BOM and « ; », as Excel and LibreOffice open
    them."""
    filters = filters_of(request.query_params)
    reply = await call_or_leave(request, visitor, ListAuditLinesV1(**filters, limit=CSV_LIMIT))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["N°", "Date (heure de Paris)", "Compte", "Rôle", "Action", "Objet", "Identifiant", "Carnet",
                     "Détails"])
    for line in reply.lines:
        writer.writerow([neutral(str(cell)) for cell in (
            line.seq, local_time(line.occurred_at), actor_label(line), ROLES.get(line.actor_role, line.actor_role),
            action_label(line.action), TARGETS.get(line.target_type, line.target_type), line.target_id,
            line.notebook_id or "", details_text(line.details))])
    response = StreamingResponse(iter([("\ufeff" + buffer.getvalue()).encode("utf-8")]),
                                 media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="journal-audit.csv"'})
    for name, value in visitor.cookies.raw_headers:
        if name == b"set-cookie":
            response.raw_headers.append((name, value))
    return response
