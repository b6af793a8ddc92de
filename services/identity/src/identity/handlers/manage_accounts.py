"""Administrators' view of accounts: the list with states and actions, login histories, and the actions."""
from __future__ import annotations

from sqlalchemy import and_, select, true

from contracts.identity import (
    AccountAction,
    AccountConfirmedV1,
    AccountDeactivatedV1,
    AccountReactivatedV1,
    AccountsReply,
    AccountStatus,
    AccountView,
    ChangeAccountV1,
    LinkPurpose,
    ListAccountsV1,
    ListLoginHistoryV1,
    LoginEvent,
    LoginHistoryReply,
    Role,
)
from identity.adapters import audit_trail
from identity.adapters.orm import Account, LoginAttempt
from identity.domain.errors import ACCOUNT_NOT_FOUND, NOT_ALLOWED, WRONG_STATE, Conflict, Forbidden, NotFound
from identity.domain.habilitation import STATUS_BEFORE, AccountOperation, Actor, may
from identity.handlers.accounts import actor_of, current_account, revoke_sessions, state_of, target_of, view_of
from identity.handlers.deps import Deps
from identity.handlers.request_login_link import issue_link
from servicekit.db import paged
from servicekit.rpc import RpcContext

MANAGING_ROLES = {Role.admin_cdb, Role.manager, Role.admin_structure}


def scope_filter(actor: Actor):
    """``habilitation.in_scope`` in SQL, exact for admin_cdb and managers (paged in the database); for
    structure admins it narrows to their territory's professionals and the structures are checked per row."""
    if actor.role == Role.admin_cdb:
        return true()
    if actor.role == Role.manager:
        return and_(Account.deployment_id == actor.deployment_id, Account.role.not_in((Role.admin_cdb, Role.partner)))
    return and_(Account.deployment_id == actor.deployment_id, Account.role == Role.professional)


async def list_accounts(request: ListAccountsV1, ctx: RpcContext, deps: Deps) -> AccountsReply:
    async with deps.sessions() as session:
        principal, _account = await current_account(session, deps, ctx)
        actor = actor_of(principal)
        if actor.role not in MANAGING_ROLES:
            raise Forbidden(NOT_ALLOWED)
        query = select(Account).where(scope_filter(actor)).order_by(Account.created_at.desc(), Account.id)
        if request.status:
            query = query.where(Account.status == request.status)
        if request.role:
            query = query.where(Account.role == request.role)
        if actor.role == Role.admin_structure:
            rows = (await session.execute(query)).scalars().all()
            visible = [a for a in rows if may(actor, AccountOperation.view, target_of(a))]
            total, page = len(visible), visible[request.offset:request.offset + request.limit]
        else:
            total, page = await paged(session, query, request.offset, request.limit)
    return AccountsReply(accounts=[view_of(a, actor) for a in page], total=total)


async def list_login_history(request: ListLoginHistoryV1, ctx: RpcContext, deps: Deps) -> LoginHistoryReply:
    async with deps.sessions() as session:
        principal, account = await current_account(session, deps, ctx)
        if request.account_id is not None and request.account_id != account.id:
            account = await session.get(Account, request.account_id)
            if account is None or not may(actor_of(principal), AccountOperation.view, target_of(account)):
                raise NotFound(ACCOUNT_NOT_FOUND)
        rows = (await session.execute(
            select(LoginAttempt).where(LoginAttempt.account_id == account.id)
            .order_by(LoginAttempt.at.desc()).limit(request.limit)
        )).scalars()
        return LoginHistoryReply(events=[LoginEvent(kind=r.kind, success=r.success, ip=r.ip, user_agent=r.user_agent,
                                                    at=r.at) for r in rows])


async def change_account(request: ChangeAccountV1, ctx: RpcContext, deps: Deps) -> AccountView:
    operation = AccountOperation(request.action.value)
    async with deps.sessions() as session, session.begin():
        principal, me = await current_account(session, deps, ctx)
        actor = actor_of(principal)
        account = await session.get(Account, request.account_id, with_for_update=True)
        if account is None or not may(actor, AccountOperation.view, target_of(account)):
            raise NotFound(ACCOUNT_NOT_FOUND)
        if not may(actor, operation, target_of(account)):
            raise Forbidden(NOT_ALLOWED)
        if account.status not in STATUS_BEFORE[operation] or (
                operation == AccountOperation.resend_invitation and not account.email):
            raise Conflict(WRONG_STATE[operation.value], details={"status": account.status})
        now = deps.clock()
        invited_by = f"{me.firstname} {me.lastname}".strip()
        if request.action == AccountAction.confirm:
            account.status = AccountStatus.active
            await deps.outbox.add(session, AccountConfirmedV1(
                **state_of(account), phone=account.phone, position=account.position,
                requested_structure=account.requested_structure))
            await issue_link(session, deps, account, LinkPurpose.signup_confirmed, invited_by)
        elif request.action == AccountAction.deactivate:
            account.status = AccountStatus.deactivated
            await revoke_sessions(session, deps, account.id)
            await deps.outbox.add(session, AccountDeactivatedV1(**state_of(account)))
        elif request.action == AccountAction.reactivate:
            account.status = AccountStatus.active
            await deps.outbox.add(session, AccountReactivatedV1(**state_of(account)))
        else:
            await issue_link(session, deps, account, LinkPurpose.invitation, invited_by)
        account.updated_at = now
        await deps.outbox.add(session, audit_trail.line(  # the audit trail's line (issue 21)
            f"account.{request.action.value}", account, actor_account_id=principal.account_id,
            actor_role=principal.role))
        return view_of(account, actor)
