"""« Conservation des données » (issue 21): the territory's months without activity, the notebooks due at the next
night's run (the dry run), and « Prolonger » with a date and a reason. Forms post and come back with a notice, or
show the refusal in French with nothing changed."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import ValidationError

from contracts.retention import ExtendRetentionV1, GetRetentionV1, SetRetentionV1
from gateway.api.retention import Extension, RetentionMonths
from gateway.bus import call
from gateway.web.common import FormVisitorDep, Visitor, VisitorDep, call_or_leave, redirect, refusal, render
from gateway.web.forms import parse_form
from servicekit.errors import ServiceError

router = APIRouter(include_in_schema=False)
PAGE = "/territoire/conservation"
INVALID_FORM = "Le formulaire contient une valeur invalide : vérifiez les champs saisis."
NOTICES = {"duree": "La durée de conservation est enregistrée.",
           "prolonge": "La conservation du carnet est prolongée ; la raison est enregistrée."}


async def page(request: Request, visitor: Visitor, *, error: str = "", form: dict | None = None,
               extending: uuid.UUID | None = None, status_code: int = 200):
    """The page; on a refusal, ``form`` as typed, in the months' form or in the row of the notebook ``extending``."""
    found = await call_or_leave(request, visitor, GetRetentionV1())
    return render(request, "retention.html.j2", {
        "found": found, "notice": NOTICES.get(request.query_params.get("notice", ""), ""), "error": error,
        "form": form or {}, "extending": str(extending or ""),
    }, visitor=visitor, status_code=status_code)


@router.get(PAGE)
async def retention(request: Request, visitor: VisitorDep):
    return await page(request, visitor)


async def submit(request: Request, visitor: Visitor, build, notice: str, extending: uuid.UUID | None = None):
    form = await request.form()
    try:
        await call(request, build(form), access_token=visitor.token)
    except ValidationError as failure:
        error, status_code = refusal(failure).message, 422
    except (ValueError, KeyError):
        error, status_code = INVALID_FORM, 422
    except ServiceError as failure:
        error, status_code = failure.message, failure.http_status
    else:
        return redirect(f"{PAGE}?notice={notice}", visitor)
    return await page(request, visitor, error=error, form=dict(form), extending=extending, status_code=status_code)


@router.post(f"{PAGE}/duree")
async def set_months(request: Request, visitor: FormVisitorDep):
    return await submit(request, visitor, lambda form: SetRetentionV1(**dict(parse_form(form, RetentionMonths))),
                        "duree")


@router.post(f"{PAGE}/{{notebook_id}}/prolonger")
async def extend(notebook_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    return await submit(request, visitor, lambda form: ExtendRetentionV1(
        notebook_id=notebook_id, **dict(parse_form(form, Extension))), "prolonge", notebook_id)
