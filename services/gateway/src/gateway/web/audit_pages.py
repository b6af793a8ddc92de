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
        "actions": ACTIONS, "roles": ROLES, "targets": TARGETS, "details": DETAILS}, visitor=visitor)


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
            line.seq, local_time(line.occurred_at), line.actor_account_id or "", ROLES.get(line.actor_role,
                                                                                           line.actor_role),
            ACTIONS.get(line.action, line.action), TARGETS.get(line.target_type, line.target_type), line.target_id,
            line.notebook_id or "",
            ", ".join(f"{DETAILS.get(k, k)} : {v}" for k, v in sorted(line.details.items())))])
    response = StreamingResponse(iter([("\ufeff" + buffer.getvalue()).encode("utf-8")]),
                                 media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="journal-audit.csv"'})
    for name, value in visitor.cookies.raw_headers:
        if name == b"set-cookie":
            response.raw_headers.append((name, value))
    return response
