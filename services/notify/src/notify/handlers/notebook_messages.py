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


async def on_member_added(event: MemberAddedV1, _meta: EventMeta, deps: Deps) -> None:
    """Only someone added by another member is told: who joins by themselves knows it."""
    messages = []
    if event.invited_by_id and event.invited_by_id != event.person_id and event.person_email:
        link = page_url(deps, f"/carnets/{event.notebook_id}")
        email = render_email("notebook_invitation", links=[link], link=link, firstname=event.person_firstname,
                             invited_by=event.invited_by_name or "Un professionnel")
        messages.append(Outgoing("notebook_invitation", Channel.email, event.person_email, email))
    await queue_once(deps, INVITATION_CONSUMER, event.event_id, messages)


async def on_referent_changed(event: ReferentChangedV1, _meta: EventMeta, deps: Deps) -> None:
    messages = []
    if event.previous_referent_email and event.previous_referent_id != event.referent_id:
        link = page_url(deps, f"/carnets/{event.notebook_id}")
        email = render_email("referent_replaced", links=[link], link=link,
                             firstname=event.previous_referent_firstname, referent=event.referent_name)
        messages.append(Outgoing("referent_replaced", Channel.email, event.previous_referent_email, email))
    await queue_once(deps, REFERENT_CONSUMER, event.event_id, messages)


async def on_orientation_changed(event: OrientationChangedV1, _meta: EventMeta, deps: Deps) -> None:
    """The new référent chosen by the orientation is told (the former one hears of it as a référent change)."""
    messages = []
    if event.referent_email:
        link = page_url(deps, f"/carnets/{event.notebook_id}")
        email = render_email("orientation_changed", links=[link], link=link, firstname=event.referent_firstname,
                             reorientation=event.reorientation, orientation_system=event.orientation_system_name,
                             structure=event.structure_name)
        messages.append(Outgoing("orientation_changed", Channel.email, event.referent_email, email))
    await queue_once(deps, ORIENTATION_CONSUMER, event.event_id, messages)


async def on_reorientation_denied(event: ReorientationDeniedV1, _meta: EventMeta, deps: Deps) -> None:
    messages = []
    if event.requested_by_email:
        link = page_url(deps, f"/carnets/{event.notebook_id}")
        email = render_email("reorientation_denied", links=[link], link=link,
                             firstname=event.requested_by_firstname)
        messages.append(Outgoing("reorientation_denied", Channel.email, event.requested_by_email, email))
    await queue_once(deps, DENIAL_CONSUMER, event.event_id, messages)


def to_beneficiary(deps: Deps, template: str, phone: str, email: str, channels: list[str],
                   **context) -> list[Outgoing]:
    """A message for a beneficiary on the channels they chose: by SMS (``template``) and/or by email
    (``<template>_email``, linking to their notebook). Without a choice: by SMS when they have a mobile,
    by email otherwise."""
    chosen = set(channels) or {Channel.sms if phone else Channel.email}
    messages = []
    if Channel.sms in chosen and phone:
        messages.append(Outgoing(template, Channel.sms, phone, render_sms(template, **context)))
    if Channel.email in chosen and email:
        link = page_url(deps, "/mon-carnet")
        messages.append(Outgoing(f"{template}_email", Channel.email, email,
                                 render_email(f"{template}_email", links=[link], link=link, **context)))
    return messages


async def on_appointment_booked(event: AppointmentBookedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, APPOINTMENT_CONSUMER, event.event_id, to_beneficiary(
        deps, "appointment_booked", event.beneficiary_phone, event.beneficiary_email, event.beneficiary_channels,
        when=event.at.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M"), with_name=event.with_name,
        structure=event.structure_name))
