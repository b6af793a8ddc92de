"""Pages of the contracts: a notebook's contracts (prepare a CER, record a PPAE, CEJ or PACEA), the CER editor with
its state, versions and PDF (the référent's and the beneficiary's, on /mon-carnet, where she signs), and the list of
CER waiting for the territory's decision. Every form posts, then comes back to the page (or shows the refusal)."""
from __future__ import annotations

import base64
import calendar
import uuid
from datetime import date

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from contracts.identity import Role
from contracts.notebook import (
    CreateContractDraftV1,
    DecideContractV1,
    EndContractV1,
    GetContractPdfV1,
    GetContractV1,
    ListContractsToValidateV1,
    ListContractsV1,
    RecordContractV1,
    SignContractV1,
    SubmitContractV1,
    UpdateContractV1,
)
from gateway.api.contracts import ContractChange, Decision, Ending, OtherContract, Signature, Step
from gateway.bus import call
from gateway.web import labels
from gateway.web.common import (
    FormVisitorDep, LeavePage, Visitor, VisitorDep, call_or_leave, error_page, redirect, refusal, render,
    with_cookies_of,
)
from gateway.web.common import form_text as text
from gateway.web.forms import parse_form
from servicekit.errors import NotFound, ServiceError

router = APIRouter(include_in_schema=False)
CONTRACT_NOT_FOUND = "Ce contrat n'existe pas."
INVALID_FORM = "Le formulaire contient une valeur invalide : vérifiez les champs saisis."
NOTICES = {"created": "Le brouillon du CER est créé à partir du carnet.", "saved": "Le CER est enregistré.",
           "submitted": "Le CER est soumis à validation.", "validated": "Le CER est validé.",
           "returned": "Le CER est renvoyé au référent.", "signed": "Le CER est signé.",
           "ended": "Le contrat a pris fin.", "recorded": "Le contrat est enregistré."}


def optional_date(form: FormData, name: str) -> date | None:
    value = text(form, name, 10)
    return date.fromisoformat(value) if value else None


DURATIONS = {"3": 3, "6": 6, "12": 12, "24": 24}


def months_after(day: date, months: int) -> date:
    """The same day `months` later (that month's last day when it is shorter)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def end_date_of(form: FormData) -> date | None:
    """« Durée du contrat » (_contract_period.html.j2): 3, 6, 12 or 24 months from the start, indeterminate (no
    end), or else the end date typed."""
    duration, start = text(form, "duree", 20), optional_date(form, "start_date")
    if duration == "indeterminee":
        return None
    if duration in DURATIONS and start:
        return months_after(start, DURATIONS[duration])
    return optional_date(form, "end_date")


def base_of(visitor: Visitor, notebook_id: uuid.UUID | None) -> str:
    return "/mon-carnet" if visitor.me.role == Role.beneficiary else f"/carnets/{notebook_id}"


async def contract_of(request: Request, visitor: Visitor, notebook_id: uuid.UUID | None, contract_id: uuid.UUID):
    """The contract, if it is one of this notebook's (asked under another notebook's address: not found)."""
    contract = await call_or_leave(request, visitor, GetContractV1(contract_id=contract_id))
    if notebook_id is not None and contract.notebook_id != notebook_id:
        raise LeavePage(error_page(request, NotFound(CONTRACT_NOT_FOUND), visitor=visitor))
    return contract


async def list_page(request: Request, visitor: Visitor, notebook_id: uuid.UUID | None, *, error: str = "",
                    form: dict | None = None, status_code: int = 200):
    found = await call_or_leave(request, visitor, ListContractsV1(notebook_id=notebook_id))
    return render(request, "contracts.html.j2", {
        "found": found, "base": base_of(visitor, found.notebook_id), "labels": labels,
        "notice": NOTICES.get(request.query_params.get("notice", ""), ""), "error": error, "form": form or {},
    }, visitor=visitor, status_code=status_code)


async def contract_page(request: Request, visitor: Visitor, notebook_id: uuid.UUID | None, contract_id: uuid.UUID,
                        *, error: str = "", form: dict | None = None, status_code: int = 200):
    contract = await contract_of(request, visitor, notebook_id, contract_id)
    return render(request, "contract.html.j2", {
        "c": contract, "base": base_of(visitor, contract.notebook_id), "labels": labels,
        "notice": NOTICES.get(request.query_params.get("notice", ""), ""), "error": error, "form": form or {},
        "today": date.today().isoformat(), "mine": visitor.me.role == Role.beneficiary,
    }, visitor=visitor, status_code=status_code)


@router.get("/carnets/{notebook_id}/contrats")
async def contracts(notebook_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await list_page(request, visitor, notebook_id)


@router.get("/mon-carnet/contrats")
async def my_contracts(request: Request, visitor: VisitorDep):
    return await list_page(request, visitor, None)


@router.get("/contrats/a-valider")
async def to_validate(request: Request, visitor: VisitorDep):
    waiting = await call_or_leave(request, visitor, ListContractsToValidateV1())
    return render(request, "contracts_to_validate.html.j2", {"waiting": waiting.contracts}, visitor=visitor)


@router.get("/carnets/{notebook_id}/contrats/{contract_id}")
async def contract(notebook_id: uuid.UUID, contract_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await contract_page(request, visitor, notebook_id, contract_id)


@router.get("/mon-carnet/contrats/{contract_id}")
async def my_contract(contract_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await contract_page(request, visitor, None, contract_id)


async def pdf(request: Request, visitor: Visitor, notebook_id: uuid.UUID | None, contract_id: uuid.UUID) -> Response:
    await contract_of(request, visitor, notebook_id, contract_id)
    document = await call_or_leave(request, visitor, GetContractPdfV1(contract_id=contract_id))
    return with_cookies_of(visitor.cookies, Response(
        base64.b64decode(document.pdf_base64), media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{document.filename}"', "Cache-Control": "no-store"}))


@router.get("/carnets/{notebook_id}/contrats/{contract_id}/pdf")
async def contract_pdf(notebook_id: uuid.UUID, contract_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await pdf(request, visitor, notebook_id, contract_id)


@router.get("/mon-carnet/contrats/{contract_id}/pdf")
async def my_contract_pdf(contract_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await pdf(request, visitor, None, contract_id)


async def draft_or_record(request: Request, visitor: Visitor, notebook_id: uuid.UUID, message_of):
    form = await request.form()
    try:
        created = await call(request, message_of(form), access_token=visitor.token)
    except (ValidationError, ValueError) as failure:
        message = refusal(failure).message if isinstance(failure, ValidationError) else INVALID_FORM
        return await list_page(request, visitor, notebook_id, error=message, form=dict(form), status_code=422)
    except ServiceError as error:
        return await list_page(request, visitor, notebook_id, error=error.message, form=dict(form),
                               status_code=error.http_status)
    notice = "recorded" if form.get("kind") else "created"  # which of the page's two forms (« autre » has a kind)
    return redirect(f"/carnets/{notebook_id}/contrats/{created.id}?notice={notice}", visitor)


@router.post("/carnets/{notebook_id}/contrats/nouveau")
async def new_draft(notebook_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    """"Préparer un CER": a draft pre-filled from the notebook."""
    return await draft_or_record(request, visitor, notebook_id,
                                 lambda f: CreateContractDraftV1(notebook_id=notebook_id))


@router.post("/carnets/{notebook_id}/contrats/autre")
async def record_other(notebook_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    """A PPAE, CEJ or PACEA with its dates."""
    return await draft_or_record(request, visitor, notebook_id, lambda f: RecordContractV1(
        notebook_id=notebook_id, **body(f, OtherContract)))


def body(form: FormData, model: type[BaseModel], **given) -> dict:
    """The form as the API route's body ``model`` (its end date from « Durée du contrat » where it has one), as
    the keyword arguments of the message it completes."""
    values = dict(parse_form(form, model, **given))
    return values | {"end_date": end_date_of(form)} if "end_date" in values else values


# Each form of the editor: the message it sends, built from the form as the API's route builds it from its JSON
# body (the same body model), and the notice to come back with.
ACTIONS = {
    "enregistrer": ("saved", lambda cid, f: UpdateContractV1(contract_id=cid, **body(f, ContractChange))),
    "soumettre": ("submitted", lambda cid, f: SubmitContractV1(contract_id=cid, **body(f, Step))),
    "decision": ("validated", lambda cid, f: DecideContractV1(
        contract_id=cid, **body(f, Decision, validated=f.get("decision") == "valider"))),  # the button pressed
    "signer": ("signed", lambda cid, f: SignContractV1(contract_id=cid, **body(f, Signature))),
    "terminer": ("ended", lambda cid, f: EndContractV1(contract_id=cid, **body(f, Ending))),
}


async def contract_action(request: Request, visitor: Visitor, notebook_id: uuid.UUID | None, contract_id: uuid.UUID,
                          action: str):
    form = await request.form()
    here = f"{base_of(visitor, notebook_id)}/contrats/{contract_id}"
    if action == "renouveler" and notebook_id is not None:
        return await renew(request, visitor, notebook_id, contract_id)
    if action not in ACTIONS:
        return redirect(here, visitor)
    notice, build = ACTIONS[action]
    try:
        await call(request, build(contract_id, form), access_token=visitor.token)
    except ValidationError as failure:
        return await contract_page(request, visitor, notebook_id, contract_id, error=refusal(failure).message,
                                   form=dict(form), status_code=422)
    except (ValueError, KeyError):
        return await contract_page(request, visitor, notebook_id, contract_id, error=INVALID_FORM, form=dict(form),
                                   status_code=422)
    except ServiceError as error:
        return await contract_page(request, visitor, notebook_id, contract_id, error=error.message, form=dict(form),
                                   status_code=error.http_status)
    if action == "decision" and form.get("decision") != "valider":  # « Renvoyer au référent », not « Valider »
        notice = "returned"
    return redirect(f"{here}?notice={notice}", visitor)


async def renew(request: Request, visitor: Visitor, notebook_id: uuid.UUID,
                                  contract_id: uuid.UUID):
    """"Renouveler": a new draft from this CER."""
    try:
        created = await call(request, CreateContractDraftV1(notebook_id=notebook_id, renewed_from=contract_id),
                             access_token=visitor.token)
    except ServiceError as error:
        return await contract_page(request, visitor, notebook_id, contract_id, error=error.message,
                                   status_code=error.http_status)
    return redirect(f"/carnets/{notebook_id}/contrats/{created.id}?notice=created", visitor)


@router.post("/carnets/{notebook_id}/contrats/{contract_id}/{action}")
async def notebook_contract_action(notebook_id: uuid.UUID, contract_id: uuid.UUID, action: str, request: Request,
                                   visitor: FormVisitorDep):
    return await contract_action(request, visitor, notebook_id, contract_id, action)


@router.post("/mon-carnet/contrats/{contract_id}/{action}")
async def my_contract_action(contract_id: uuid.UUID, action: str, request: Request, visitor: FormVisitorDep):
    return await contract_action(request, visitor, None, contract_id, action)
