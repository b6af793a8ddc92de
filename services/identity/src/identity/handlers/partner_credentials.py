"""The administrators' page of partners: their API credentials (created, rotated, revoked; the secret shown once)
and the log of their calls. National administrators only: a credential may act in any territory it names."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.partners import (
    CreatePartnerCredentialV1,
    ListPartnerCallsV1,
    ListPartnerCredentialsV1,
    PartnerCallResult,
    PartnerCallsReply,
    PartnerCallView,
    PartnerCredentialsReply,
    PartnerCredentialView,
    PartnerSecretReply,
    RevokePartnerCredentialV1,
    RotatePartnerCredentialV1,
)
from identity.adapters.orm import Deployment, PartnerCall, PartnerCredential
from identity.domain.errors import NOT_ALLOWED, Conflict, Forbidden, Invalid, NotFound
from identity.domain.partners import (
    ALREADY_REVOKED,
    CREDENTIAL_NOT_FOUND,
    UNKNOWN_TERRITORY,
    hash_partner_secret,
    new_client_id,
    new_partner_secret,
)
from identity.handlers.accounts import current_account
from identity.handlers.deps import Deps
from servicekit.rpc import RpcContext


async def require_admin(session: AsyncSession, deps: Deps, ctx: RpcContext):
    _principal, account = await current_account(session, deps, ctx)
    if account.role != Role.admin_cdb:
        raise Forbidden(NOT_ALLOWED)
    return account


async def labels(session: AsyncSession) -> dict[str, str]:
    return {str(d.id): d.label for d in (await session.execute(select(Deployment))).scalars()}


def view_of(credential: PartnerCredential, known: dict[str, str]) -> PartnerCredentialView:
    return PartnerCredentialView(
        credential_id=credential.id, partner=credential.partner, client_id=credential.client_id,
        deployment_ids=credential.deployment_ids, deployment_labels=[known.get(str(d), str(d))
                                                                     for d in credential.deployment_ids],
        created_at=credential.created_at, rotated_at=credential.rotated_at, revoked_at=credential.revoked_at,
        last_used_at=credential.last_used_at)


async def list_partner_credentials(_request: ListPartnerCredentialsV1, ctx: RpcContext,
                                   deps: Deps) -> PartnerCredentialsReply:
    async with deps.sessions() as session:
        await require_admin(session, deps, ctx)
        rows = (await session.execute(select(PartnerCredential).order_by(
            PartnerCredential.partner, PartnerCredential.created_at.desc()))).scalars().all()
        known = await labels(session)
    return PartnerCredentialsReply(credentials=[view_of(c, known) for c in rows])


async def create_partner_credential(request: CreatePartnerCredentialV1, ctx: RpcContext,
                                    deps: Deps) -> PartnerSecretReply:
    secret = new_partner_secret()
    async with deps.sessions.begin() as session:
        admin = await require_admin(session, deps, ctx)
        known = await labels(session)
        territories = list(dict.fromkeys(str(d) for d in request.deployment_ids))
        if any(d not in known for d in territories):
            raise Invalid(UNKNOWN_TERRITORY, details={"field": "deployment_ids"})
        credential = PartnerCredential(partner=request.partner, client_id=new_client_id(),
                                       secret_hash=hash_partner_secret(secret), deployment_ids=territories,
                                       created_at=deps.clock(), created_by=admin.id)
        session.add(credential)
        await session.flush()
        view = view_of(credential, known)
    return PartnerSecretReply(credential=view, secret=secret)


async def active_credential(session: AsyncSession, credential_id) -> PartnerCredential:
    credential = await session.get(PartnerCredential, credential_id, with_for_update=True)
    if credential is None:
        raise NotFound(CREDENTIAL_NOT_FOUND)
    if credential.revoked_at is not None:
        raise Conflict(ALREADY_REVOKED)
    return credential


async def rotate_partner_credential(request: RotatePartnerCredentialV1, ctx: RpcContext,
                                    deps: Deps) -> PartnerSecretReply:
    secret = new_partner_secret()
    async with deps.sessions.begin() as session:
        await require_admin(session, deps, ctx)
        credential = await active_credential(session, request.credential_id)
        credential.secret_hash, credential.rotated_at = hash_partner_secret(secret), deps.clock()
        view = view_of(credential, await labels(session))
    return PartnerSecretReply(credential=view, secret=secret)


async def revoke_partner_credential(request: RevokePartnerCredentialV1, ctx: RpcContext,
                                    deps: Deps) -> PartnerCredentialView:
    async with deps.sessions.begin() as session:
        await require_admin(session, deps, ctx)
        credential = await active_credential(session, request.credential_id)
        credential.revoked_at = deps.clock()
        return view_of(credential, await labels(session))


async def list_partner_calls(request: ListPartnerCallsV1, ctx: RpcContext, deps: Deps) -> PartnerCallsReply:
    async with deps.sessions() as session:
        await require_admin(session, deps, ctx)
        rows = (await session.execute(select(PartnerCall).order_by(PartnerCall.at.desc(), PartnerCall.id)
                                      .limit(request.limit))).scalars()
        return PartnerCallsReply(calls=[PartnerCallView(
            call_id=c.id, partner=c.partner, client_id=c.client_id, route=c.route, result=PartnerCallResult(c.result),
            status=c.status, at=c.at) for c in rows])
