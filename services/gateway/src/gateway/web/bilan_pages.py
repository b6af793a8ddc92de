"""Pages of the bilans d'accompagnement: the editor (the bilan at a chosen date, pre-filled with the progress of each
objective and action since the previous bilan; the professional writes only his assessment and the next steps) and
the bilan's page with its PDF, the professionals' and the beneficiary's (on /mon-carnet)."""
from __future__ import annotations

import base64
import uuid
from datetime import date

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from contracts.bilans import CreateBilanV1, GetBilanPdfV1, GetBilanV1, PrepareBilanV1
from contracts.identity import Role
from gateway.api.bilans import PDF_TIMEOUT_S, NewBilan
from gateway.bus import call
from gateway.web.common import (
    FormVisitorDep, LeavePage, Visitor, VisitorDep, call_or_leave, error_page, redirect, refusal, render,
    with_cookies_of,
)
from gateway.web.common import form_text as text
from gateway.web.forms import parse_form
from servicekit.errors import Invalid, NotFound, ServiceError

router = APIRouter(include_in_schema=False)
BILAN_NOT_FOUND = "Ce bilan n'existe pas."
INVALID_DATE = "La date du bilan n'est pas valide : choisissez une date au format jj/mm/aaaa."
NOTICES = {"created": "Le bilan est enregistré. Le bénéficiaire peut le lire depuis son carnet."}


def base_of(visitor: Visitor, notebook_id: uuid.UUID | None) -> str:
    return "/mon-carnet" if visitor.me.role == Role.beneficiary else f"/carnets/{notebook_id}"


def chosen_date(value: str) -> date | None:
    """The date typed (empty: today); a malformed one is refused in French."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise Invalid(INVALID_DATE, details={"field": "bilan_date"}) from None


async def editor(request: Request, visitor: Visitor, notebook_id: uuid.UUID, bilan_date: str, *,
                 error: str = "", form: dict | None = None, status_code: int = 200):
    """The editor pre-filled for ``bilan_date``; a date the service refuses is said above the form, which is shown
    pre-filled for today if it can be."""
    draft = None
    try:
        draft = await call(request, PrepareBilanV1(notebook_id=notebook_id, bilan_date=chosen_date(bilan_date)),
                           access_token=visitor.token)
    except ServiceError as refused:
        if refused.code not in (Invalid.code,):
            raise LeavePage(error_page(request, refused, visitor=visitor)) from None
        error = error or refused.message
        status_code = status_code if status_code != 200 else refused.http_status
        try:
            draft = await call(request, PrepareBilanV1(notebook_id=notebook_id), access_token=visitor.token)
        except ServiceError:
            draft = None
    return render(request, "bilan_editor.html.j2", {
        "draft": draft, "base": f"/carnets/{notebook_id}", "error": error, "form": form or {},
        "chosen": bilan_date or (draft.bilan_date.isoformat() if draft else ""),
    }, visitor=visitor, status_code=status_code)


@router.get("/carnets/{notebook_id}/bilans/nouveau")
async def new_bilan(notebook_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await editor(request, visitor, notebook_id, text(request.query_params, "date", 10))


@router.post("/carnets/{notebook_id}/bilans/nouveau")
async def save_bilan(notebook_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    form = await request.form()
    chosen = text(form, "bilan_date", 10)  # the editor's date, to show it again with a refusal
    try:  # the body of POST /api/v1/notebooks/{id}/bilans (no date: today)
        created = await call(request, CreateBilanV1(notebook_id=notebook_id, **dict(parse_form(form, NewBilan))),
                             access_token=visitor.token)
    except ValidationError as failure:
        return await editor(request, visitor, notebook_id, chosen, error=refusal(failure).message, form=dict(form),
                            status_code=422)
    except ServiceError as error:
        return await editor(request, visitor, notebook_id, chosen, error=error.message, form=dict(form),
                            status_code=error.http_status)
    return redirect(f"/carnets/{notebook_id}/bilans/{created.id}?notice=created", visitor)


async def bilan_of(request: Request, visitor: Visitor, notebook_id: uuid.UUID | None, bilan_id: uuid.UUID):
    """The bilan, if it is one of this notebook's (asked under another notebook's address: not found)."""
    bilan = await call_or_leave(request, visitor, GetBilanV1(bilan_id=bilan_id))
    if notebook_id is not None and bilan.notebook_id != notebook_id:
        raise LeavePage(error_page(request, NotFound(BILAN_NOT_FOUND), visitor=visitor))
    return bilan


async def bilan_page(request: Request, visitor: Visitor, notebook_id: uuid.UUID | None, bilan_id: uuid.UUID):
    bilan = await bilan_of(request, visitor, notebook_id, bilan_id)
    return render(request, "bilan.html.j2", {
        "b": bilan, "base": base_of(visitor, bilan.notebook_id),
        "notice": NOTICES.get(request.query_params.get("notice", ""), ""),
    }, visitor=visitor)


@router.get("/carnets/{notebook_id}/bilans/{bilan_id}")
async def notebook_bilan(notebook_id: uuid.UUID, bilan_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await bilan_page(request, visitor, notebook_id, bilan_id)


@router.get("/mon-carnet/bilans")
async def my_bilans(request: Request, visitor: VisitorDep):
    return redirect("/mon-carnet#bilans", visitor)


@router.get("/mon-carnet/bilans/{bilan_id}")
async def my_bilan(bilan_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await bilan_page(request, visitor, None, bilan_id)


async def pdf(request: Request, visitor: Visitor, notebook_id: uuid.UUID | None, bilan_id: uuid.UUID) -> Response:
    await bilan_of(request, visitor, notebook_id, bilan_id)
    try:
        document = await call(request, GetBilanPdfV1(bilan_id=bilan_id), access_token=visitor.token,
                              timeout_s=PDF_TIMEOUT_S)
    except ServiceError as error:
        return error_page(request, error, visitor=visitor)
    return with_cookies_of(visitor.cookies, Response(
        base64.b64decode(document.pdf_base64), media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{document.filename}"', "Cache-Control": "no-store"}))


@router.get("/carnets/{notebook_id}/bilans/{bilan_id}/pdf")
async def notebook_bilan_pdf(notebook_id: uuid.UUID, bilan_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await pdf(request, visitor, notebook_id, bilan_id)


@router.get("/mon-carnet/bilans/{bilan_id}/pdf")
async def my_bilan_pdf(bilan_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await pdf(request, visitor, None, bilan_id)
