"""Rows as the wire shows them, with what the caller may see and do."""
from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.directory import OrientationSystemView, PersonView, StructureRef, StructureView
from directory.adapters.orm import (
    OrientationSystem,
    Person,
    PersonOrientationSystem,
    PersonStructure,
    Structure,
    StructureOrientationSystem,
)
from directory.domain.habilitation import Caller, Operation, Scope, may


def system_view(system: OrientationSystem) -> OrientationSystemView:
    return OrientationSystemView(orientation_system_id=system.id, name=system.name,
                                 orientation_type=system.orientation_type)


async def structure_views(session: AsyncSession, caller: Caller, structures: list[Structure]) -> list[StructureView]:
    ids = [s.id for s in structures]
    systems: dict[uuid.UUID, list[OrientationSystemView]] = defaultdict(list)
    for structure_id, system in await session.execute(
            select(StructureOrientationSystem.structure_id, OrientationSystem)
            .join(OrientationSystem, OrientationSystem.id == StructureOrientationSystem.orientation_system_id)
            .where(StructureOrientationSystem.structure_id.in_(ids)).order_by(OrientationSystem.name)):
        systems[structure_id].append(system_view(system))
    professionals = dict((await session.execute(
        select(PersonStructure.structure_id, func.count()).join(Person, Person.id == PersonStructure.person_id)
        .where(PersonStructure.structure_id.in_(ids), Person.role == "professional", Person.deactivated_at.is_(None))
        .group_by(PersonStructure.structure_id))).all())
    views = []
    for s in structures:
        scope = Scope(s.deployment_id, frozenset({s.id}))
        views.append(StructureView(
            structure_id=s.id, deployment_id=s.deployment_id, name=s.name, siret=s.siret, short_desc=s.short_desc,
            address1=s.address1, address2=s.address2, postal_code=s.postal_code, city=s.city, phone=s.phone,
            email=s.email, website=s.website,
            sensitive=s.sensitive and may(caller, Operation.see_sensitive_flag, scope),
            withheld=[] if may(caller, Operation.see_sensitive_flag, scope) else ["sensitive"],
            orientation_system_ids=[v.orientation_system_id for v in systems[s.id]],
            orientation_systems=systems[s.id], professionals=professionals.get(s.id, 0), version=s.version,
            deactivated=s.deactivated_at is not None, can_edit=may(caller, Operation.edit_structure, scope),
        ))
    return views


async def person_links(session: AsyncSession, person_ids: list[uuid.UUID]):
    """Structures and orientation systems of each person."""
    structures: dict[uuid.UUID, list[Structure]] = defaultdict(list)
    for person_id, structure in await session.execute(
            select(PersonStructure.person_id, Structure).join(Structure, Structure.id == PersonStructure.structure_id)
            .where(PersonStructure.person_id.in_(person_ids)).order_by(Structure.name)):
        structures[person_id].append(structure)
    systems: dict[uuid.UUID, list[OrientationSystem]] = defaultdict(list)
    for person_id, system in await session.execute(
            select(PersonOrientationSystem.person_id, OrientationSystem)
            .join(OrientationSystem, OrientationSystem.id == PersonOrientationSystem.orientation_system_id)
            .where(PersonOrientationSystem.person_id.in_(person_ids)).order_by(OrientationSystem.name)):
        systems[person_id].append(system)
    return structures, systems


async def person_views(session: AsyncSession, caller: Caller, people: list[Person]) -> list[PersonView]:
    structures, systems = await person_links(session, [p.id for p in people])
    views = []
    for p in people:
        scope = Scope(p.deployment_id, frozenset(s.id for s in structures[p.id]), p.id, p.role)
        views.append(PersonView(
            person_id=p.id, role=p.role, deployment_id=p.deployment_id, firstname=p.firstname, lastname=p.lastname,
            email=p.email, phone=p.phone, position=p.position,
            structures=[StructureRef(structure_id=s.id, name=s.name) for s in structures[p.id]],
            orientation_systems=[system_view(o) for o in systems[p.id]], deactivated=p.deactivated_at is not None,
            can_edit=p.deactivated_at is None and may(caller, Operation.edit_person, scope),
            can_deactivate=p.deactivated_at is None and may(caller, Operation.deactivate_person, scope),
            email_failed_at=p.email_failed_at, phone_failed_at=p.phone_failed_at, version=p.version,
        ))
    return views
