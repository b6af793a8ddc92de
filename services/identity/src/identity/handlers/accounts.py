"""What several use cases need about accounts: who is calling, ending sessions, the account as events see it."""
from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import AccountStatus, AccountView, Role, SessionsRevokedV1
from identity.adapters.orm import Account, RefreshToken
from identity.domain.errors import ACCOUNT_DEACTIVATED, SESSION_NOT_VALID, Forbidden, Unauthenticated
from identity.domain.habilitation import Actor, TargetAccount, allowed_operations
from identity.handlers.deps import Deps
from identity.handlers.issue_session import steps_of
from servicekit.auth import STEPS_PENDING, Principal
from servicekit.rpc import RpcContext


def refuse_inactive(account: Account | None) -> Account:
    if account is None or account.status == AccountStatus.pending:
        raise Unauthenticated(SESSION_NOT_VALID)
    if account.status == AccountStatus.deactivated:
        raise Unauthenticated(ACCOUNT_DEACTIVATED)
    return account


async def current_account(
    session: AsyncSession, deps: Deps, ctx: RpcContext, *, allow_pending: bool = False
) -> tuple[Principal, Account]:
    """The caller, checked against the database: identity knows at once of a deactivation or a revoked session."""
    principal = await deps.verifier.verify(ctx.bearer_token, allow_pending=True)
    # The session is read before the account: a deactivation commits both together, so an account read
    # after a revoked session is seen deactivated too, and the person is told why (READ COMMITTED).
    revoked = principal.session_id is not None and await session.scalar(
        select(exists().where(RefreshToken.family_id == principal.session_id, RefreshToken.revoked_at.is_not(None)))
    )
    account = refuse_inactive(await session.get(Account, principal.account_id))
    if revoked:
        raise Unauthenticated(SESSION_NOT_VALID)
    steps = steps_of(account, deps)
    if steps and not allow_pending:
        raise Forbidden(STEPS_PENDING[steps[0]], details={"pending_steps": steps})
    return principal, account


async def revoke_sessions(session: AsyncSession, deps: Deps, account_id: uuid.UUID,
                          session_id: uuid.UUID | None = None) -> asyncio.Future:
    """Ends every session of the account (or one): refresh tokens now, access tokens at every service.

    Returns what ``deps.outbox.published`` awaits after the commit: a caller that answers once the revocation
    is on the bus makes sure that the very next call with an old access token is refused everywhere."""
    now = deps.clock()
    query = update(RefreshToken).where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
    if session_id is not None:
        query = query.where(RefreshToken.family_id == session_id)
    await session.execute(query.values(revoked_at=now))
    event = SessionsRevokedV1(account_id=account_id, session_id=session_id, revoked_at=now)
    await deps.outbox.add(session, event)
    return deps.outbox.watch(event.event_id)


def state_of(account: Account) -> dict:
    """The fields every ``identity.account.*`` event carries."""
    return {"account_id": account.id, "role": account.role, "deployment_id": account.deployment_id,
            "profile_id": account.profile_id, "email": account.email, "firstname": account.firstname,
            "lastname": account.lastname}


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.account_id, Role(principal.role), principal.deployment_id,
                 frozenset(principal.structure_ids))


def target_of(account: Account) -> TargetAccount:
    return TargetAccount(account.id, Role(account.role), account.deployment_id,
                         frozenset(uuid.UUID(str(s)) for s in account.structure_ids or ()),
                         AccountStatus(account.status))


def view_of(account: Account, actor: Actor) -> AccountView:
    return AccountView(
        account_id=account.id, email=account.email, phone=account.phone, role=account.role,
        status=account.status, deployment_id=account.deployment_id, firstname=account.firstname,
        lastname=account.lastname, position=account.position, requested_structure=account.requested_structure,
        created_at=account.created_at, last_login_at=account.last_login_at,
        allowed_actions=[op.value for op in allowed_operations(actor, target_of(account))],
    )
