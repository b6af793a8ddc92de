"""Partners' API (spec §4.5, issue 16): partner software creates notebooks with its own credential; national
administrators manage the credentials and read the log of calls.

A partner authenticates with HTTP Basic: its client id and secret. Identity checks them (and the territory, and the
manager named) and lends a one-minute token of that manager for the one notebook call; the notebook checks the
manager's rights as for a form. The answers are v1's: 201 ``{notebookId}``, 401 no credential, 403 a wrong one (or a
territory it does not serve), 409 ``{notebookId}`` when the NIR has a notebook in this territory, 400 when it has
one in another (which one is not said) or the manager is unknown, 422 a body that breaks the rules.
"""
from __future__ import annotations

import base64
import binascii
import uuid

import structlog
from fastapi import APIRouter, Body, Path, Request, Response, Security, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic
from pydantic import BaseModel, Field

from contracts.base import HTTP_STATUS_BY_ERROR, ErrorCode, ErrorEnvelope
from contracts.partners import (
    BAD_REQUEST,
    PARTNER_NAME,
    AuthenticatePartnerV1,
    CreatePartnerCredentialV1,
    CreatePartnerNotebook,
    CreatePartnerNotebookV1,
    FinishPartnerCallV1,
    ListPartnerCallsV1,
    ListPartnerCredentialsV1,
    PartnerCallResult,
    PartnerCallsReply,
    PartnerCredentialsReply,
    PartnerCredentialView,
    PartnerNotebookCreated,
    PartnerSecretReply,
    RevokePartnerCredentialV1,
    RotatePartnerCredentialV1,
)
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller
from gateway.bus import call
from servicekit.errors import ServiceError

log = structlog.get_logger("gateway.partners")

# Partners send no cookie of ours; a browser that does, from another site, is refused like everywhere in the API.
router = APIRouter(prefix="/api/v1/partners", tags=["partenaires"], dependencies=COOKIE_ORIGIN_CHECK)
admin = APIRouter(prefix="/api/v1/partners", tags=["partenaires"], dependencies=COOKIE_ORIGIN_CHECK)

REALM = 'Basic realm="partenaires", charset="UTF-8"'
MISSING = ("Authentification requise : envoyez l'identifiant client et le secret du partenaire "
           "(en-tête Authorization: Basic).")
PartnerPath = Path(pattern=PARTNER_NAME, description="Le nom du partenaire, celui de son identifiant (ex. rdvi)",
                   examples=["rdvi"])


def envelope(code: ErrorCode, message: str, status_code: int, **extra) -> JSONResponse:
    body = ErrorEnvelope(code=code, message=message).model_dump(mode="json")
    return JSONResponse({**body, **extra}, status_code=status_code)


class BasicCredential(BaseModel):
    client_id: str
    secret: str


class PartnerBasic(HTTPBasic):
    """HTTP Basic as OpenAPI documents it, read leniently: no credential, or one that cannot be read, is None (the
    route answers 401 in French) rather than FastAPI's English error."""

    async def __call__(self, request: Request) -> BasicCredential | None:  # type: ignore[override]
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            client_id, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        # A client id with control characters is none of ours (they are ``cdb_`` and hex): unreadable, not a 422.
        if not (sep and client_id and secret) or len(client_id) > 80 or len(secret) > 200 \
                or not client_id.isprintable():
            return None
        return BasicCredential(client_id=client_id, secret=secret)


partner_basic = PartnerBasic(scheme_name="partnerBasic", auto_error=False,
                             description="L'identifiant client du partenaire et son secret (page « Partenaires »).")


def unauthenticated() -> JSONResponse:
    response = envelope(ErrorCode.unauthenticated, MISSING, 401)
    response.headers["WWW-Authenticate"] = REALM
    return response


NOTEBOOK_EXAMPLES = {
    "rdvi": {
        "summary": "Un bénéficiaire créé par RDV-Insertion",
        "value": {"rdviUserEmail": "gestion@cd51.fr", "deploymentId": "4f0c2f5e-6d3a-4c55-9d7e-1b0f3a9c2e11",
                  "notebook": {"nir": "1781299212296", "externalId": "rdvi-4521", "firstname": "Jay",
                               "lastname": "Randévoui", "dateOfBirth": "1978-12-01",
                               "mobileNumber": "06 12 34 56 78", "email": "jay.randevoui@example.fr",
                               "address1": "12 rue de la Paix", "postalCode": "51100", "city": "Reims",
                               "cafNumber": "1234567"}},
    },
    "minimal": {
        "summary": "Le minimum : NIR, nom, prénom, date de naissance",
        "value": {"rdviUserEmail": "gestion@cd51.fr", "deploymentId": "4f0c2f5e-6d3a-4c55-9d7e-1b0f3a9c2e11",
                  "notebook": {"nir": "2850275123456", "firstname": "Hélène", "lastname": "Çelik",
                               "dateOfBirth": "1985-02-12"}},
    },
}


def error_doc(description: str, example: dict) -> dict:
    return {"description": description, "content": {"application/json": {"example": example}}}


NOTEBOOK_RESPONSES = {
    201: {"description": "Le bénéficiaire et son carnet sont créés : l'identifiant du carnet.",
          "content": {"application/json": {"example": {"notebookId": "0b7c8a8e-0d7f-4a8e-8d4b-5f3e2c1a9b77"}}}},
    401: error_doc("Aucun identifiant de partenaire (en-tête Authorization: Basic absent ou illisible).",
                   {"code": "unauthenticated", "message": MISSING, "details": {}}),
    403: error_doc("Identifiant ou secret refusé (faux, révoqué, remplacé), ou territoire hors du périmètre du "
                   "partenaire.", {"code": "forbidden", "message": "Ce partenaire n'est pas habilité sur ce "
                                                                     "territoire.", "details": {}}),
    409: error_doc("Ce NIR a déjà un carnet sur ce territoire : son identifiant est rendu.",
                   {"code": "conflict", "message": "Ce bénéficiaire a déjà un carnet sur ce territoire.",
                    "details": {"notebookId": "0b7c8a8e-0d7f-4a8e-8d4b-5f3e2c1a9b77"},
                    "notebookId": "0b7c8a8e-0d7f-4a8e-8d4b-5f3e2c1a9b77"}),
    400: error_doc("Ce NIR a un carnet sur un autre territoire (lequel n'est pas dit), ou aucun gestionnaire actif "
                   "du territoire n'a l'adresse rdviUserEmail.",
                   {"code": "invalid", "message": "Ce bénéficiaire a déjà un carnet sur un autre territoire : il ne "
                                                  "peut pas être créé ici.", "details": {"reason": "bad_request"}}),
    422: error_doc("Le corps de la demande ne respecte pas les règles : chaque champ refusé est nommé en français.",
                   {"code": "invalid", "message": "Le champ « dateOfBirth » est obligatoire.",
                    "details": {"fields": [{"loc": ["body", "notebook", "dateOfBirth"], "type": "missing",
                                            "message": "Le champ « dateOfBirth » est obligatoire."}]}}),
}

RESULT_BY_STATUS = {201: PartnerCallResult.created, 409: PartnerCallResult.conflict,
                    400: PartnerCallResult.bad_request, 422: PartnerCallResult.invalid}


@router.post("/{partner}/notebooks", status_code=status.HTTP_201_CREATED, response_model=PartnerNotebookCreated,
             responses=NOTEBOOK_RESPONSES, summary="Créer le carnet d'un bénéficiaire (partenaire)")
async def create_partner_notebook(
    request: Request,
    partner: str = PartnerPath,
    body: CreatePartnerNotebook = Body(openapi_examples=NOTEBOOK_EXAMPLES),
    credential: BasicCredential | None = Security(partner_basic),
):
    """Crée le bénéficiaire et son carnet sur le territoire ``deploymentId``, au nom du gestionnaire
    ``rdviUserEmail`` de ce territoire (l'auteur du carnet), avec l'identifiant client et le secret du partenaire
    en HTTP Basic. Le NIR est cherché sur tous les territoires."""
    if credential is None:
        return unauthenticated()
    try:
        lent = await call(request, AuthenticatePartnerV1(
            partner=partner, client_id=credential.client_id, secret=credential.secret,
            route=f"POST /api/v1/partners/{partner}/notebooks", deployment_id=body.deploymentId,
            manager_email=body.rdviUserEmail))
    except ServiceError as refusal:
        return refusal_response(refusal)
    try:
        created = await call(request, CreatePartnerNotebookV1(
            partner=partner, deployment_id=body.deploymentId, notebook=body.notebook), access_token=lent.access_token)
        answer = JSONResponse(PartnerNotebookCreated(notebookId=created.notebook_id).model_dump(mode="json"),
                              status_code=201)
    except ServiceError as refusal:
        answer = refusal_response(refusal)
    await finish(request, lent.call_id, answer.status_code)
    return answer


def refusal_response(refusal: ServiceError) -> JSONResponse:
    """A refusal in v1's codes: a conflict gives the notebook's id; a bad request is 400, not 422."""
    body = refusal.envelope()
    if body.code == ErrorCode.conflict and "notebookId" in body.details:
        return envelope(body.code, body.message, 409, details=body.details, notebookId=body.details["notebookId"])
    if body.code == ErrorCode.invalid and body.details.get("reason") == BAD_REQUEST:
        return envelope(body.code, body.message, 400, details=body.details)
    return JSONResponse(body.model_dump(mode="json"), status_code=HTTP_STATUS_BY_ERROR[body.code])


async def finish(request: Request, call_id: uuid.UUID, status_code: int) -> None:
    """The call's outcome in the partners' log; the partner's answer does not wait on a failure to write it."""
    result = RESULT_BY_STATUS.get(status_code, PartnerCallResult.failed)
    try:
        await call(request, FinishPartnerCallV1(call_id=call_id, result=result, status=status_code))
    except ServiceError as exc:
        log.warning("partner_call_not_finished", call_id=str(call_id), error=str(exc))


# --- administrators: the credentials and the log -----------------------------------------------------------------

class NewCredential(BaseModel):
    partner: str = Field(pattern=PARTNER_NAME, examples=["rdvi"])
    deployment_ids: list[uuid.UUID] = Field(min_length=1, max_length=200)


@admin.get("/credentials", response_model=PartnerCredentialsReply)
async def list_credentials(request: Request, response: Response) -> PartnerCredentialsReply:
    """admin_cdb : les identifiants des partenaires (jamais leur secret)."""
    return await call_as_caller(request, response, ListPartnerCredentialsV1())


@admin.post("/credentials", status_code=status.HTTP_201_CREATED, response_model=PartnerSecretReply)
async def create_credential(body: NewCredential, request: Request, response: Response) -> PartnerSecretReply:
    """admin_cdb : un identifiant pour un partenaire, limité à des territoires. Le secret n'est montré qu'ici."""
    response.headers["Cache-Control"] = "no-store"  # the secret in clear: kept by no cache
    return await call_as_caller(request, response, CreatePartnerCredentialV1(**body.model_dump()))


@admin.post("/credentials/{credential_id}/rotation", response_model=PartnerSecretReply)
async def rotate_credential(credential_id: uuid.UUID, request: Request, response: Response) -> PartnerSecretReply:
    """admin_cdb : un nouveau secret ; l'ancien est refusé dès maintenant."""
    response.headers["Cache-Control"] = "no-store"
    return await call_as_caller(request, response, RotatePartnerCredentialV1(credential_id=credential_id))


@admin.post("/credentials/{credential_id}/revocation", response_model=PartnerCredentialView)
async def revoke_credential(credential_id: uuid.UUID, request: Request, response: Response) -> PartnerCredentialView:
    """admin_cdb : l'identifiant est refusé dès maintenant, pour toujours."""
    return await call_as_caller(request, response, RevokePartnerCredentialV1(credential_id=credential_id))


@admin.get("/calls", response_model=PartnerCallsReply)
async def list_calls(request: Request, response: Response, limit: int = 100) -> PartnerCallsReply:
    """admin_cdb : les derniers appels des partenaires (partenaire, route, résultat, heure)."""
    return await call_as_caller(request, response, ListPartnerCallsV1(limit=max(1, min(limit, 500))))
