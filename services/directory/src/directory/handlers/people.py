"""People of a territory: created (identity invites them), deactivated (history kept), found in the annuaire."""
from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.directory import (
    CreatePersonV1,
    DeactivatePersonV1,
    GetPersonV1,
    PeopleReply,
    PersonFields,
    PersonReply,
    PersonRole,
    SearchPeopleV1,
    UpdatePersonV1,
)
from contracts.registry import registry
from directory.adapters.orm import (
    OrientationSystem,
    Person,
    PersonOrientationSystem,
    PersonStructure,
    Structure,
    StructureOrientationSystem,
)
from directory.domain.habilitation import Caller, Operation, Scope
from directory.domain.validation import clean_email, clean_phone, required
from directory.handlers.caller import caller_of, require, territory_of
from directory.handlers.deps import Deps
from directory.handlers.search import matches_words
from directory.handlers.views import person_links, person_views
from servicekit.contact import search_key
from servicekit.db import paged
from servicekit.errors import Conflict, Invalid, NotFound
from servicekit.rpc import RpcContext

EMAIL_TAKEN = "Une personne active utilise déjà l'adresse {email} : une adresse ne sert qu'à un compte."
STRUCTURE_REQUIRED = "Choisissez la structure de ce professionnel."
ONE_STRUCTURE = "Un professionnel est rattaché à une seule structure."
UNKNOWN_STRUCTURE = "Cette structure n'existe pas sur ce territoire."
UNKNOWN_SYSTEM = "Ce dispositif d'accompagnement n'existe pas sur ce territoire."
NOT_OFFERED = ("La structure « {structure} » ne propose pas {systems} : un professionnel n'est habilité "
               "qu'aux dispositifs de sa structure.")
NATIONAL_TEAM = "L'équipe nationale de Carnet de bord"
EDITED_MEANWHILE = ("Quelqu'un a modifié cette personne pendant que vous la modifiiez. "
                    "Voici la version actuelle : vérifiez-la, puis refaites vos changements.")
PERSON_NOT_FOUND = "Cette personne n'existe pas, ou vous n'avez pas le droit de la voir."
ALREADY_DEACTIVATED = "Cette personne est déjà désactivée."


def clean_person(fields: PersonFields) -> dict:
    return {"firstname": required(fields.firstname, "firstname", "prénom"),
            "lastname": required(fields.lastname, "lastname", "nom"),
            "email": clean_email(fields.email), "phone": clean_phone(fields.phone),
            "position": fields.position.strip()}


async def publish_person(session: AsyncSession, deps: Deps, person: Person, kind: str, created_by: str = "") -> None:
    """``directory.<role>.<kind>.v1`` carrying the person as they are now.

    Consumers order a person's events by ``occurred_at``: the write is flushed first, so that the event is
    stamped once this transaction holds the person (row lock, or SQLite's write lock), after any write
    committed before it. Stamped earlier, a deactivation could lose to an update committed just before it."""
    await session.flush()
    event_type = registry[f"directory.{person.role}.{kind}.v1"]
    if kind == "deactivated":
        await deps.outbox.add(session, event_type(profile_id=person.id, deployment_id=person.deployment_id))
        return
    structures, systems = await person_links(session, [person.id])
    await deps.outbox.add(session, event_type(
        profile_id=person.id, deployment_id=person.deployment_id, email=person.email, phone=person.phone or None,
        firstname=person.firstname, lastname=person.lastname, position=person.position,
        structure_ids=[s.id for s in structures[person.id]],
        orientation_system_ids=[o.id for o in systems[person.id]], created_by_name=created_by))


def set_contact(person: Person, email: str, phone: str) -> None:
    """A corrected address or number is no longer flagged as undeliverable."""
    if email != person.email:
        person.email, person.email_failed_at = email, None
    if phone != person.phone:
        person.phone, person.phone_failed_at = phone, None


def search_text_of(person: Person, structures: list[Structure]) -> str:
    parts = [person.firstname, person.lastname, person.email, person.phone]
    for s in structures:
        parts += [s.name, s.city, s.postal_code]
    return search_key(" ".join(parts))


async def check_links(session: AsyncSession, deployment_id: uuid.UUID, role: PersonRole,
                      structure_ids: list[uuid.UUID], system_ids: list[uuid.UUID]) -> list[Structure]:
    if role == PersonRole.professional and not structure_ids:
        raise Invalid(STRUCTURE_REQUIRED, details={"field": "structure_ids"})
    if role == PersonRole.professional and len(set(structure_ids)) > 1:
        raise Invalid(ONE_STRUCTURE, details={"field": "structure_ids"})
    structures = (await session.execute(select(Structure).where(
        Structure.id.in_(structure_ids), Structure.deployment_id == deployment_id,
        Structure.deactivated_at.is_(None)))).scalars().all()
    if len(structures) != len(set(structure_ids)):
        raise Invalid(UNKNOWN_STRUCTURE, details={"field": "structure_ids"})
    found = await session.scalar(select(func.count()).where(
        OrientationSystem.id.in_(system_ids), OrientationSystem.deployment_id == deployment_id))
    if found != len(set(system_ids)):
        raise Invalid(UNKNOWN_SYSTEM, details={"field": "orientation_system_ids"})
    if role == PersonRole.professional:
        await check_offered(session, structures[0], system_ids)
    return list(structures)


async def check_offered(session: AsyncSession, structure: Structure, system_ids: list[uuid.UUID]) -> None:
    """A professional acts for a dispositif through their structure (spec §5.3): only one it offers is theirs.
    The form proposes no other; a request made otherwise is refused here, naming what the structure lacks."""
    offered = set((await session.execute(select(StructureOrientationSystem.orientation_system_id).where(
        StructureOrientationSystem.structure_id == structure.id))).scalars())
    missing = set(system_ids) - offered
    if not missing:
        return
    names = (await session.execute(select(OrientationSystem.name).where(OrientationSystem.id.in_(missing))
                                   .order_by(OrientationSystem.name))).scalars().all()
    quoted = [f"« {name} »" for name in names]
    systems = (f"le dispositif {quoted[0]}" if len(quoted) == 1
               else f"les dispositifs {', '.join(quoted[:-1])} et {quoted[-1]}")
    raise Invalid(NOT_OFFERED.format(structure=structure.name, systems=systems),
                  details={"field": "orientation_system_ids"})


async def add_person(session: AsyncSession, deps: Deps, deployment_id: uuid.UUID, role: PersonRole,
                     fields: PersonFields, structure_ids: list[uuid.UUID], system_ids: list[uuid.UUID],
                     created_by: str, person_id: uuid.UUID | None = None) -> Person:
    values = clean_person(fields)
    if await session.scalar(select(Person.id).where(Person.email == values["email"],
                                                    Person.deactivated_at.is_(None))):
        raise Conflict(EMAIL_TAKEN.format(email=values["email"]), details={"field": "email"})
    structures = await check_links(session, deployment_id, role, structure_ids, system_ids)
    person = Person(id=person_id or uuid.uuid4(), role=role, deployment_id=deployment_id,
                    created_at=deps.clock(), **values)
    session.add(person)
    await session.flush()
    await link_person(session, person, structures, system_ids)
    await publish_person(session, deps, person, "created", created_by)
    return person


async def link_person(session: AsyncSession, person: Person, structures: list[Structure],
                      system_ids: list[uuid.UUID]) -> None:
    """Sets the person's structures and orientation systems, and what the annuaire finds them by."""
    person.search_text = search_text_of(person, structures)
    await session.execute(delete(PersonStructure).where(PersonStructure.person_id == person.id))
    await session.execute(delete(PersonOrientationSystem).where(PersonOrientationSystem.person_id == person.id))
    session.add_all([PersonStructure(person_id=person.id, structure_id=s.id) for s in structures])
    session.add_all([PersonOrientationSystem(person_id=person.id, orientation_system_id=o) for o in set(system_ids)])
    await session.flush()


def creation_operation(role: PersonRole) -> Operation:
    return {PersonRole.professional: Operation.create_professional,
            PersonRole.manager: Operation.add_manager}.get(role, Operation.create_staff)


async def create_person(request: CreatePersonV1, ctx: RpcContext, deps: Deps) -> PersonReply:
    caller = await caller_of(ctx, deps)
    deployment_id = territory_of(caller, request.deployment_id)
    require(caller, creation_operation(request.role),
            Scope(deployment_id, frozenset(request.structure_ids), person_role=request.role))
    async with deps.sessions() as session, session.begin():
        person = await add_person(session, deps, deployment_id, request.role, request.person, request.structure_ids,
                                  request.orientation_system_ids, await author_name(session, caller))
        [view] = await person_views(session, caller, [person])
    return PersonReply(**view.model_dump())


async def author_name(session: AsyncSession, caller: Caller) -> str:
    """Named in the invitation ("Agathe Deblouze vous a créé un compte")."""
    author = await session.get(Person, caller.profile_id) if caller.profile_id else None
    if author is not None:
        return f"{author.firstname} {author.lastname}"
    return NATIONAL_TEAM if caller.role == "admin_cdb" else ""


async def managed_person(session: AsyncSession, caller: Caller, person_id: uuid.UUID,
                         operation: Operation) -> Person:
    """A person the caller may manage (``operation``: edit, deactivate): their territory's manager, their
    structure's admin."""
    person = await session.get(Person, person_id, with_for_update=True)
    if person is None:
        raise NotFound(PERSON_NOT_FOUND)
    structures, _ = await person_links(session, [person.id])
    require(caller, operation,
            Scope(person.deployment_id, frozenset(s.id for s in structures[person.id]), person.id, person.role),
            not_found=PERSON_NOT_FOUND)
    if person.deactivated_at is not None:
        raise Conflict(ALREADY_DEACTIVATED)
    return person


async def get_person(request: GetPersonV1, ctx: RpcContext, deps: Deps) -> PersonReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        person = await session.get(Person, request.person_id)
        if person is None:
            raise NotFound(PERSON_NOT_FOUND)
        require(caller, Operation.search_annuaire, Scope(person.deployment_id), not_found=PERSON_NOT_FOUND)
        [view] = await person_views(session, caller, [person])
    return PersonReply(**view.model_dump())


async def update_person(request: UpdatePersonV1, ctx: RpcContext, deps: Deps) -> PersonReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session, session.begin():
        person = await managed_person(session, caller, request.person_id, Operation.edit_person)
        if person.version != request.version:  # the mapper's version column settles two saves at once
            [current] = await person_views(session, caller, [person])
            raise Conflict(EDITED_MEANWHILE, details={"current": current.model_dump(mode="json")})
        person.version += 1
        values = clean_person(request.person)
        if values["email"] != person.email and await session.scalar(select(Person.id).where(
                Person.email == values["email"], Person.deactivated_at.is_(None), Person.id != person.id)):
            raise Conflict(EMAIL_TAKEN.format(email=values["email"]), details={"field": "email"})
        structures = await check_links(session, person.deployment_id, PersonRole(person.role), request.structure_ids,
                                       request.orientation_system_ids)
        # A structure admin moves professionals only between structures they administer.
        require(caller, Operation.create_professional,
                Scope(person.deployment_id, frozenset(s.id for s in structures)))
        set_contact(person, email=values.pop("email"), phone=values.pop("phone"))
        for name, value in values.items():
            setattr(person, name, value)
        person.updated_at = deps.clock()
        await link_person(session, person, structures, request.orientation_system_ids)
        await publish_person(session, deps, person, "updated")
        [view] = await person_views(session, caller, [person])
    return PersonReply(**view.model_dump())


async def deactivate_person(request: DeactivatePersonV1, ctx: RpcContext, deps: Deps) -> PersonReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session, session.begin():
        person = await managed_person(session, caller, request.person_id, Operation.deactivate_person)
        person.deactivated_at = person.updated_at = deps.clock()
        await publish_person(session, deps, person, "deactivated")
        [view] = await person_views(session, caller, [person])
    return PersonReply(**view.model_dump())


async def search_people(request: SearchPeopleV1, ctx: RpcContext, deps: Deps) -> PeopleReply:
    caller = await caller_of(ctx, deps)
    deployment_id = territory_of(caller, request.deployment_id)
    require(caller, Operation.search_annuaire, Scope(deployment_id))
    conditions = [Person.deployment_id == deployment_id, *matches_words(Person.search_text, request.q)]
    if not request.include_deactivated:
        conditions.append(Person.deactivated_at.is_(None))
    if request.role:
        conditions.append(Person.role == request.role)
    if request.structure_id:
        conditions.append(Person.id.in_(select(PersonStructure.person_id).where(
            PersonStructure.structure_id == request.structure_id)))
    if request.orientation_system_id:
        conditions.append(Person.id.in_(select(PersonOrientationSystem.person_id).where(
            PersonOrientationSystem.orientation_system_id == request.orientation_system_id)))
    async with deps.sessions() as session:
        total, people = await paged(session, select(Person).where(*conditions).order_by(
            Person.lastname, Person.firstname, Person.id), request.offset, request.limit)
        return PeopleReply(people=await person_views(session, caller, people), total=total)
