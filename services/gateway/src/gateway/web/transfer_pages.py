"""Pages of another territory: a notebook's « Territoire » (its transfers with their state, asking one, the
professionals of other territories invited until a date, inviting one) and the managers' « Transferts » (those
waiting for their territory's decision, to accept or refuse with a reason, and those it asked). Every form posts,
then comes back to its page with a notice, or shows the refusal in French with nothing changed."""
from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Request
from pydantic import ValidationError

from contracts.transfers import (
    DecideTransferV1,
    GetNotebookTransfersV1,
    GrantReferralV1,
    ListTransfersV1,
    RequestTransferV1,
)
from gateway.api.transfers import Referral, TransferAsked, TransferDecision
from gateway.bus import call
from gateway.web.common import FormVisitorDep, Visitor, VisitorDep, call_or_leave, redirect, refusal, render
from gateway.web.forms import parse_form
from servicekit.errors import ServiceError

router = APIRouter(include_in_schema=False)
INVALID_FORM = "Le formulaire contient une valeur invalide : vérifiez les champs saisis."
NOTICES = {"demande": "La demande de transfert est envoyée au territoire de destination.",
           "acces": "L'accès temporaire est ouvert : le professionnel est prévenu par courriel.",
           "accepte": "Le transfert est accepté : le carnet appartient désormais à votre territoire.",
           "refuse": "Le transfert est refusé : le territoire d'origine en est informé."}
STATUS_LABELS = {"pending": "En attente de décision", "accepted": "Accepté", "refused": "Refusé"}


async def territory_page(request: Request, visitor: Visitor, notebook_id: uuid.UUID, *, error: str = "",
                         form: dict | None = None, posted: str = "", status_code: int = 200):
    """The notebook's « Territoire »; on a refusal, ``form`` as typed in the form ``posted`` (« transfert » or
    « acces »: both have a « reason »)."""
    found = await call_or_leave(request, visitor, GetNotebookTransfersV1(notebook_id=notebook_id))
    return render(request, "notebook_territory.html.j2", {
        "found": found, "base": f"/carnets/{notebook_id}", "status_labels": STATUS_LABELS,
        "pending": any(t.status == "pending" for t in found.transfers), "today": date.today().isoformat(),
        "notice": NOTICES.get(request.query_params.get("notice", ""), ""), "error": error, "form": form or {},
        "posted": posted,
    }, visitor=visitor, status_code=status_code)


async def transfers_page(request: Request, visitor: Visitor, *, error: str = "", form: dict | None = None,
                         deciding: uuid.UUID | None = None, status_code: int = 200):
    """The managers' « Transferts »; on a refusal, ``form`` as typed in the card of the transfer ``deciding``."""
    found = await call_or_leave(request, visitor, ListTransfersV1())
    return render(request, "transfers.html.j2", {
        "found": found, "status_labels": STATUS_LABELS,
        "notice": NOTICES.get(request.query_params.get("notice", ""), ""), "error": error,
        "form": form or {}, "deciding": str(deciding or ""),
    }, visitor=visitor, status_code=status_code)


@router.get("/carnets/{notebook_id}/territoire")
async def notebook_territory(notebook_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await territory_page(request, visitor, notebook_id)


async def notebook_form(request: Request, visitor: Visitor, notebook_id: uuid.UUID, build, notice: str):
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
        return redirect(f"/carnets/{notebook_id}/territoire?notice={notice}", visitor)
    return await territory_page(request, visitor, notebook_id, error=error, form=dict(form),
                                posted="transfert" if notice == "demande" else "acces", status_code=status_code)


@router.post("/carnets/{notebook_id}/territoire/transfert")
async def ask_transfer(notebook_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    """« Demander un transfert »: the destination territory and the reason."""
    return await notebook_form(request, visitor, notebook_id, lambda f: RequestTransferV1(
        notebook_id=notebook_id, **dict(parse_form(f, TransferAsked))), "demande")


@router.post("/carnets/{notebook_id}/territoire/acces")
async def grant_referral(notebook_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    """« Inviter un professionnel d'un autre territoire » until a date."""
    return await notebook_form(request, visitor, notebook_id, lambda f: GrantReferralV1(
        notebook_id=notebook_id, **dict(parse_form(f, Referral))), "acces")


@router.get("/transferts")
async def transfers(request: Request, visitor: VisitorDep):
    return await transfers_page(request, visitor)


@router.post("/transferts/{transfer_id}")
async def decide(transfer_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    """Accepted, or refused with a reason, by a manager of the destination."""
    form = await request.form()
    # Which of the card's two forms (a hidden « decision »: « accepter » or « refuser »), the API body's « accepted ».
    accepted = form.get("decision") == "accepter"
    try:  # the body of POST /api/v1/transfers/{id}/decision
        await call(request, DecideTransferV1(transfer_id=transfer_id, **dict(parse_form(
            form, TransferDecision, accepted=accepted))), access_token=visitor.token)
    except ValidationError as failure:
        return await transfers_page(request, visitor, error=refusal(failure).message, form=dict(form),
                                    deciding=transfer_id, status_code=422)
    except ServiceError as error:
        return await transfers_page(request, visitor, error=error.message, form=dict(form), deciding=transfer_id,
                                    status_code=error.http_status)
    return redirect(f"/transferts?notice={'accepte' if accepted else 'refuse'}", visitor)
