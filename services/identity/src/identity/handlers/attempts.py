"""Login attempts: counted for rate limits and kept as the login audit.

Limits: link and code requests per email or phone; refusals per presented token (its hash is the attempt's
``email_hash``, the column of the hashed identifier); and a high limit per address, shared by everyone behind it.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import ClientInfo
from identity.adapters import audit_trail
from identity.adapters.orm import LoginAttempt
from identity.domain.errors import TOO_MANY_REQUESTS, RateLimited
from identity.domain.sessions import over_limit
from identity.handlers.deps import Deps


async def enforce_rate_limits(session: AsyncSession, deps: Deps, client: ClientInfo, email_hash: str | None,
                              *, token_hash: str | None = None) -> None:
    since = deps.clock() - timedelta(seconds=deps.settings.rate_window_s)

    async def refuse_over(limit: int, *criteria) -> None:
        count = await session.scalar(select(func.count()).where(LoginAttempt.at > since, *criteria))
        if over_limit(count, limit):
            raise RateLimited(TOO_MANY_REQUESTS)

    if token_hash is not None:
        await refuse_over(deps.settings.max_tries_per_token,
                          LoginAttempt.email_hash == token_hash, LoginAttempt.kind == "link_refused")
    if email_hash is not None:
        await refuse_over(deps.settings.max_link_requests_per_email,
                          LoginAttempt.email_hash == email_hash, LoginAttempt.kind == "link_requested")
    if client.ip:
        # Requests and refusals only: a busy office behind one address must not be locked out by its refreshes.
        await refuse_over(deps.settings.max_login_attempts_per_ip,
                          LoginAttempt.ip == client.ip, LoginAttempt.kind.in_(("link_requested", "link_refused")))


def record_attempt(
    session: AsyncSession,
    deps: Deps,
    client: ClientInfo,
    kind: str,
    *,
    success: bool,
    email_hash: str | None = None,
    account_id: uuid.UUID | None = None,
) -> None:
    session.add(
        LoginAttempt(
            kind=kind,
            email_hash=email_hash,
            account_id=account_id,
            ip=client.ip[:64],
            user_agent=client.user_agent[:300],
            success=success,
            at=deps.clock(),
        )
    )
    audit_trail.attempt(session, deps.outbox, kind, account_id, success)  # the audit trail's line (issue 21)
