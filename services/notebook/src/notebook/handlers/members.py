"""The group of professionals around a beneficiary ("groupe de suivi"): join, invite, leave, one référent.

Every membership is a row with its start, end and end reason: ended rows are the group's history. The
référent is unique among active rows (a partial unique index settles two professionals joining at once).
"""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import AcceptedReply, Role
from contracts.notebook import (
    AssignedReply,
    AssignOrientationManagerV1,
    AssignReferentV1,
    InviteMemberV1,
    JoinNotebookV1,
    LeaveNotebookV1,
    MemberAddedV1,
    MemberEndedV1,
    MembershipEndReason,
    MemberType,
    ReferentChangedV1,
    RemoveMemberV1,
    VersionReply,
)
from notebook.adapters.orm import BeneficiaryStructure, Member, Notebook, OrientationSystemRead, Person
from notebook.domain.habilitation import Operation
from notebook.domain.parcours import check_can_leave, check_referent_system
from notebook.handlers.caller import Caller, active_member, caller_of, name_of, open_notebook
from notebook.handlers.deps import Deps
from notebook.handlers.timeline import record
from servicekit.errors import Conflict, Invalid, NotFound

ALREADY_MEMBER = "Vous faites déjà partie du groupe de suivi de ce carnet."
ALREADY_INVITED = "Ce professionnel fait déjà partie du groupe de suivi."
NOT_A_MEMBER = "Vous ne faites pas partie du groupe de suivi de ce carnet."
NOT_IN_GROUP = "Cette personne ne fait pas partie du groupe de suivi de ce carnet."
UNKNOWN_PROFESSIONAL = "Ce professionnel n'existe pas sur votre territoire, ou son compte est désactivé."
REFERENT_RACE = "Un autre professionnel vient de devenir référent de ce carnet : rechargez la page."
MEMBER_LABELS = {MemberType.referent: "référent", MemberType.no_referent: "membre du groupe de suivi",
                 MemberType.orientation_manager: "chargé d'orientation"}


def person_name(person: Person | None) -> str:
    return f"{person.firstname} {person.lastname}".strip() if person else "Un professionnel"


async def add_member(session: AsyncSession, deps: Deps, notebook: Notebook, person: Person, member_type: MemberType,
                     caller: Caller, orientation_system_id: uuid.UUID | None = None) -> Member:
    member = Member(notebook_id=notebook.id, person_id=person.id, member_type=member_type.value,
                    orientation_system_id=orientation_system_id, started_at=deps.clock(), created_by=caller.profile_id)
    session.add(member)
    return member


def end(member: Member, reason: MembershipEndReason, deps: Deps) -> None:
    member.ended_at, member.end_reason = deps.clock(), reason.value


async def current_structures(session: AsyncSession, notebook_id: uuid.UUID) -> list[BeneficiaryStructure]:
    return list((await session.execute(select(BeneficiaryStructure).where(
        BeneficiaryStructure.notebook_id == notebook_id, BeneficiaryStructure.status == "current"))).scalars())


async def follow_by_structure(session: AsyncSession, deps: Deps, notebook: Notebook, structure_id: uuid.UUID) -> None:
    """The référent's structure becomes the one following the beneficiary; the others become history."""
    now = deps.clock()
    kept = False
    for link in await current_structures(session, notebook.id):
        if link.structure_id == structure_id:
            kept = True
        else:
            link.status, link.ended_at = "outdated", now
    if not kept:
        session.add(BeneficiaryStructure(notebook_id=notebook.id, structure_id=structure_id, status="current",
                                         started_at=now))


async def become_referent(session: AsyncSession, deps: Deps, notebook: Notebook, person: Person, caller: Caller,
                          orientation_system_id: uuid.UUID, keep_previous: bool = True) -> None:
    """The one way a notebook changes référent (joining, or an assignment): one history entry, one event."""
    previous = (await session.execute(select(Member).where(
        Member.notebook_id == notebook.id, Member.member_type == MemberType.referent.value,
        Member.ended_at.is_(None)))).scalar_one_or_none()
    previous_id = previous.person_id if previous else None
    former = await session.get(Person, previous_id) if previous_id and previous_id != person.id else None
    if previous is not None:
        end(previous, MembershipEndReason.replaced, deps)
        await session.flush()
        if previous.person_id != person.id and keep_previous:  # the former référent stays, as a member
            session.add(Member(notebook_id=notebook.id, person_id=previous.person_id,
                               member_type=MemberType.no_referent.value, started_at=deps.clock(),
                               created_by=caller.profile_id))
    if (mine := await active_member(session, notebook.id, person.id)) is not None:
        end(mine, MembershipEndReason.replaced, deps)
        await session.flush()
    await add_member(session, deps, notebook, person, MemberType.referent, caller, orientation_system_id)
    notebook.orientation_system_id = orientation_system_id
    if person.structure_id:
        await follow_by_structure(session, deps, notebook, person.structure_id)
    system = await session.get(OrientationSystemRead, orientation_system_id)
    await record(session, deps, notebook, caller, "member",
                 f"{person_name(person)} devient référent"
                 + (f" ({system.name})" if system else ""), subject_id=person.id)
    await deps.outbox.add(session, ReferentChangedV1(
        notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
        referent_id=person.id, referent_name=person_name(person), previous_referent_id=previous_id,
        previous_referent_email=former.email if former else "",
        previous_referent_firstname=former.firstname if former else "",
        orientation_system_id=orientation_system_id))


async def join(request: JoinNotebookV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    try:
        async with deps.sessions.begin() as session:
            notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.join)
            person = await session.get(Person, caller.profile_id)
            if person is None:
                raise NotFound(UNKNOWN_PROFESSIONAL)
            current = await active_member(session, notebook.id, person.id)
            if request.as_referent:
                if current and current.member_type == MemberType.referent.value:
                    raise Conflict(ALREADY_MEMBER)
                check_referent_system(request.orientation_system_id, person)
                await become_referent(session, deps, notebook, person, caller, request.orientation_system_id)
                member_type = MemberType.referent
            else:
                if current:
                    raise Conflict(ALREADY_MEMBER)
                member_type = (MemberType.orientation_manager if caller.role == Role.orientation_manager
                               else MemberType.no_referent)
                await add_member(session, deps, notebook, person, member_type, caller)
                await record(session, deps, notebook, caller, "member",
                             f"{person_name(person)} rejoint le groupe de suivi ({MEMBER_LABELS[member_type]})",
                             subject_id=person.id)
            await deps.outbox.add(session, MemberAddedV1(
                notebook_id=notebook.id, deployment_id=notebook.deployment_id,
                beneficiary_id=notebook.beneficiary_id, person_id=person.id, member_type=member_type))
    except IntegrityError as error:
        raise Conflict(REFERENT_RACE) from error
    return VersionReply(id=notebook.id)


async def invite(request: InviteMemberV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    try:
        async with deps.sessions.begin() as session:
            notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.invite)
            person = await session.get(Person, request.person_id)
            if (person is None or person.deactivated_at is not None or person.deployment_id != notebook.deployment_id
                    or person.role not in (Role.professional.value, Role.orientation_manager.value)):
                raise Invalid(UNKNOWN_PROFESSIONAL, details={"field": "person_id"})
            if await active_member(session, notebook.id, person.id):
                raise Conflict(ALREADY_INVITED)
            member_type = (MemberType.orientation_manager if person.role == Role.orientation_manager.value
                           else MemberType.no_referent)
            await add_member(session, deps, notebook, person, member_type, caller)
            inviter = await name_of(session, caller)
            await record(session, deps, notebook, caller, "member",
                         f"{person_name(person)} est invité dans le groupe de suivi par {inviter}",
                         subject_id=person.id, author_name=inviter)
            await deps.outbox.add(session, MemberAddedV1(
                notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
                person_id=person.id, member_type=member_type, invited_by_name=inviter,
                invited_by_id=caller.profile_id, person_email=person.email, person_firstname=person.firstname))
    except IntegrityError as error:
        raise Conflict(ALREADY_INVITED) from error
    return VersionReply(id=notebook.id)


async def release_structure_if_alone(session: AsyncSession, deps: Deps, notebook: Notebook, person: Person) -> None:
    """When the last member from a structure leaves, that structure no longer follows the beneficiary."""
    structure_ids = {str(s) for s in person.structure_ids}
    others = (await session.execute(select(Person.structure_ids).join(Member, Member.person_id == Person.id).where(
        Member.notebook_id == notebook.id, Member.ended_at.is_(None), Member.person_id != person.id))).scalars()
    still_followed = {str(s) for ids in others for s in ids}
    for link in await current_structures(session, notebook.id):
        if str(link.structure_id) in structure_ids - still_followed:
            link.status, link.ended_at = "outdated", deps.clock()


async def end_membership(session: AsyncSession, deps: Deps, notebook: Notebook, member: Member, person: Person | None,
                         reason: MembershipEndReason, caller: Caller | None) -> None:
    end(member, reason, deps)
    if person:
        await release_structure_if_alone(session, deps, notebook, person)
    summary = {MembershipEndReason.left: "quitte le groupe de suivi",
               MembershipEndReason.deactivated: "quitte le groupe de suivi (compte désactivé)",
               MembershipEndReason.removed: "est retiré du groupe de suivi",
               MembershipEndReason.replaced: "n'est plus référent"}[reason]
    await record(session, deps, notebook, caller, "member", f"{person_name(person)} {summary}",
                 subject_id=member.person_id)
    await deps.outbox.add(session, MemberEndedV1(
        notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
        person_id=member.person_id, member_type=MemberType(member.member_type), reason=reason))


async def leave(request: LeaveNotebookV1, ctx, deps: Deps) -> AcceptedReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.leave)
        member = await active_member(session, notebook.id, caller.profile_id)
        if member is None:
            raise Conflict(NOT_A_MEMBER)
        check_can_leave(MemberType(member.member_type))
        await end_membership(session, deps, notebook, member, await session.get(Person, member.person_id),
                             MembershipEndReason.left, caller)
    return AcceptedReply()


async def remove_member(request: RemoveMemberV1, ctx, deps: Deps) -> AcceptedReply:
    """A manager, or the admin of a structure following the beneficiary, takes someone out of the group (a
    référent included: the notebook then waits for one)."""
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.remove_member)
        member = await active_member(session, notebook.id, request.person_id)
        if member is None:
            raise NotFound(NOT_IN_GROUP)
        await end_membership(session, deps, notebook, member, await session.get(Person, member.person_id),
                             MembershipEndReason.removed, caller)
    return AcceptedReply()


async def end_memberships_of(session: AsyncSession, deps: Deps, person: Person) -> None:
    """A deactivated professional leaves every group, référent included (the notebook then waits for one)."""
    members = (await session.execute(select(Member).where(
        Member.person_id == person.id, Member.ended_at.is_(None)))).scalars().all()
    for member in members:
        notebook = await session.get(Notebook, member.notebook_id)
        await end_membership(session, deps, notebook, member, person, MembershipEndReason.deactivated, None)




NOT_ASSIGNABLE = ("Ce professionnel ne peut pas être désigné : il doit être actif sur ce territoire"
                  "{structure}.")
NOT_AN_ORIENTATION_MANAGER = "Choisissez un chargé d'orientation actif de ce territoire."


def referent_system(notebook: Notebook, person: Person, requested: uuid.UUID | None) -> uuid.UUID:
    """The orientation system the new référent holds: the one asked for, the notebook's current one, or their first."""
    for candidate in (requested, notebook.orientation_system_id):
        if candidate and person.holds(candidate):
            return uuid.UUID(str(candidate))
    if requested or not person.orientation_system_ids:
        check_referent_system(requested, person)
    return uuid.UUID(str(person.orientation_system_ids[0]))


async def assign_referent(request: AssignReferentV1, ctx, deps: Deps) -> AssignedReply:
    """"Rattacher": one or several notebooks get a référent chosen by a structure admin (among their structures'
    professionals), a manager or an orientation manager; the former one stays a member unless removed."""
    caller = await caller_of(ctx, deps)
    assigned = 0
    try:
        async with deps.sessions.begin() as session:
            person = await session.get(Person, request.person_id)
            mine = caller.role != Role.admin_structure or (person and person.works_in(caller.structure_ids))
            if (person is None or person.role != Role.professional.value or person.deactivated_at is not None
                    or person.deployment_id != caller.deployment_id or not mine):
                structure = " et dans l'une de vos structures" if caller.role == Role.admin_structure else ""
                raise Invalid(NOT_ASSIGNABLE.format(structure=structure), details={"field": "person_id"})
            for notebook_id in request.notebook_ids:
                notebook, _ = await open_notebook(session, caller, notebook_id, Operation.assign)
                current = await active_member(session, notebook.id, person.id)
                if current and current.member_type == MemberType.referent.value:
                    continue
                await become_referent(session, deps, notebook, person, caller,
                                      referent_system(notebook, person, request.orientation_system_id),
                                      keep_previous=not request.remove_previous)
                assigned += 1
    except IntegrityError as error:
        raise Conflict(REFERENT_RACE) from error
    return AssignedReply(assigned=assigned)


async def assign_orientation_manager(request: AssignOrientationManagerV1, ctx, deps: Deps) -> AssignedReply:
    """"Assigner un chargé d'orientation": the notebook's current one (if any) hands over."""
    caller = await caller_of(ctx, deps)
    assigned = 0
    async with deps.sessions.begin() as session:
        person = await session.get(Person, request.person_id)
        if (person is None or person.role != Role.orientation_manager.value or person.deactivated_at is not None
                or person.deployment_id != caller.deployment_id):
            raise Invalid(NOT_AN_ORIENTATION_MANAGER, details={"field": "person_id"})
        for notebook_id in request.notebook_ids:
            notebook, _ = await open_notebook(session, caller, notebook_id, Operation.assign_orientation_manager)
            current = (await session.execute(select(Member).where(
                Member.notebook_id == notebook.id, Member.member_type == MemberType.orientation_manager.value,
                Member.ended_at.is_(None)))).scalars().all()
            if any(m.person_id == person.id for m in current):
                continue
            for member in current:
                await end_membership(session, deps, notebook, member, await session.get(Person, member.person_id),
                                     MembershipEndReason.replaced, caller)
            await add_member(session, deps, notebook, person, MemberType.orientation_manager, caller)
            await record(session, deps, notebook, caller, "member",
                         f"{person_name(person)} devient chargé d'orientation", subject_id=person.id)
            await deps.outbox.add(session, MemberAddedV1(
                notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
                person_id=person.id, member_type=MemberType.orientation_manager,
                invited_by_name=await name_of(session, caller), invited_by_id=caller.profile_id,
                person_email=person.email, person_firstname=person.firstname))
            assigned += 1
    return AssignedReply(assigned=assigned)
