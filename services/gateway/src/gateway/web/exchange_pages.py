"""Pages of the exchanges between professionals: the thread of a notebook with its form (mentions, a question to a
member, "partagé avec la personne") and the warning against health or sensitive details next to the text box; the
beneficiary's page of the messages shared with her, where she answers one of them; the section of the notebook's
page. Viewing the thread marks it read; a message posts, then comes back to the thread (or shows the refusal with
what was typed)."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import ValidationError

from contracts.exchanges import (
    MAX_EXCHANGE_LENGTH,
    SENSITIVE_WARNING,
    ListExchangesV1,
    PostExchangeV1,
    ReplyExchangeV1,
)
from contracts.identity import Role
from gateway.api.exchanges import ExchangeAnswer, NewExchange
from gateway.bus import call
from gateway.web.common import FormVisitorDep, Visitor, VisitorDep, call_or_leave, redirect, refusal, render
from gateway.web.forms import form_values, parse_form
from servicekit.errors import ServiceError

router = APIRouter(include_in_schema=False)
INVALID_FORM = "Le formulaire contient une valeur invalide : vérifiez les champs saisis."
NOTICES = {"posted": "Votre message est publié dans les échanges.",
           "answered": "Votre réponse est envoyée : les professionnels qui vous accompagnent pourront la lire."}
SECTION_OPERATIONS = {"view_exchanges", "view_shared_exchanges"}


async def exchange_section(request: Request, visitor: Visitor, allowed: list[str], notebook_id: uuid.UUID | None):
    """For the notebook's page: the members' unread count, or the messages shared with the beneficiary (the page
    does not mark the thread read: its own page does)."""
    if not SECTION_OPERATIONS & set(allowed):
        return None
    try:
        return await call(request, ListExchangesV1(notebook_id=None if visitor.me.role == Role.beneficiary
                                                   else notebook_id, mark_read=False), access_token=visitor.token)
    except ServiceError:
        return None  # the rest of the notebook shows all the same


async def thread_page(request: Request, visitor: Visitor, notebook_id: uuid.UUID | None, *, error: str = "",
                      form: dict | None = None, status_code: int = 200, answering: uuid.UUID | None = None):
    mine = visitor.me.role == Role.beneficiary
    found = await call_or_leave(request, visitor, ListExchangesV1(notebook_id=None if mine else notebook_id,
                                                                  mark_read=status_code == 200))
    return render(request, "exchanges.html.j2", {
        "found": found, "mine": mine, "base": "/mon-carnet" if mine else f"/carnets/{found.notebook_id}",
        "notice": NOTICES.get(request.query_params.get("notice", ""), ""), "error": error, "form": form or {},
        "warning": SENSITIVE_WARNING, "max_length": MAX_EXCHANGE_LENGTH, "answering": answering,
    }, visitor=visitor, status_code=status_code)


@router.get("/carnets/{notebook_id}/echanges")
async def exchanges(notebook_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await thread_page(request, visitor, notebook_id)


@router.get("/mon-carnet/echanges")
async def my_exchanges(request: Request, visitor: VisitorDep):
    return await thread_page(request, visitor, None)


@router.post("/carnets/{notebook_id}/echanges/nouveau")
async def post_exchange(notebook_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    form = await request.form()
    typed = form_values(form, NewExchange)  # shown again if refused, as the model reads it (a long text cut)
    typed["text"] = typed.get("text", "")[:MAX_EXCHANGE_LENGTH + 1]
    try:  # the body of POST /api/v1/notebooks/{id}/exchanges (the service says when the text is blank)
        await call(request, PostExchangeV1(notebook_id=notebook_id, **dict(parse_form(form, NewExchange))),
                   access_token=visitor.token)
    except (ValidationError, ServiceError) as failure:  # a field's rule (422) or the service's refusal
        refused = refusal(failure)
        return await thread_page(request, visitor, notebook_id, error=refused.message, form=typed,
                                 status_code=refused.http_status)
    except ValueError:
        return await thread_page(request, visitor, notebook_id, error=INVALID_FORM, form=typed, status_code=422)
    return redirect(f"/carnets/{notebook_id}/echanges?notice=posted#nouveau-message", visitor)


@router.post("/mon-carnet/echanges/{exchange_id}/repondre")
async def reply_exchange(exchange_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    form = await request.form()
    typed = {"text": str(form.get("text", ""))[:MAX_EXCHANGE_LENGTH + 1]}
    try:  # the body of POST /api/v1/me/notebook/exchanges/{id}/replies (the service says when the text is blank)
        answer = await call(request, ReplyExchangeV1(exchange_id=exchange_id,
                                                     **dict(parse_form(form, ExchangeAnswer))),
                            access_token=visitor.token)
    except (ValidationError, ServiceError) as failure:
        refused = refusal(failure)
        return await thread_page(request, visitor, None, error=refused.message, form=typed,
                                 status_code=refused.http_status, answering=exchange_id)
    except ValueError:
        return await thread_page(request, visitor, None, error=INVALID_FORM, form=typed, status_code=422,
                                 answering=exchange_id)
    return redirect(f"/mon-carnet/echanges?notice=answered#echange-{answer.exchange_id}", visitor)
