"""Import of réorientations (spec §4.1 F, §3.11): a manager lists beneficiaries of their territory (first name, last
name, birth date, without accents nor case) with the professionals to add (the first becomes référent, the former
one leaves, the beneficiary moves to the new référent's structure), to remove from the group, or, when nobody is
added, the structures that now follow the beneficiary (the référent of another structure then leaves).
"""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.imports import ImportRowValues, MatchView, Outcome, ReviewStatus, RowOutcome, RowReview
from contracts.notebook import MemberAddedV1, MembershipEndReason, MemberType
from notebook.adapters.orm import Beneficiary, BeneficiaryStructure, Member, Notebook, Person, StructureRead
from notebook.domain.protection import FieldProtection
from notebook.handlers.deps import Deps
from notebook.handlers.import_beneficiaries import identity_key, match_label
from notebook.handlers.import_members import name_referent
from notebook.handlers.imports import Refused, Scope
from notebook.handlers.members import (
    add_member,
    current_structures,
    end_membership,
    follow_by_structure,
    person_name,
)
from notebook.handlers.timeline import record
from servicekit.contact import normalise_email

NOT_FOUND = "Ce bénéficiaire est introuvable."
NOT_FOLLOWED = "Le bénéficiaire n'était pas suivi par cette personne."
UNKNOWN_PROFESSIONAL = ("« Accompagnateurs à ajouter » : aucun professionnel actif de votre territoire n'a "
                        "l'adresse {email}.")
UNKNOWN_STRUCTURE = "« Structures à rattacher » : aucune structure ne porte le nom « {name} » sur votre territoire."
STRUCTURES_IGNORED = ("« Structures à rattacher » est ignoré : des accompagnateurs sont ajoutés, le bénéficiaire "
                      "est suivi par la structure de son référent.")
NOTHING_TO_DO = ("Indiquez au moins un accompagnateur à ajouter ou à supprimer, ou une structure à rattacher.")


def emails(values: dict, name: str) -> list[str]:
    found = (normalise_email(str(e)) for e in values.get(name) or [])
    return list(dict.fromkeys(e for e in found if e))


def key_of(row: ImportRowValues) -> str | None:
    values = row.values
    try:
        return identity_key(str(values["lastname"]), str(values["firstname"]),
                            date.fromisoformat(str(values["date_of_birth"])))
    except (KeyError, ValueError):
        return None


@dataclass
class Followed:
    notebook_id: uuid.UUID
    beneficiary: Beneficiary
    members: dict[uuid.UUID, str] = field(default_factory=dict)  # active members: person → member type
    structure_ids: set[uuid.UUID] = field(default_factory=set)  # current

    @property
    def referent_id(self) -> uuid.UUID | None:
        return next((p for p, t in self.members.items() if t == MemberType.referent.value), None)


@dataclass
class Context:
    scope: Scope
    protection: FieldProtection
    by_identity: dict[str, Followed]
    professionals: dict[str, Person]  # to add: active professionals of the territory, by email
    people: dict[str, Person]  # to remove: anyone of the territory, by email
    structures: dict[str, uuid.UUID]


async def prepare(session: AsyncSession, deps: Deps, scope: Scope, rows: list[ImportRowValues]) -> Context:
    keys = {k for k in map(key_of, rows) if k}
    deployment = scope.deployment_id
    by_identity = {b.identity_key: Followed(n.id, b) for n, b in (await session.execute(
        select(Notebook, Beneficiary).join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id).where(
            Beneficiary.deployment_id == deployment, Beneficiary.identity_key.in_(keys)))).all()} if keys else {}
    by_notebook = {f.notebook_id: f for f in by_identity.values()}
    if by_notebook:
        for notebook_id, person_id, member_type in (await session.execute(select(
                Member.notebook_id, Member.person_id, Member.member_type).where(
                Member.notebook_id.in_(by_notebook), Member.ended_at.is_(None)))).all():
            by_notebook[notebook_id].members[person_id] = member_type
        for notebook_id, structure_id in (await session.execute(select(
                BeneficiaryStructure.notebook_id, BeneficiaryStructure.structure_id).where(
                BeneficiaryStructure.notebook_id.in_(by_notebook), BeneficiaryStructure.status == "current"))).all():
            by_notebook[notebook_id].structure_ids.add(structure_id)
    addresses = {e for row in rows for name in ("referents_to_add", "referents_to_remove")
                 for e in emails(row.values, name)}
    people = {p.email: p for p in (await session.execute(select(Person).where(
        Person.deployment_id == deployment, Person.email.in_(addresses)))).scalars()} if addresses else {}
    professionals = {e: p for e, p in people.items()
                     if p.role == Role.professional.value and p.deactivated_at is None}
    names = {str(n).strip() for row in rows for n in row.values.get("structure_names") or []}
    structures = {name: structure_id for structure_id, name in (await session.execute(select(
        StructureRead.id, StructureRead.name).where(StructureRead.deployment_id == deployment,
                                                    StructureRead.name.in_(names)))).all()} if names else {}
    return Context(scope, deps.protection, by_identity, professionals, people, structures)


@dataclass
class Verdict:
    status: ReviewStatus
    followed: Followed | None = None
    messages: list[str] = field(default_factory=list)
    adding: list[Person] = field(default_factory=list)
    removing: list[Person] = field(default_factory=list)
    structure_ids: list[uuid.UUID] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def verdict(context: Context, row: ImportRowValues) -> Verdict:
    key = key_of(row)
    followed = context.by_identity.get(key) if key else None
    if followed is None:
        return Verdict(ReviewStatus.conflict, messages=[NOT_FOUND])
    to_add, to_remove = emails(row.values, "referents_to_add"), emails(row.values, "referents_to_remove")
    names = list(dict.fromkeys(str(n).strip() for n in row.values.get("structure_names") or [] if str(n).strip()))
    invalid = [UNKNOWN_PROFESSIONAL.format(email=e) for e in to_add if e not in context.professionals]
    adding = [context.professionals[e] for e in to_add if e in context.professionals]
    if not adding:
        invalid += [UNKNOWN_STRUCTURE.format(name=n) for n in names if n not in context.structures]
    if invalid:
        return Verdict(ReviewStatus.invalid, followed, invalid)
    removing, not_followed = [], []
    for email in to_remove:
        person = context.people.get(email)
        if person is None or person.id not in followed.members:
            not_followed.append(f"{NOT_FOLLOWED} ({email})")
        else:
            removing.append(person)
    if not (to_add or to_remove or names):
        return Verdict(ReviewStatus.invalid, followed, [NOTHING_TO_DO])
    # v1's message, but not a refusal: who is to leave the group is not in it, which is what the file asks (a file
    # imported twice changes nothing the second time, rather than failing).
    messages = not_followed + ([STRUCTURES_IGNORED] if adding and names else [])
    structure_ids = [] if adding else [context.structures[n] for n in names]
    changed = []
    if adding and (followed.referent_id != adding[0].id
                   or any(p.id not in followed.members for p in adding[1:])):
        changed.append("referents_to_add")
    if removing:
        changed.append("referents_to_remove")
    if structure_ids and set(structure_ids) != followed.structure_ids:
        changed.append("structure_names")
    return Verdict(ReviewStatus.same, followed, messages, adding, removing, structure_ids, changed)


def match_of(followed: Followed | None, context: Context) -> MatchView | None:
    if followed is None:
        return None
    return MatchView(target_id=followed.notebook_id, label=match_label(followed.beneficiary, context.protection))


def review(context: Context, row: ImportRowValues) -> RowReview:
    found = verdict(context, row)
    return RowReview(row=row.row, status=found.status, match=match_of(found.followed, context), messages=found.messages,
                     changed=found.changed)


async def apply_row(session: AsyncSession, deps: Deps, context: Context, row: ImportRowValues) -> RowOutcome:
    found = verdict(context, row)
    if found.status != ReviewStatus.same:
        raise Refused(*found.messages)
    followed = found.followed
    if not found.changed:
        return RowOutcome(row=row.row, outcome=Outcome.unchanged, target_id=followed.notebook_id,
                          messages=found.messages)
    caller = context.scope.caller
    notebook = await session.get(Notebook, followed.notebook_id)
    for removed in found.removing:
        member = (await session.execute(select(Member).where(
            Member.notebook_id == notebook.id, Member.person_id == removed.id, Member.ended_at.is_(None))
        )).scalar_one()
        await end_membership(session, deps, notebook, member, await session.get(Person, removed.id),
                             MembershipEndReason.removed, caller)
    await session.flush()
    if found.adding:
        await add_referents(session, deps, notebook, found.adding, caller, context)
    elif found.structure_ids:
        await attach(session, deps, notebook, found.structure_ids, caller, context)
    await session.flush()
    await refresh(session, followed)
    return RowOutcome(row=row.row, outcome=Outcome.updated, target_id=notebook.id, messages=found.messages)


async def add_referents(session: AsyncSession, deps: Deps, notebook: Notebook, adding: list[Person], caller,
                        context: Context) -> None:
    first, *others = [await session.get(Person, p.id) for p in adding]
    current = (await session.execute(select(Member).where(
        Member.notebook_id == notebook.id, Member.person_id == first.id, Member.ended_at.is_(None))
    )).scalar_one_or_none()
    if current is None or current.member_type != MemberType.referent.value:
        # The former référent leaves the group (spec §4.1 F); the beneficiary follows the new one's structure.
        await name_referent(session, deps, notebook, first, caller, keep_previous=False)
        await deps.outbox.add(session, added(notebook, first, MemberType.referent, context))
    for person in others:
        if (await session.execute(select(Member.id).where(
                Member.notebook_id == notebook.id, Member.person_id == person.id, Member.ended_at.is_(None))
                )).first():
            continue
        await add_member(session, deps, notebook, person, MemberType.no_referent, caller)
        await record(session, deps, notebook, caller, "member",
                     f"{person_name(person)} rejoint le groupe de suivi (réorientation par import)",
                     subject_id=person.id, author_name=context.scope.author)
        await deps.outbox.add(session, added(notebook, person, MemberType.no_referent, context))


def added(notebook: Notebook, person: Person, member_type: MemberType, context: Context) -> MemberAddedV1:
    return MemberAddedV1(notebook_id=notebook.id, deployment_id=notebook.deployment_id,
                         beneficiary_id=notebook.beneficiary_id, person_id=person.id, member_type=member_type,
                         invited_by_name=context.scope.author, invited_by_id=context.scope.actor.profile_id,
                         person_email=person.email, person_firstname=person.firstname)


async def attach(session: AsyncSession, deps: Deps, notebook: Notebook, structure_ids: list[uuid.UUID], caller,
                 context: Context) -> None:
    """The listed structures now follow the beneficiary; a référent from none of them leaves the group."""
    referent = (await session.execute(select(Member).where(
        Member.notebook_id == notebook.id, Member.member_type == MemberType.referent.value,
        Member.ended_at.is_(None)))).scalar_one_or_none()
    if referent is not None:
        person = await session.get(Person, referent.person_id)
        if person is None or not person.works_in(structure_ids):
            await end_membership(session, deps, notebook, referent, person, MembershipEndReason.replaced, caller)
            await session.flush()
    first, *others = structure_ids
    await follow_by_structure(session, deps, notebook, first)
    await session.flush()
    current = {link.structure_id for link in await current_structures(session, notebook.id)}
    for structure_id in others:
        if structure_id not in current:
            session.add(BeneficiaryStructure(notebook_id=notebook.id, structure_id=structure_id, status="current",
                                             started_at=deps.clock()))
    names = {sid: name for name, sid in context.structures.items()}
    await record(session, deps, notebook, caller, "orientation",
                 "Suivi par " + ", ".join(names[s] for s in structure_ids) + " (réorientation par import)",
                 author_name=context.scope.author)


async def refresh(session: AsyncSession, followed: Followed) -> None:
    """What a later row of the batch about the same beneficiary must see."""
    followed.members = dict((await session.execute(select(Member.person_id, Member.member_type).where(
        Member.notebook_id == followed.notebook_id, Member.ended_at.is_(None)))).all())
    followed.structure_ids = set((await session.execute(select(BeneficiaryStructure.structure_id).where(
        BeneficiaryStructure.notebook_id == followed.notebook_id, BeneficiaryStructure.status == "current"
    ))).scalars())


class ReorientationsImport:
    batchable = False

    async def prepare(self, session, deps, scope, rows):
        return await prepare(session, deps, scope, rows)

    def review(self, context, row):
        return review(context, row)

    async def apply(self, session, deps, context, row, effects):
        return await apply_row(session, dataclasses.replace(deps, outbox=effects), context, row)


REORIENTATIONS = ReorientationsImport()
