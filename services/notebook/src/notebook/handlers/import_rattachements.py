"""Import of rattachements (spec §4.1 E): a structure admin sends back the "bénéficiaires en attente" file with the
emails of their professionals; each known professional of their structure joins the notebook's group (the first
becomes référent when the notebook has none).

Only the notebooks the admin's structures follow (attached to one of them, or followed by one of their
professionals) are reachable: any other id is answered as unknown, so that ids cannot be probed.
"""
from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.imports import ImportRowValues, MatchView, Outcome, ReviewStatus, RowOutcome, RowReview
from contracts.notebook import MemberAddedV1, MemberType
from notebook.adapters.orm import Beneficiary, BeneficiaryStructure, Member, Notebook, Person
from notebook.domain.protection import FieldProtection
from notebook.handlers.deps import Deps
from notebook.handlers.import_beneficiaries import identity_key, match_label
from notebook.handlers.import_members import name_referent
from notebook.handlers.imports import Effects, Refused, Scope
from notebook.handlers.members import add_member, person_name
from notebook.handlers.timeline import record
from servicekit.contact import normalise_email

UNKNOWN_NOTEBOOK = "Aucun carnet suivi par votre structure ne porte cet identifiant."
NOT_THIS_PERSON = ("Le prénom, le nom ou la date de naissance ne sont pas ceux du bénéficiaire de ce carnet : "
                   "vérifiez l'identifiant.")
ALREADY = "Ce rattachement existe déjà."
ALREADY_ONE = "{email} : Ce rattachement existe déjà."
UNKNOWN_PROFESSIONAL = "« Accompagnateurs » : aucun professionnel actif de votre structure n'a l'adresse {email}."
MEMBER_NOT_REFERENT = "{name} rejoint le groupe de suivi : ce carnet a déjà un référent."


@dataclass
class Followed:
    notebook_id: uuid.UUID
    beneficiary: Beneficiary
    members: dict[uuid.UUID, str] = field(default_factory=dict)  # active members: person → member type

    @property
    def has_referent(self) -> bool:
        return MemberType.referent.value in self.members.values()


@dataclass
class Context:
    scope: Scope
    protection: FieldProtection
    notebooks: dict[uuid.UUID, Followed]
    professionals: dict[str, Person]  # by email: active professionals of the admin's structures


def notebook_id_of(row: ImportRowValues) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(row.values.get("notebook_id")))
    except ValueError:
        return None


def emails_of(row: ImportRowValues) -> list[str]:
    emails = (normalise_email(str(e)) for e in row.values.get("referent_emails") or [])
    return list(dict.fromkeys(e for e in emails if e))


async def prepare(session: AsyncSession, deps: Deps, scope: Scope, rows: list[ImportRowValues]) -> Context:
    ids = {i for i in map(notebook_id_of, rows) if i}
    structures = scope.structure_ids
    found = {notebook.id: Followed(notebook.id, beneficiary) for notebook, beneficiary in (await session.execute(
        select(Notebook, Beneficiary).join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id).where(
            Notebook.id.in_(ids), Notebook.deployment_id == scope.deployment_id))).all()} if ids else {}
    attached = set((await session.execute(select(BeneficiaryStructure.notebook_id).where(
        BeneficiaryStructure.notebook_id.in_(found), BeneficiaryStructure.status == "current",
        BeneficiaryStructure.structure_id.in_(structures)))).scalars()) if found else set()
    followers: dict[uuid.UUID, bool] = defaultdict(bool)
    if found:
        for member, person in (await session.execute(select(Member, Person).outerjoin(
                Person, Person.id == Member.person_id).where(
                Member.notebook_id.in_(found), Member.ended_at.is_(None)))).all():
            found[member.notebook_id].members[member.person_id] = member.member_type
            followers[member.notebook_id] |= bool(person and person.works_in(structures))
    notebooks = {i: f for i, f in found.items() if i in attached or followers[i]}
    emails = {e for row in rows for e in emails_of(row)}
    professionals = {p.email: p for p in (await session.execute(select(Person).where(
        Person.deployment_id == scope.deployment_id, Person.role == Role.professional.value,
        Person.deactivated_at.is_(None), Person.email.in_(emails)))).scalars()
        if p.works_in(structures)} if emails else {}
    return Context(scope, deps.protection, notebooks, professionals)


@dataclass
class Verdict:
    status: ReviewStatus
    followed: Followed | None = None
    messages: list[str] = field(default_factory=list)
    joining: list[Person] = field(default_factory=list)


def same_person(row: ImportRowValues, beneficiary: Beneficiary) -> bool:
    """The names and birth date, when the file gives them, are those of the notebook's beneficiary."""
    values = row.values
    if not (values.get("firstname") and values.get("lastname") and values.get("date_of_birth")):
        return True
    born = date.fromisoformat(str(values["date_of_birth"]))
    return identity_key(str(values["lastname"]), str(values["firstname"]), born) == beneficiary.identity_key


def verdict(context: Context, row: ImportRowValues) -> Verdict:
    notebook_id = notebook_id_of(row)
    followed = context.notebooks.get(notebook_id) if notebook_id else None
    if followed is None:
        return Verdict(ReviewStatus.conflict, messages=[UNKNOWN_NOTEBOOK])
    if not same_person(row, followed.beneficiary):
        return Verdict(ReviewStatus.conflict, followed, [NOT_THIS_PERSON])
    emails = emails_of(row)
    messages, joining, already = [], [], []
    for email in emails:
        person = context.professionals.get(email)
        if person is None:
            messages.append(UNKNOWN_PROFESSIONAL.format(email=email))
        elif person.id in followed.members:
            already.append(email)
        else:
            joining.append(person)
    if not joining:
        if already:
            return Verdict(ReviewStatus.conflict, followed, [ALREADY] + messages)
        return Verdict(ReviewStatus.invalid, followed, messages)
    messages += [ALREADY_ONE.format(email=email) for email in already]
    if followed.has_referent:
        messages.append(MEMBER_NOT_REFERENT.format(name=person_name(joining[0])))
    return Verdict(ReviewStatus.same, followed, messages, joining)


def match_of(followed: Followed | None, context: Context) -> MatchView | None:
    if followed is None:
        return None
    return MatchView(target_id=followed.notebook_id, label=match_label(followed.beneficiary, context.protection))


def review(context: Context, row: ImportRowValues) -> RowReview:
    found = verdict(context, row)
    return RowReview(row=row.row, status=found.status, match=match_of(found.followed, context), messages=found.messages,
                     changed=["referent_emails"] if found.status == ReviewStatus.same else [])


async def apply_row(session: AsyncSession, deps: Deps, context: Context, row: ImportRowValues,
                    effects: Effects) -> RowOutcome:
    found = verdict(context, row)
    if found.status != ReviewStatus.same:
        raise Refused(*found.messages)
    caller, followed = context.scope.caller, found.followed
    notebook = await session.get(Notebook, followed.notebook_id)
    joined: dict[uuid.UUID, str] = {}
    for index, professional in enumerate(found.joining):
        person = await session.get(Person, professional.id)
        as_referent = index == 0 and not followed.has_referent
        if as_referent:
            await name_referent(session, deps, notebook, person, caller, keep_previous=True)
        else:
            await add_member(session, deps, notebook, person, MemberType.no_referent, caller)
            await record(session, deps, notebook, caller, "member",
                         f"{person_name(person)} rejoint le groupe de suivi (rattachement par import)",
                         subject_id=person.id, author_name=context.scope.author)
        member_type = MemberType.referent if as_referent else MemberType.no_referent
        joined[person.id] = member_type.value
        await deps.outbox.add(session, MemberAddedV1(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
            person_id=person.id, member_type=member_type, invited_by_name=context.scope.author,
            invited_by_id=context.scope.actor.profile_id, person_email=person.email,
            person_firstname=person.firstname))
    await session.flush()
    followed.members.update(joined)  # a later row of the batch about the same notebook sees them
    return RowOutcome(row=row.row, outcome=Outcome.updated, target_id=notebook.id, messages=found.messages)


class RattachementsImport:
    batchable = False

    async def prepare(self, session, deps, scope, rows):
        return await prepare(session, deps, scope, rows)

    def review(self, context, row):
        return review(context, row)

    async def apply(self, session, deps, context, row, effects):
        return await apply_row(session, dataclasses.replace(deps, outbox=effects), context, row, effects)


RATTACHEMENTS = RattachementsImport()
