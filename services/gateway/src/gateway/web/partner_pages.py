"""The national administrators' page of partners (``/partenaires``): their API credentials, each limited to some
territories, created, rotated and revoked; the secret shown once, on the page that answers its creation or
rotation (never stored by the browser: ``no-store``); and the log of the partners' calls."""
from __future__ import annotations

import uuid
from urllib.parse import quote

from fastapi import APIRouter, Request
from pydantic import ValidationError

from contracts.directory import ListDeploymentsV1
from contracts.partners import (
    CreatePartnerCredentialV1,
    ListPartnerCallsV1,
    ListPartnerCredentialsV1,
    PartnerCallResult,
    RevokePartnerCredentialV1,
    RotatePartnerCredentialV1,
)
from gateway.api.partners import NewCredential
from gateway.bus import call
from gateway.web.common import FormVisitorDep, Visitor, VisitorDep, call_or_leave, redirect, refusal, render
from gateway.web.forms import form_values, parse_form
from servicekit.errors import ServiceError

CHOOSE_TERRITORIES = "Choisissez les territoires dans la liste."
router = APIRouter(include_in_schema=False)

RESULT_LABELS = {PartnerCallResult.pending: "en cours", PartnerCallResult.created: "carnet créé",
                 PartnerCallResult.conflict: "carnet déjà existant", PartnerCallResult.refused: "identifiants refusés",
                 PartnerCallResult.out_of_scope: "territoire non autorisé",
                 PartnerCallResult.bad_request: "demande refusée", PartnerCallResult.invalid: "données invalides",
                 PartnerCallResult.failed: "échec"}
REVOKED = "L'identifiant {client_id} est révoqué : il est refusé dès maintenant."


async def partners_page(request: Request, visitor: Visitor, *, status_code: int = 200, revoked_client_id: str = "",
                        **extra):
    credentials = await call_or_leave(request, visitor, ListPartnerCredentialsV1())
    if any(c.client_id == revoked_client_id and c.revoked_at for c in credentials.credentials):
        extra["notice"] = REVOKED.format(client_id=revoked_client_id)
    calls = await call_or_leave(request, visitor, ListPartnerCallsV1(limit=100))
    deployments = await call_or_leave(request, visitor, ListDeploymentsV1())
    response = render(request, "partners.html.j2", {
        "credentials": credentials.credentials, "calls": calls.calls, "deployments": deployments.deployments,
        "result_labels": RESULT_LABELS, "form": {}, **extra}, visitor=visitor, status_code=status_code)
    if "secret" in extra:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/partenaires")
async def partners(request: Request, visitor: VisitorDep, revoque: str = ""):
    """After a revocation, ``revoque`` names the credential: said only when identity lists it revoked (the page
    never shows text taken from its address, which anyone could write and send to an administrator)."""
    return await partners_page(request, visitor, revoked_client_id=revoque[:80])


@router.post("/partenaires")
async def credential_create(request: Request, visitor: FormVisitorDep):
    form = await request.form()
    try:  # the body of POST /api/v1/partners/credentials
        created = await call(request, CreatePartnerCredentialV1(**dict(parse_form(form, NewCredential))),
                             access_token=visitor.token)
    except ValidationError as failure:  # no territory, or one that is not an id, is said as the list's choice
        error = ServiceError(CHOOSE_TERRITORIES) if any(
            "deployment_ids" in e["loc"] for e in failure.errors()) else refusal(failure)
        return await partners_page(request, visitor, status_code=error.http_status, error=error.message,
                                   form=form_values(form, NewCredential))
    except ServiceError as error:
        return await partners_page(request, visitor, status_code=error.http_status, error=error.message,
                                   form=form_values(form, NewCredential))  # as typed, the territories ticked
    return await partners_page(request, visitor, secret=created.secret, shown=created.credential)


@router.post("/partenaires/{credential_id}/rotation")
async def credential_rotate(credential_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    rotated = await call_or_leave(request, visitor, RotatePartnerCredentialV1(credential_id=credential_id))
    return await partners_page(request, visitor, secret=rotated.secret, shown=rotated.credential)


@router.post("/partenaires/{credential_id}/revocation")
async def credential_revoke(credential_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    revoked = await call_or_leave(request, visitor, RevokePartnerCredentialV1(credential_id=credential_id))
    return redirect("/partenaires?revoque=" + quote(revoked.client_id), visitor)
