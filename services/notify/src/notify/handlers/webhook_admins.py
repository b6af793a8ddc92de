"""The national admins told when a webhook subscription pauses itself: those who manage webhooks (notify keeps no
directory of accounts), with the email identity gives for them; forgotten when deactivated, followed when their
email changes."""
from __future__ import annotations

import structlog
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import AccountDeactivatedV1, AccountProfileChangedV1, GetMeV1
from notify.adapters.orm import WebhookAdmin
from notify.handlers.deps import Deps
from servicekit.auth import Principal
from servicekit.errors import ServiceError
from servicekit.inbox import exactly_once
from servicekit.rpc import RpcContext

log = structlog.get_logger("notify.webhooks")
CONSUMER = "notify-webhook-admins"


async def remember_admin(ctx: RpcContext, deps: Deps, principal: Principal) -> None:
    """Keeps the email of an admin who acts on webhooks. Identity says which is theirs, from their own token; if
    identity does not answer, the change goes on without it."""
    try:
        me = await deps.call(GetMeV1(), headers={"Authorization": f"Bearer {ctx.bearer_token}"})
    except (ServiceError, TimeoutError) as error:
        log.warning("webhook_admin_email_unknown", error=str(error))
        return
    if not me.email:
        return
    async with deps.sessions() as session, session.begin():
        admin = await session.get(WebhookAdmin, principal.account_id, with_for_update=True)
        if admin is None:
            admin = WebhookAdmin(account_id=principal.account_id)
            session.add(admin)
        admin.email, admin.seen_at = me.email, deps.clock()


@exactly_once(CONSUMER)
async def on_account_deactivated(event: AccountDeactivatedV1, session: AsyncSession, _deps: Deps) -> None:
    await session.execute(delete(WebhookAdmin).where(WebhookAdmin.account_id == event.account_id))


@exactly_once(f"{CONSUMER}-emails")
async def on_account_profile_changed(event: AccountProfileChangedV1, session: AsyncSession, _deps: Deps) -> None:
    if event.email:
        await session.execute(update(WebhookAdmin).where(WebhookAdmin.account_id == event.account_id)
                              .values(email=event.email))
