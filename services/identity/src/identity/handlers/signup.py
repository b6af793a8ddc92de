"""Public sign-up request of a professional: pending until a manager of the chosen territory confirms it.

v1 honoured an ``autoConfirm`` flag on this public route, so anyone could get a confirmed account; here a
request never confirms itself, and the answer is the same whether or not the email already has an account.
"""
from __future__ import annotations

from sqlalchemy import select

from contracts.identity import (
    AcceptedReply,
    AccountStatus,
    DeploymentChoice,
    GetLoginOptionsV1,
    LoginOptionsReply,
    RequestSignupV1,
    Role,
    SignupRequestedV1,
)
from identity.adapters.orm import Account, Deployment
from identity.domain.errors import INVALID_EMAIL, STRUCTURE_REQUIRED, UNKNOWN_DEPLOYMENT, Invalid
from identity.domain.secrets import hash_secret, normalise_email
from identity.handlers.accounts import state_of
from identity.handlers.attempts import enforce_rate_limits, record_attempt
from identity.handlers.deps import Deps
from identity.handlers.profile_fields import apply_profile
from servicekit.rpc import RpcContext


async def login_options(_request: GetLoginOptionsV1, _ctx: RpcContext, deps: Deps) -> LoginOptionsReply:
    async with deps.sessions() as session:
        deployments = (await session.execute(select(Deployment).order_by(Deployment.department_code))).scalars()
        choices = [DeploymentChoice(deployment_id=d.id, label=d.label, department_code=d.department_code)
                   for d in deployments]
    settings = deps.settings
    return LoginOptionsReply(deployments=choices, oidc_enabled=settings.oidc_enabled, oidc_label=settings.oidc_label,
                             cgu_version=settings.cgu_version)


async def request_signup(request: RequestSignupV1, _ctx: RpcContext, deps: Deps) -> AcceptedReply:
    email = normalise_email(request.email)
    if email is None:
        raise Invalid(INVALID_EMAIL, details={"field": "email"})
    if not request.structure_name.strip():
        raise Invalid(STRUCTURE_REQUIRED, details={"field": "structure_name"})
    async with deps.sessions() as session, session.begin():
        await enforce_rate_limits(session, deps, request.client, hash_secret(email))
        if await session.get(Deployment, request.deployment_id) is None:
            raise Invalid(UNKNOWN_DEPLOYMENT, details={"field": "deployment_id"})
        account = Account(email=email, role=Role.professional, deployment_id=request.deployment_id,
                          status=AccountStatus.pending, created_at=deps.clock(),
                          requested_structure=request.structure_name.strip())
        # The form checked before the address is looked up: refused only for unknown addresses, a bad form would
        # tell which addresses have an account.
        apply_profile(account, request.profile, deps)
        record_attempt(session, deps, request.client, "link_requested", success=True, email_hash=hash_secret(email))
        if await session.scalar(select(Account.id).where(Account.email == email)):
            return AcceptedReply()  # already known: nothing to create, and nothing said about it
        session.add(account)
        await session.flush()
        managers = (await session.execute(select(Account.email).where(
            Account.role == Role.manager, Account.deployment_id == request.deployment_id,
            Account.status == AccountStatus.active, Account.email.is_not(None)))).scalars().all()
        await deps.outbox.add(session, SignupRequestedV1(
            **state_of(account), requested_structure=account.requested_structure, manager_emails=list(managers)))
    return AcceptedReply()
