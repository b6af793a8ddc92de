"""Structures of a territory: created and edited by managers (structure admins edit their own), searched by all."""
from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.directory import (
    CreateStructureV1,
    GetStructureV1,
    PersonRole,
    SearchStructuresV1,
    StructureCreatedV1,
    StructureFields,
    StructureReply,
    StructuresReply,
    StructureUpdatedV1,
    UpdateStructureV1,
)
from directory.adapters.orm import (
    OrientationSystem,
    Person,
    PersonOrientationSystem,
    PersonStructure,
    Structure,
    StructureOrientationSystem,
)
from directory.domain.habilitation import Caller, Operation, Scope
from directory.domain.validation import clean_email, clean_phone, clean_postal_code, clean_siret, required
from directory.handlers.caller import caller_of, require, territory_of
from directory.handlers.deps import Deps
from directory.handlers.people import UNKNOWN_SYSTEM, publish_person, search_text_of
from directory.handlers.search import matches_words
from directory.handlers.views import person_links, structure_views
from servicekit.contact import search_key
from servicekit.db import paged
from servicekit.errors import Conflict, Invalid, NotFound

NAME_TAKEN = "Une structure porte déjà ce nom sur ce territoire."
STRUCTURE_NOT_FOUND = "Cette structure n'existe pas, ou vous n'avez pas le droit de la voir."
EDITED_MEANWHILE = ("Quelqu'un a modifié cette structure pendant que vous la modifiiez. "
                    "Voici la version actuelle : vérifiez-la, puis refaites vos changements.")


def apply_fields(structure: Structure, fields: StructureFields) -> None:
    structure.name = required(fields.name, "name", "nom de la structure")
    structure.name_key = search_key(structure.name)
    structure.siret = clean_siret(fields.siret)
    structure.short_desc = fields.short_desc.strip()
    structure.address1, structure.address2 = fields.address1.strip(), fields.address2.strip()
    structure.postal_code = clean_postal_code(fields.postal_code)
    structure.city = fields.city.strip()
    structure.phone = clean_phone(fields.phone)
    structure.email = clean_email(fields.email, optional=True)
    structure.website = fields.website.strip()
    structure.sensitive = fields.sensitive
    structure.search_text = search_key(" ".join((structure.name, structure.city, structure.postal_code)))


async def set_orientation_systems(session: AsyncSession, structure: Structure,
                                  system_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Sets the systems the structure offers; returns those it offered before and no longer does."""
    found = await session.scalar(select(func.count()).where(
        OrientationSystem.id.in_(system_ids), OrientationSystem.deployment_id == structure.deployment_id))
    if found != len(set(system_ids)):
        raise Invalid(UNKNOWN_SYSTEM, details={"field": "orientation_system_ids"})
    before = set((await session.execute(select(StructureOrientationSystem.orientation_system_id).where(
        StructureOrientationSystem.structure_id == structure.id))).scalars())
    await session.execute(delete(StructureOrientationSystem).where(
        StructureOrientationSystem.structure_id == structure.id))
    session.add_all([StructureOrientationSystem(structure_id=structure.id, orientation_system_id=o)
                     for o in set(system_ids)])
    return before - set(system_ids)


async def withdraw_from_professionals(session: AsyncSession, deps: Deps, structure: Structure,
                                      system_ids: set[uuid.UUID]) -> None:
    """A professional acts for a dispositif through their structure (spec §5.3 editOrientationSystems.feature): one
    the structure stops offering is taken from its professionals in the same transaction, each one's new version
    published as any edit of them is. A professional belongs to one structure, so no other structure loses it."""
    if not system_ids:
        return
    holders = (await session.execute(
        select(Person).join(PersonStructure, PersonStructure.person_id == Person.id)
        .join(PersonOrientationSystem, PersonOrientationSystem.person_id == Person.id)
        .where(PersonStructure.structure_id == structure.id, Person.role == PersonRole.professional,
               Person.deactivated_at.is_(None), PersonOrientationSystem.orientation_system_id.in_(system_ids))
        .order_by(Person.id).distinct())).scalars().all()
    for person in holders:
        await session.execute(delete(PersonOrientationSystem).where(
            PersonOrientationSystem.person_id == person.id,
            PersonOrientationSystem.orientation_system_id.in_(system_ids)))
        person.version += 1  # an edit form read before no longer saves the dispositif back
        person.updated_at = deps.clock()
        await publish_person(session, deps, person, "updated")


async def check_unique_name(session: AsyncSession, structure: Structure) -> None:
    if await session.scalar(select(Structure.id).where(
            Structure.deployment_id == structure.deployment_id, Structure.name_key == structure.name_key,
            Structure.id != structure.id, Structure.deactivated_at.is_(None))):
        raise Conflict(NAME_TAKEN, details={"field": "name"})


async def publish_structure(session: AsyncSession, deps: Deps, structure: Structure, event_type) -> None:
    system_ids = (await session.execute(select(StructureOrientationSystem.orientation_system_id).where(
        StructureOrientationSystem.structure_id == structure.id))).scalars().all()
    await deps.outbox.add(session, event_type(
        structure_id=structure.id, deployment_id=structure.deployment_id, name=structure.name,
        postal_code=structure.postal_code, city=structure.city, phone=structure.phone, email=structure.email,
        sensitive=structure.sensitive, orientation_system_ids=list(system_ids),
        deactivated_at=structure.deactivated_at))


async def add_structure(session: AsyncSession, deps: Deps, deployment_id: uuid.UUID, fields: StructureFields,
                        structure_id: uuid.UUID | None = None) -> Structure:
    structure = Structure(id=structure_id or uuid.uuid4(), deployment_id=deployment_id, created_at=deps.clock())
    apply_fields(structure, fields)
    await check_unique_name(session, structure)
    session.add(structure)
    await session.flush()
    await set_orientation_systems(session, structure, fields.orientation_system_ids)
    await session.flush()
    await publish_structure(session, deps, structure, StructureCreatedV1)
    return structure


async def view(session: AsyncSession, caller: Caller, structure: Structure) -> StructureReply:
    [structure_view] = await structure_views(session, caller, [structure])
    return StructureReply(**structure_view.model_dump())


async def create_structure(request: CreateStructureV1, ctx, deps: Deps) -> StructureReply:
    caller = await caller_of(ctx, deps)
    deployment_id = territory_of(caller, request.deployment_id)
    require(caller, Operation.create_structure, Scope(deployment_id))
    async with deps.sessions() as session, session.begin():
        structure = await add_structure(session, deps, deployment_id, request.structure)
        return await view(session, caller, structure)


async def visible_structure(session: AsyncSession, caller: Caller, structure_id: uuid.UUID) -> Structure:
    structure = await session.get(Structure, structure_id)
    if structure is None:
        raise NotFound(STRUCTURE_NOT_FOUND)
    require(caller, Operation.search_annuaire, Scope(structure.deployment_id), not_found=STRUCTURE_NOT_FOUND)
    return structure


async def get_structure(request: GetStructureV1, ctx, deps: Deps) -> StructureReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        return await view(session, caller, await visible_structure(session, caller, request.structure_id))


async def update_structure(request: UpdateStructureV1, ctx, deps: Deps) -> StructureReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session, session.begin():
        structure = await visible_structure(session, caller, request.structure_id)
        require(caller, Operation.edit_structure, Scope(structure.deployment_id, frozenset({structure.id})))
        # Optimistic concurrency: the editor must have read the version being replaced; the mapper's version
        # column (versioned_by) makes the UPDATE conditional on it, so two editors cannot both save it.
        if structure.version != request.version:
            current = await view(session, caller, structure)
            raise Conflict(EDITED_MEANWHILE, details={"current": current.model_dump(mode="json")})
        structure.version += 1
        if caller.role not in (Role.admin_cdb, Role.manager):
            # Structure admins edit their structure, not whether it is flagged sensitive.
            request = request.model_copy(update={"structure": request.structure.model_copy(
                update={"sensitive": structure.sensitive})})
        apply_fields(structure, request.structure)
        structure.updated_at = deps.clock()
        await check_unique_name(session, structure)
        removed = await set_orientation_systems(session, structure, request.structure.orientation_system_ids)
        await refresh_people_search(session, structure.id)
        await session.flush()
        await publish_structure(session, deps, structure, StructureUpdatedV1)
        await withdraw_from_professionals(session, deps, structure, removed)
        return await view(session, caller, structure)


async def refresh_people_search(session: AsyncSession, structure_id: uuid.UUID) -> None:
    """People are found by their structure's name and city: a renamed structure renames their search text."""
    people = (await session.execute(select(Person).join(PersonStructure, PersonStructure.person_id == Person.id)
                                    .where(PersonStructure.structure_id == structure_id))).scalars().all()
    structures, _ = await person_links(session, [p.id for p in people])
    for person in people:
        person.search_text = search_text_of(person, structures[person.id])


async def search_structures(request: SearchStructuresV1, ctx, deps: Deps) -> StructuresReply:
    caller = await caller_of(ctx, deps)
    deployment_id = territory_of(caller, request.deployment_id)
    require(caller, Operation.search_annuaire, Scope(deployment_id))
    conditions = [Structure.deployment_id == deployment_id, Structure.deactivated_at.is_(None),
                  *matches_words(Structure.search_text, request.q)]
    if request.orientation_system_id:
        conditions.append(Structure.id.in_(select(StructureOrientationSystem.structure_id).where(
            StructureOrientationSystem.orientation_system_id == request.orientation_system_id)))
    async with deps.sessions() as session:
        total, structures = await paged(session, select(Structure).where(*conditions).order_by(
            Structure.name_key, Structure.id), request.offset, request.limit)
        return StructuresReply(structures=await structure_views(session, caller, structures), total=total)
