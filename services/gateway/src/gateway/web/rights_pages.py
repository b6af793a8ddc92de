"""Pages of the beneficiary's rights: « Mes données » on /mon-carnet (download everything held about her as JSON or
PDF, ask a rectification, object to the processing, read the answers), and the requests to answer — a notebook's,
for its référent and the managers, and the territory's list, overdue first, for the managers."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from contracts.identity import Role
from contracts.labels import readable_codes
from contracts.rights import (
    AnswerRightsRequestV1,
    CreateRightsRequestV1,
    ListRightsRequestsV1,
)
from gateway.api.rights import NewRightsRequest, RightsAnswer, my_data, my_data_pdf
from gateway.bus import call
from gateway.web.common import (
    FormVisitorDep, LeavePage, Visitor, VisitorDep, call_or_leave, error_page, posting, redirect, refusal, render,
    with_cookies_of,
)
from gateway.web.common import form_text as text
from gateway.web.forms import parse_form
from servicekit.errors import Forbidden, ServiceError

router = APIRouter(include_in_schema=False)
KIND_LABELS = {"rectification": "Demande de rectification", "objection": "Opposition au traitement"}
STATE_LABELS = {"open": "En attente de réponse", "accepted": "Acceptée", "refused": "Refusée"}
NOTICES = {
    "rectification": "Votre demande de rectification est envoyée à votre référent ou, si vous n'en avez pas, aux "
                     "gestionnaires de votre territoire. La réponse doit vous parvenir dans un délai d'un mois ; "
                     "vous recevrez un message à ce moment-là.",
    "objection": "Votre opposition est enregistrée et transmise aux gestionnaires de votre territoire. Ils doivent "
                 "vous répondre dans un délai d'un mois ; vous recevrez un message à leur réponse.",
    "answered": "La réponse est enregistrée ; la personne en est prévenue par message.",
}
BENEFICIARIES_ONLY = "Cette page est celle de la personne accompagnée, depuis son propre compte."


async def beneficiary(request: Request, visitor: VisitorDep) -> Visitor:
    if visitor.me.role != Role.beneficiary:
        raise LeavePage(error_page(request, Forbidden(BENEFICIARIES_ONLY), visitor=visitor))
    return visitor


BeneficiaryDep = Annotated[Visitor, Depends(beneficiary)]  # signed in as the beneficiary herself
BeneficiaryFormDep = posting(beneficiary)


async def my_page(request: Request, visitor: Visitor, *, error: str = "", form: dict | None = None,
                  status_code: int = 200):
    found = await call_or_leave(request, visitor, ListRightsRequestsV1())
    return render(request, "my_data.html.j2", {
        "found": found, "kinds": KIND_LABELS, "states": STATE_LABELS, "error": error, "form": form or {},
        "notice": NOTICES.get(request.query_params.get("notice", ""), ""),
    }, visitor=visitor, status_code=status_code)


@router.get("/mon-carnet/mes-donnees")
async def my_data_page(request: Request, visitor: BeneficiaryDep):
    return await my_page(request, visitor)


def attachment(visitor: Visitor, content: bytes, media_type: str, filename: str) -> Response:
    return with_cookies_of(visitor.cookies, Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}))


@router.get("/mon-carnet/mes-donnees/json")
async def my_data_json(request: Request, visitor: BeneficiaryDep):
    try:
        data = await my_data(request, visitor.token)
    except ServiceError as error:
        return error_page(request, error, visitor=visitor)
    day = datetime.now(UTC).date().isoformat()
    document = data.model_dump(mode="json")
    for section in document.get("sections", []):  # read by a person: codes as the PDF says them, keys as they are
        section["data"] = readable_codes(section["data"], section["key"])
    return attachment(visitor, json.dumps(document, ensure_ascii=False, indent=2).encode(),
                      "application/json", f"mes-donnees-{day}.json")


@router.get("/mon-carnet/mes-donnees/pdf")
async def my_data_pdf_page(request: Request, visitor: BeneficiaryDep):
    try:
        document = await my_data_pdf(request, visitor.token)
    except ServiceError as error:
        return error_page(request, error, visitor=visitor)
    return attachment(visitor, base64.b64decode(document.pdf_base64), "application/pdf", document.filename)


@router.post("/mon-carnet/mes-donnees/demandes")
async def ask(request: Request, visitor: BeneficiaryFormDep):
    form = await request.form()
    try:  # the body of POST /api/v1/me/rights-requests; « kind », hidden, names which of the page's two forms
        body = parse_form(form, NewRightsRequest)
        await call(request, CreateRightsRequestV1(**dict(body)), access_token=visitor.token)
    except (ValidationError, ServiceError) as failure:
        error = refusal(failure)
        return await my_page(request, visitor, error=error.message, form=dict(form),
                             status_code=422 if isinstance(failure, ValidationError) else error.http_status)
    return redirect(f"/mon-carnet/mes-donnees?notice={body.kind.value}#mes-demandes", visitor)


# --- Those who answer -----------------------------------------------------------------------------------------

def requests_page(request: Request, visitor: Visitor, found, *, title: str, back: str, notebook_id=None,
                  error: str = "", form: dict | None = None, answering: uuid.UUID | None = None,
                  status_code: int = 200):
    """The requests to answer; on a refusal, ``form`` as typed in the card of the request ``answering``."""
    return render(request, "rights_requests.html.j2", {
        "found": found, "kinds": KIND_LABELS, "states": STATE_LABELS, "title": title, "back": back,
        "notebook_id": notebook_id, "error": error, "form": form or {}, "answering": str(answering or ""),
        "notice": NOTICES.get(request.query_params.get("notice", ""), ""),
    }, visitor=visitor, status_code=status_code)


@router.get("/carnets/{notebook_id}/demandes-rgpd")
async def notebook_requests(notebook_id: uuid.UUID, request: Request, visitor: VisitorDep):
    found = await call_or_leave(request, visitor, ListRightsRequestsV1(notebook_id=notebook_id))
    return requests_page(request, visitor, found, title="Demandes de la personne",
                         back=f"/carnets/{notebook_id}/demandes-rgpd", notebook_id=notebook_id)


@router.get("/territoire/demandes-rgpd")
async def territory_requests(request: Request, visitor: VisitorDep):
    found = await call_or_leave(request, visitor, ListRightsRequestsV1())
    return requests_page(request, visitor, found, title="Demandes des personnes", back="/territoire/demandes-rgpd")


def back_of(value: str) -> str:
    """Where the form came from, among the two lists only (never an address typed elsewhere)."""
    if value == "/territoire/demandes-rgpd":
        return value
    parts = value.split("/")
    if len(parts) == 4 and parts[1] == "carnets" and parts[3] == "demandes-rgpd":
        try:
            return f"/carnets/{uuid.UUID(parts[2])}/demandes-rgpd"
        except ValueError:
            pass
    return "/territoire/demandes-rgpd"


@router.post("/demandes-rgpd/{request_id}/reponse")
async def answer(request_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    form = await request.form()
    back = back_of(text(form, "back", 200))  # the list the form was on, to come back to (not the API's body)
    try:  # the body of POST /api/v1/rights-requests/{id}/answer; « accepted » is the button pressed
        await call(request, AnswerRightsRequestV1(request_id=request_id, **dict(parse_form(
            form, RightsAnswer, accepted=text(form, "decision") == "accepter"))), access_token=visitor.token)
    except (ValidationError, ServiceError) as failure:
        error = refusal(failure)
        notebook_id = uuid.UUID(back.split("/")[2]) if back.startswith("/carnets/") else None
        found = await call_or_leave(request, visitor, ListRightsRequestsV1(notebook_id=notebook_id))
        return requests_page(request, visitor, found, title="Demandes des personnes", back=back,
                             notebook_id=notebook_id, error=error.message, form=dict(form), answering=request_id,
                             status_code=422 if isinstance(failure, ValidationError) else error.http_status)
    return redirect(f"{back}?notice=answered", visitor)
