"""Professionals choose immediate messages or one daily digest for the non-urgent ones (invitations into a
group, a référent replaced). Beneficiaries choose their channels on their notebook instead."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import AccountProfileChangedV1, GetMeV1, Role
from contracts.notify import (
    GetMyNotificationPreferencesV1,
    NotificationFrequency,
    NotificationPreferencesReply,
    SetMyNotificationPreferencesV1,
)
from notify.adapters.orm import NotificationPreference, OutgoingMessage
from notify.handlers.deps import Deps
from servicekit.auth import Principal
from servicekit.errors import Forbidden, Invalid
from servicekit.inbox import exactly_once
from servicekit.rpc import RpcContext

CONSUMER = "notify-preferences"
FOR_BENEFICIARIES = ("Vous choisissez comment être prévenu de vos rendez-vous sur votre carnet, "
                     "dans vos coordonnées.")
NO_EMAIL = "Votre compte n'a pas d'adresse électronique : il n'y a rien à regrouper."


async def professional(ctx: RpcContext, deps: Deps) -> Principal:
    principal = await deps.verifier.verify(ctx.bearer_token)
    if principal.role == Role.beneficiary:
        raise Forbidden(FOR_BENEFICIARIES)
    return principal


async def get_my_preferences(_request: GetMyNotificationPreferencesV1, ctx: RpcContext,
                             deps: Deps) -> NotificationPreferencesReply:
    principal = await professional(ctx, deps)
    async with deps.sessions() as session:
        preference = await session.get(NotificationPreference, principal.account_id)
    if preference is None:
        return NotificationPreferencesReply()
    return NotificationPreferencesReply(frequency=preference.frequency)


async def set_my_preferences(request: SetMyNotificationPreferencesV1, ctx: RpcContext,
                             deps: Deps) -> NotificationPreferencesReply:
    principal = await professional(ctx, deps)
    # Messages are addressed by email: identity says which one is the caller's, from their own token.
    me = await deps.call(GetMeV1(), headers={"Authorization": f"Bearer {ctx.bearer_token}"})
    if not me.email:
        raise Invalid(NO_EMAIL)
    now = deps.clock()
    async with deps.sessions() as session, session.begin():
        preference = await session.get(NotificationPreference, principal.account_id, with_for_update=True)
        if preference is None:
            preference = NotificationPreference(account_id=principal.account_id)
            session.add(preference)
        preference.email, preference.frequency, preference.updated_at = me.email, request.frequency, now
        if request.frequency == NotificationFrequency.immediate:
            # What was held for tomorrow's digest goes out now.
            await session.execute(update(OutgoingMessage).where(
                OutgoingMessage.recipient == me.email, OutgoingMessage.status == "held")
                .values(status="pending", next_attempt_at=now))
    deps.queued.set()
    return NotificationPreferencesReply(frequency=request.frequency)


@exactly_once(CONSUMER)
async def on_account_profile_changed(event: AccountProfileChangedV1, session: AsyncSession, _deps: Deps) -> None:
    """A verified new email: the choice follows it."""
    if not event.email:
        return
    await session.execute(update(NotificationPreference).where(
        NotificationPreference.account_id == event.account_id).values(email=event.email))
