"""Administrators' management of accounts: list by state, confirm, deactivate, reactivate, resend, history."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request, Response

from contracts.identity import (
    AccountAction,
    AccountsReply,
    AccountStatus,
    AccountView,
    ChangeAccountV1,
    ListAccountsV1,
    ListLoginHistoryV1,
    LoginHistoryReply,
    Role,
)
from contracts.inputs import MAX_OFFSET
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller

router = APIRouter(prefix="/api/v1/accounts", tags=["comptes"], dependencies=COOKIE_ORIGIN_CHECK)


@router.get("", response_model=AccountsReply)
async def list_accounts(
    request: Request, response: Response, status: AccountStatus | None = None, role: Role | None = None,
    offset: int = Query(0, ge=0, le=MAX_OFFSET), limit: int = Query(50, ge=1, le=200),
) -> AccountsReply:
    """Accounts in the caller's scope (admin_cdb: all; manager: their territory; structure admin: their
    structures' professionals), each with the actions the caller may take on it."""
    return await call_as_caller(request, response, ListAccountsV1(status=status, role=role, offset=offset,
                                                                  limit=limit))


@router.post("/{account_id}/{action}", response_model=AccountView)
async def change_account(account_id: uuid.UUID, action: AccountAction, request: Request,
                         response: Response) -> AccountView:
    """``confirm`` a sign-up request, ``deactivate`` (every session ends at once), ``reactivate``,
    ``resend_invitation`` (a new login link by email)."""
    return await call_as_caller(request, response, ChangeAccountV1(account_id=account_id, action=action))


@router.get("/{account_id}/logins", response_model=LoginHistoryReply)
async def account_logins(account_id: uuid.UUID, request: Request, response: Response) -> LoginHistoryReply:
    return await call_as_caller(request, response, ListLoginHistoryV1(account_id=account_id))
