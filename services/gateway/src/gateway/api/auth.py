"""Login by magic link, token exchange and refresh, for API clients."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from contracts.identity import (
    AcceptedReply,
    ExchangeLoginLinkV1,
    GetLoginOptionsV1,
    LoginOptionsReply,
    LogoutV1,
    ProfileFields,
    RefreshSessionV1,
    RequestLoginLinkV1,
    RequestSignupV1,
    RequestSmsCodeV1,
    TokenPairReply,
    VerifySmsCodeV1,
)
from contracts.inputs import Line
from gateway.auth.session import client_info
from gateway.bus import call

router = APIRouter(prefix="/api/v1/auth", tags=["authentification"])

LINK_SENT = "Si un compte existe pour cette adresse, un lien de connexion vient d'y être envoyé. Il est valable 15 minutes."
CODE_SENT = ("Si ce numéro est celui d'un compte bénéficiaire, un code à 6 chiffres vient d'y être envoyé par SMS. "
             "Il est valable 10 minutes.")
SIGNUP_SENT = ("Votre demande a été transmise aux gestionnaires du territoire. Vous recevrez un e-mail dès qu'elle "
               "sera validée.")


class MagicLinkBody(BaseModel):
    email: Line = Field(max_length=320, examples=["pro@demo.carnet.test"])


class MagicLinkAnswer(BaseModel):
    message: str


class TokenBody(BaseModel):
    token: Line = Field(max_length=200)


class SmsCodeBody(BaseModel):
    phone: Line = Field(max_length=40, examples=["06 12 34 56 78"])


class SmsCodeVerifyBody(SmsCodeBody):
    code: Line = Field(max_length=12, examples=["123456"])


class SignupBody(ProfileFields):
    email: Line = Field(max_length=320)
    deployment_id: uuid.UUID
    structure_name: Line = Field(max_length=250)


class RefreshBody(BaseModel):
    refresh_token: Line = Field(max_length=200)


@router.post("/magic-link", status_code=status.HTTP_202_ACCEPTED, response_model=MagicLinkAnswer)
async def request_magic_link(body: MagicLinkBody, request: Request) -> MagicLinkAnswer:
    """Sends a login link by email. The answer is the same whether or not the address has an account."""
    await call(request, RequestLoginLinkV1(email=body.email, client=client_info(request)))
    return MagicLinkAnswer(message=LINK_SENT)


@router.post("/token", response_model=TokenPairReply)
async def exchange_token(body: TokenBody, request: Request) -> TokenPairReply:
    """Exchanges the token of a login link for an access token (15 min) and a refresh token."""
    return await call(request, ExchangeLoginLinkV1(token=body.token, client=client_info(request)))


@router.post("/refresh", response_model=TokenPairReply)
async def refresh(body: RefreshBody, request: Request) -> TokenPairReply:
    """Rotates the refresh token; presenting an old one again ends the whole session."""
    return await call(request, RefreshSessionV1(refresh_token=body.refresh_token, client=client_info(request)))


@router.post("/logout", response_model=AcceptedReply)
async def logout(body: RefreshBody, request: Request) -> AcceptedReply:
    return await call(request, LogoutV1(refresh_token=body.refresh_token))


@router.get("/options", response_model=LoginOptionsReply)
async def login_options(request: Request) -> LoginOptionsReply:
    """Territories open to sign-up requests, whether single sign-on is offered, the current CGU version."""
    return await call(request, GetLoginOptionsV1())


@router.post("/sms-code", status_code=status.HTTP_202_ACCEPTED, response_model=MagicLinkAnswer)
async def request_sms_code(body: SmsCodeBody, request: Request) -> MagicLinkAnswer:
    """Beneficiaries: sends a 6-digit code by SMS (10 minutes, 5 tries). Same answer for unknown numbers."""
    await call(request, RequestSmsCodeV1(phone=body.phone, client=client_info(request)))
    return MagicLinkAnswer(message=CODE_SENT)


@router.post("/sms-code/verify", response_model=TokenPairReply)
async def verify_sms_code(body: SmsCodeVerifyBody, request: Request) -> TokenPairReply:
    return await call(request, VerifySmsCodeV1(phone=body.phone, code=body.code, client=client_info(request)))


@router.post("/signup-requests", status_code=status.HTTP_202_ACCEPTED, response_model=MagicLinkAnswer)
async def request_signup(body: SignupBody, request: Request) -> MagicLinkAnswer:
    """A professional asks for an account; a manager of the territory must confirm it before any login."""
    profile = ProfileFields(firstname=body.firstname, lastname=body.lastname, phone=body.phone, position=body.position)
    await call(request, RequestSignupV1(email=body.email, profile=profile, deployment_id=body.deployment_id,
                                        structure_name=body.structure_name, client=client_info(request)))
    return MagicLinkAnswer(message=SIGNUP_SENT)
