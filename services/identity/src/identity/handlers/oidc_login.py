"""Single sign-on for people of structures: authorization code + PKCE, matched on the verified email.

No account is created from a provider's identity: the person must have been invited (or confirmed).
The provider is called outside any database transaction.
"""
from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select

from contracts.identity import (
    AccountStatus,
    CompleteOidcLoginV1,
    OidcStartReply,
    Role,
    StartOidcLoginV1,
    TokenPairReply,
)
from identity.adapters.oidc import OidcClient, OidcError
from identity.adapters.one_time_secrets import claim, usable
from identity.adapters.orm import Account, OidcLogin
from identity.domain.errors import (
    ACCOUNT_DEACTIVATED,
    OIDC_DISABLED,
    OIDC_FAILED,
    OIDC_NO_ACCOUNT,
    NotFound,
    Unauthenticated,
)
from identity.domain.secrets import hash_secret, new_secret, normalise_email
from identity.handlers.attempts import enforce_rate_limits, record_attempt
from identity.handlers.deps import Deps
from identity.handlers.issue_session import issue_session
from servicekit.metrics import LOGIN_FAILURES
from servicekit.rpc import RpcContext

log = structlog.get_logger("identity.oidc")
SSO_ROLES = (Role.professional, Role.manager, Role.admin_structure, Role.orientation_manager, Role.admin_cdb)
_clients: dict[str, OidcClient] = {}


def client_for(deps: Deps) -> OidcClient:
    settings = deps.settings
    if not settings.oidc_enabled:
        raise NotFound(OIDC_DISABLED)
    if settings.oidc_issuer not in _clients:
        _clients[settings.oidc_issuer] = OidcClient(settings.oidc_issuer, settings.oidc_client_id,
                                                    settings.oidc_client_secret.get_secret_value())
    return _clients[settings.oidc_issuer]


def redirect_uri(deps: Deps) -> str:
    return f"{deps.settings.public_url.rstrip('/')}/auth/oidc/callback"


async def start_oidc_login(_request: StartOidcLoginV1, _ctx: RpcContext, deps: Deps) -> OidcStartReply:
    client = client_for(deps)
    state, nonce, verifier = new_secret(), new_secret(), new_secret()
    try:
        url = await client.authorization_url(redirect_uri=redirect_uri(deps), scopes=deps.settings.oidc_scopes,
                                             state=state, nonce=nonce, code_verifier=verifier)
    except (OidcError, OSError, ValueError) as exc:
        log.warning("oidc_discovery_failed", error=str(exc))
        LOGIN_FAILURES.labels("oidc", "provider_error").inc()
        raise Unauthenticated(OIDC_FAILED.format(provider=deps.settings.oidc_label)) from None
    now = deps.clock()
    async with deps.sessions() as session, session.begin():
        session.add(OidcLogin(state_hash=hash_secret(state), code_verifier=verifier, nonce=nonce, created_at=now,
                              expires_at=now + timedelta(seconds=deps.settings.oidc_login_ttl_s)))
    return OidcStartReply(authorization_url=url)


async def complete_oidc_login(request: CompleteOidcLoginV1, _ctx: RpcContext, deps: Deps) -> TokenPairReply:
    client = client_for(deps)
    failed = Unauthenticated(OIDC_FAILED.format(provider=deps.settings.oidc_label))
    now = deps.clock()
    async with deps.sessions() as session, session.begin():
        await enforce_rate_limits(session, deps, request.client, None)
        pending = await session.get(OidcLogin, hash_secret(request.state))
        claimed = usable(pending, now) and await claim(session, pending, now)
        if not claimed:
            record_attempt(session, deps, request.client, "link_refused", success=False)
    if not claimed:
        LOGIN_FAILURES.labels("oidc", "invalid_state").inc()
        raise failed
    try:
        identity = await client.identity(code=request.code, redirect_uri=redirect_uri(deps),
                                         code_verifier=pending.code_verifier, nonce=pending.nonce)
    except (OidcError, OSError, ValueError, KeyError) as exc:
        log.warning("oidc_login_failed", error=str(exc))
        LOGIN_FAILURES.labels("oidc", "provider_error").inc()
        raise failed from None
    email = normalise_email(identity.email)
    if email is None or not (identity.email_verified or deps.settings.oidc_trusts_emails):
        log.warning("oidc_email_not_verified")
        LOGIN_FAILURES.labels("oidc", "email_not_verified").inc()
        raise failed
    async with deps.sessions() as session, session.begin():
        account = (await session.execute(select(Account).where(
            Account.email == email, Account.role.in_(SSO_ROLES)))).scalar_one_or_none()
        if account is not None and account.status == AccountStatus.active:
            record_attempt(session, deps, request.client, "oidc_login", success=True, account_id=account.id)
            return await issue_session(session, deps, account, request.client)
        record_attempt(session, deps, request.client, "oidc_refused", success=False,
                       email_hash=hash_secret(email), account_id=account.id if account else None)
    if account is not None and account.status == AccountStatus.deactivated:
        LOGIN_FAILURES.labels("oidc", "account_deactivated").inc()
        raise Unauthenticated(ACCOUNT_DEACTIVATED)
    LOGIN_FAILURES.labels("oidc", "no_account").inc()
    raise Unauthenticated(OIDC_NO_ACCOUNT.format(email=email))
