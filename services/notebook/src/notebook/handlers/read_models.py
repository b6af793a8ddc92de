"""Directory's people, structures and orientation systems kept here, so that the notebook page, its rules and
its group are answered from the notebook database alone. Events carry whole states: each is an upsert,
and a state older than the one applied is ignored (created and updated travel on separate consumers)."""
from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.directory import OrientationSystemCreatedV1, StructureState
from contracts.notify import Channel, MessageFailedV1
from contracts.identity import Role
from contracts.profiles import ProfileDeactivated, ProfileState
from notebook.adapters.orm import Beneficiary, OrientationSystemRead, Person, StructureRead
from notebook.handlers.deps import Deps
from notebook.handlers.members import end_memberships_of
from servicekit.inbox import exactly_once

CONSUMER = "notebook-read-models"


async def structure_names(session: AsyncSession, structure_ids: set) -> dict[uuid.UUID, str]:
    structure_ids = {s for s in structure_ids if s}
    return dict((await session.execute(select(StructureRead.id, StructureRead.name).where(
        StructureRead.id.in_(structure_ids)))).all()) if structure_ids else {}


async def orientation_system_names(session: AsyncSession, system_ids: set) -> dict[uuid.UUID, str]:
    system_ids = {s for s in system_ids if s}
    return dict((await session.execute(select(OrientationSystemRead.id, OrientationSystemRead.name).where(
        OrientationSystemRead.id.in_(system_ids)))).all()) if system_ids else {}


async def newer_state(session: AsyncSession, model, key: uuid.UUID, occurred_at):
    """The read-model row to overwrite with a state of ``occurred_at`` (added when absent), or None when the row
    already holds a state as recent: events of one aggregate may arrive out of order across durables."""
    row = await session.get(model, key)
    if row is None:
        row = model(id=key)
        session.add(row)
    elif row.occurred_at >= occurred_at:
        return None
    return row


@exactly_once(CONSUMER)
async def on_person_state(event: ProfileState, session: AsyncSession, _deps: Deps) -> None:
    person = await newer_state(session, Person, event.profile_id, event.occurred_at)
    if person is None:
        return
    person.role, person.deployment_id = event.role.value, event.deployment_id
    person.firstname, person.lastname = event.firstname, event.lastname
    person.email, person.phone = event.email or "", event.phone or ""
    person.structure_ids = [str(s) for s in event.structure_ids]
    person.orientation_system_ids = [str(s) for s in event.orientation_system_ids]
    person.occurred_at, person.deactivated_at = event.occurred_at, None


@exactly_once(CONSUMER)
async def on_person_deactivated(event: ProfileDeactivated, session: AsyncSession, deps: Deps) -> None:
    person = await session.get(Person, event.profile_id)
    if person is None or person.occurred_at > event.occurred_at:
        return
    person.deactivated_at = person.occurred_at = event.occurred_at
    if event.role in (Role.professional, Role.orientation_manager):
        await end_memberships_of(session, deps, person)


@exactly_once(CONSUMER)
async def on_structure_state(event: StructureState, session: AsyncSession, _deps: Deps) -> None:
    structure = await newer_state(session, StructureRead, event.structure_id, event.occurred_at)
    if structure is None:
        return
    structure.deployment_id, structure.name = event.deployment_id, event.name
    structure.city, structure.postal_code = event.city, event.postal_code
    structure.phone, structure.email, structure.occurred_at = event.phone, event.email, event.occurred_at


@exactly_once(CONSUMER)
async def on_orientation_system_created(event: OrientationSystemCreatedV1, session: AsyncSession,
                                        _deps: Deps) -> None:
    if await session.get(OrientationSystemRead, event.orientation_system_id) is None:
        session.add(OrientationSystemRead(id=event.orientation_system_id, deployment_id=event.deployment_id,
                                          name=event.name, orientation_type=event.orientation_type.value))


@exactly_once(CONSUMER)
async def on_message_failed(event: MessageFailedV1, session: AsyncSession, _deps: Deps) -> None:
    """A number or address notify could not deliver to is flagged on the beneficiaries who have it."""
    if not event.recipient:
        return
    column = Beneficiary.mobile_number if event.channel == Channel.sms else Beneficiary.email
    flag = "mobile_failed_at" if event.channel == Channel.sms else "email_failed_at"
    await session.execute(update(Beneficiary).where(column == event.recipient).values({flag: event.occurred_at}))
