"""A partner's call of the API: its credential checked (client id, secret against its scrypt hash, not revoked,
scoped to the territory), the manager it acts for found, the call recorded whatever the answer; and the territories
a partner serves, for its NATS messages.

The gateway gets, for this one call, a short access token of the named manager (v1 minted one too): the notebook
then checks the manager's rights as for a form, so a partner can do nothing its manager could not, in a territory
both serve."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from contracts.audit import IdentityAuditRecordedV1
from contracts.identity import AcceptedReply, AccountStatus, Role
from contracts.partners import (
    BAD_REQUEST,
    AuthenticatePartnerV1,
    FinishPartnerCallV1,
    GetPartnerScopeV1,
    PartnerAuthenticatedReply,
    PartnerCallResult,
    PartnerScopeReply,
)
from identity.adapters.orm import Account, PartnerCall, PartnerCredential
from identity.adapters.signing_keys import current_key, private_key_of
from identity.domain.access_tokens import Claims, encode_access_token
from identity.domain.errors import Forbidden, Invalid
from identity.domain.partners import (
    DECOY_HASH,
    OUT_OF_SCOPE,
    UNKNOWN_MANAGER,
    WRONG_CREDENTIAL,
    in_scope,
    secret_matches,
)
from identity.domain.secrets import normalise_email
from identity.handlers.deps import Deps
from servicekit.rpc import RpcContext

# Long enough for one notebook call through the bus, short enough to be of no use afterwards.
PARTNER_TOKEN_TTL = timedelta(seconds=60)
# A call let through whose outcome never came (the gateway died) stays "pending": older ones are not finished later.
FINISH_WITHIN = timedelta(minutes=5)


async def authenticate_partner(request: AuthenticatePartnerV1, _ctx: RpcContext,
                               deps: Deps) -> PartnerAuthenticatedReply:
    now = deps.clock()
    refusal = None
    async with deps.sessions() as session:
        stored = await session.scalar(select(PartnerCredential.secret_hash).where(
            PartnerCredential.client_id == request.client_id))
    # scrypt costs tens of milliseconds of CPU by design: in a worker thread (it releases the GIL) and outside any
    # transaction, so that a stream of wrong credentials stalls neither identity's other RPCs nor its connections.
    # The hash is checked even for an unknown id: the answer takes as long either way.
    genuine = await asyncio.to_thread(secret_matches, request.secret, stored or DECOY_HASH)
    async with deps.sessions.begin() as session:
        credential = await session.scalar(select(PartnerCredential).where(
            PartnerCredential.client_id == request.client_id))
        genuine = genuine and credential is not None and credential.secret_hash == stored  # not rotated meanwhile
        manager = None
        if not (credential and genuine and credential.revoked_at is None and credential.partner == request.partner):
            result, status, refusal = PartnerCallResult.refused, 403, Forbidden(WRONG_CREDENTIAL)
        elif not in_scope(credential.deployment_ids, request.deployment_id):
            result, status, refusal = PartnerCallResult.out_of_scope, 403, Forbidden(OUT_OF_SCOPE)
        else:
            email = normalise_email(request.manager_email)  # None when it is no address: no manager then
            manager = email and await session.scalar(select(Account).where(
                Account.email == email, Account.role == Role.manager,
                Account.deployment_id == request.deployment_id, Account.status == AccountStatus.active))
            if not manager:
                result, status = PartnerCallResult.bad_request, 400
                refusal = Invalid(UNKNOWN_MANAGER, details={"reason": BAD_REQUEST, "field": "rdviUserEmail"})
            else:
                result, status = PartnerCallResult.pending, None
        if credential and genuine:
            credential.last_used_at = now
        call = PartnerCall(credential_id=credential.id if credential else None, partner=request.partner[:40],
                           client_id=request.client_id[:80], route=request.route[:200],
                           deployment_id=request.deployment_id, result=result.value, status=status, at=now)
        session.add(call)
        await session.flush()
        await deps.outbox.add(session, IdentityAuditRecordedV1(  # every partner call in the audit trail (issue 21)
            deployment_id=request.deployment_id, actor_account_id=manager.id if manager else None,
            actor_role="partner", action="partner.call", target_type="partner_call", target_id=str(call.id),
            details={"partner": call.partner, "client_id": call.client_id, "route": call.route,
                     "result": call.result}))
        token = None if refusal else await manager_token(session, deps, manager)
    if refusal:  # raised after the commit: the refused call stays in the log
        raise refusal
    return PartnerAuthenticatedReply(call_id=call.id, access_token=token)


async def manager_token(session, deps: Deps, manager: Account) -> str:
    now, settings = deps.clock(), deps.settings
    key = await current_key(session, now, timedelta(days=settings.signing_key_max_age_days), settings.key_password)
    claims = Claims(manager.id, manager.role, manager.deployment_id, manager.profile_id)
    return encode_access_token(claims, key.kid, private_key_of(key, settings.key_password), now, PARTNER_TOKEN_TTL)


async def finish_partner_call(request: FinishPartnerCallV1, _ctx: RpcContext, deps: Deps) -> AcceptedReply:
    async with deps.sessions.begin() as session:
        await session.execute(update(PartnerCall).where(
            PartnerCall.id == request.call_id, PartnerCall.result == PartnerCallResult.pending.value,
            PartnerCall.at > deps.clock() - FINISH_WITHIN).values(result=request.result.value, status=request.status))
    return AcceptedReply()


async def partner_scope(request: GetPartnerScopeV1, _ctx: RpcContext, deps: Deps) -> PartnerScopeReply:
    async with deps.sessions() as session:
        rows = (await session.execute(select(PartnerCredential.deployment_ids).where(
            PartnerCredential.partner == request.partner, PartnerCredential.revoked_at.is_(None)))).scalars()
        territories = dict.fromkeys(d for ids in rows for d in ids)
    return PartnerScopeReply(deployment_ids=list(territories))
