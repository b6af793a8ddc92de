"""Notebook events → messages: an invitation into a group, a référent replaced, an appointment booked, an
orientation decided, a reorientation request refused."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from contracts.notebook import (
    AppointmentBookedV1,
    MemberAddedV1,
    OrientationChangedV1,
    ReferentChangedV1,
    ReorientationDeniedV1,
)
from contracts.notify import Channel
from notify.handlers.deps import Deps
from notify.handlers.queue_message import Outgoing, page_url, queue_once
from notify.rendering import render_email, render_sms
from servicekit.consumers import EventMeta

INVITATION_CONSUMER = "notify-notebook-invitations"
REFERENT_CONSUMER = "notify-referent-changes"
APPOINTMENT_CONSUMER = "notify-appointments-booked"
ORIENTATION_CONSUMER = "notify-orientations"
DENIAL_CONSUMER = "notify-reorientations-denied"
PARIS = ZoneInfo("Europe/Paris")


def to_professional(deps: Deps, template: str, to: str, notebook_id, **context) -> list[Outgoing]:
    """An email about a notebook to a professional, linking to its page; none without an address."""
    return to_professional_at(deps, template, to, f"/carnets/{notebook_id}", **context)


def to_professional_at(deps: Deps, template: str, to: str, path: str, **context) -> list[Outgoing]:
    """An email to a professional linking to one page; none without an address."""
    if not to:
        return []
    link = page_url(deps, path)
    return [Outgoing(template, Channel.email, to, render_email(template, links=[link], link=link, **context))]


async def on_member_added(event: MemberAddedV1, _meta: EventMeta, deps: Deps) -> None:
    """Only someone added by another member is told: who joins by themselves knows it."""
    invited = event.invited_by_id and event.invited_by_id != event.person_id
    await queue_once(deps, INVITATION_CONSUMER, event.event_id, to_professional(
        deps, "notebook_invitation", event.person_email if invited else "", event.notebook_id,
        firstname=event.person_firstname, invited_by=event.invited_by_name or "Un professionnel"))


async def on_referent_changed(event: ReferentChangedV1, _meta: EventMeta, deps: Deps) -> None:
    replaced = event.previous_referent_id != event.referent_id
    await queue_once(deps, REFERENT_CONSUMER, event.event_id, to_professional(
        deps, "referent_replaced", event.previous_referent_email if replaced else "", event.notebook_id,
        firstname=event.previous_referent_firstname, referent=event.referent_name))


async def on_orientation_changed(event: OrientationChangedV1, _meta: EventMeta, deps: Deps) -> None:
    """The new référent chosen by the orientation is told (the former one hears of it as a référent change); for
    a notebook of a bulk decision, once for the whole decision (bulk_orientation_messages)."""
    await queue_once(deps, ORIENTATION_CONSUMER, event.event_id, to_professional(
        deps, "orientation_changed", "" if event.decision_id else event.referent_email, event.notebook_id,
        firstname=event.referent_firstname, reorientation=event.reorientation,
        orientation_system=event.orientation_system_name, structure=event.structure_name))


async def on_reorientation_denied(event: ReorientationDeniedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, DENIAL_CONSUMER, event.event_id, to_professional(
        deps, "reorientation_denied", event.requested_by_email, event.notebook_id,
        firstname=event.requested_by_firstname))


def to_beneficiary(deps: Deps, template: str, phone: str, email: str, channels: list[str],
                   path: str = "/mon-carnet", **context) -> list[Outgoing]:
    """A message for a beneficiary on the channels they chose: by SMS (``template``) and/or by email
    (``<template>_email``), linking to ``path`` on their notebook (the SMS may show it too). Without a choice: by
    SMS when they have a mobile, by email otherwise."""
    chosen = set(channels) or {Channel.sms if phone else Channel.email}
    link = page_url(deps, path)
    messages = []
    if Channel.sms in chosen and phone:
        messages.append(Outgoing(template, Channel.sms, phone, render_sms(template, link=link, **context)))
    if Channel.email in chosen and email:
        messages.append(Outgoing(f"{template}_email", Channel.email, email,
                                 render_email(f"{template}_email", links=[link], link=link, **context)))
    return messages


async def on_appointment_booked(event: AppointmentBookedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, APPOINTMENT_CONSUMER, event.event_id, to_beneficiary(
        deps, "appointment_booked", event.beneficiary_phone, event.beneficiary_email, event.beneficiary_channels,
        when=event.at.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M"), with_name=event.with_name,
        structure=event.structure_name))
