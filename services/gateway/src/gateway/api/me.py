"""The caller's own account: who they are, CGU, onboarding, profile, email, sessions, login history, and
how often they want to be notified."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from contracts.identity import (
    AcceptCguV1,
    AcceptedReply,
    AccessTokenReply,
    CompleteOnboardingV1,
    ConfirmEmailChangeV1,
    GetJwksV1,
    GetMeV1,
    ListLoginHistoryV1,
    ListMySessionsV1,
    LoginHistoryReply,
    MeReply,
    ProfileFields,
    RequestEmailChangeV1,
    RevokeMySessionV1,
    SessionsReply,
    UpdateMyProfileV1,
)
from contracts.notify import (
    GetMyNotificationPreferencesV1,
    NotificationPreferencesReply,
    SetMyNotificationPreferencesV1,
)
from contracts.inputs import Line
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller, set_access_cookie
from gateway.bus import call

router = APIRouter(tags=["compte"], dependencies=COOKIE_ORIGIN_CHECK)


class CguBody(BaseModel):
    version: Line = Field(max_length=20, examples=["2024-01"])


class EmailChangeBody(BaseModel):
    new_email: Line = Field(max_length=320)


class TokenBody(BaseModel):
    token: Line = Field(max_length=200)


@router.get("/api/v1/me", response_model=MeReply)
async def me(request: Request, response: Response) -> MeReply:
    """The account behind the bearer token or the session cookie, with the steps it must still complete."""
    return await call_as_caller(request, response, GetMeV1())


@router.post("/api/v1/me/cgu", response_model=AccessTokenReply)
async def accept_cgu(body: CguBody, request: Request, response: Response) -> AccessTokenReply:
    """Accepts the terms of use of this version; answers a new access token without the step."""
    tokens = await call_as_caller(request, response, AcceptCguV1(version=body.version))
    set_access_cookie(request, response, tokens)
    return tokens


@router.post("/api/v1/me/onboarding", response_model=AccessTokenReply)
async def complete_onboarding(body: ProfileFields, request: Request, response: Response) -> AccessTokenReply:
    tokens = await call_as_caller(request, response, CompleteOnboardingV1(profile=body))
    set_access_cookie(request, response, tokens)
    return tokens


@router.put("/api/v1/me/profile", response_model=MeReply)
async def update_profile(body: ProfileFields, request: Request, response: Response) -> MeReply:
    return await call_as_caller(request, response, UpdateMyProfileV1(profile=body))


@router.post("/api/v1/me/email", status_code=status.HTTP_202_ACCEPTED, response_model=AcceptedReply)
async def request_email_change(body: EmailChangeBody, request: Request, response: Response) -> AcceptedReply:
    """Sends a verification link to the new address; the email changes when the link is used."""
    return await call_as_caller(request, response, RequestEmailChangeV1(new_email=body.new_email))


@router.post("/api/v1/me/email/confirm", response_model=AcceptedReply)
async def confirm_email_change(body: TokenBody, request: Request) -> AcceptedReply:
    return await call(request, ConfirmEmailChangeV1(token=body.token))


@router.get("/api/v1/me/sessions", response_model=SessionsReply)
async def my_sessions(request: Request, response: Response) -> SessionsReply:
    return await call_as_caller(request, response, ListMySessionsV1())


@router.delete("/api/v1/me/sessions/{session_id}", response_model=AcceptedReply)
async def revoke_session(session_id: uuid.UUID, request: Request, response: Response) -> AcceptedReply:
    return await call_as_caller(request, response, RevokeMySessionV1(session_id=session_id))


@router.get("/api/v1/me/logins", response_model=LoginHistoryReply)
async def my_logins(request: Request, response: Response) -> LoginHistoryReply:
    return await call_as_caller(request, response, ListLoginHistoryV1())


@router.get("/.well-known/jwks.json", include_in_schema=False)
async def jwks(request: Request) -> dict:
    return {"keys": (await call(request, GetJwksV1())).keys}


@router.get("/api/v1/me/notification-preferences", response_model=NotificationPreferencesReply)
async def my_notification_preferences(request: Request, response: Response) -> NotificationPreferencesReply:
    return await call_as_caller(request, response, GetMyNotificationPreferencesV1())


@router.put("/api/v1/me/notification-preferences", response_model=NotificationPreferencesReply)
async def set_my_notification_preferences(body: SetMyNotificationPreferencesV1, request: Request,
                                          response: Response) -> NotificationPreferencesReply:
    """``immediate``, or ``daily``: one email a day gathering the non-urgent notifications."""
    return await call_as_caller(request, response, body)
