"""Orientation (spec §3.7): "Orienter" / "Réorienter" chooses the orientation system, the structure that follows
the beneficiary and, optionally, the référent; the référent may ask for a reorientation, which an orientation
manager or a manager accepts (by reorienting) or refuses ("Maintenir l'accompagnement") with a reason.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import AcceptedReply, Role
from contracts.notebook import (
    ChangeOrientationV1,
    DenyReorientationV1,
    MembershipEndReason,
    MemberType,
    OrientationChangedV1,
    OrientationChoice,
    OrientationOptions,
    OrientationRequestStatus,
    OrientationRequestView,
    ReferentChoice,
    ReorientationDeniedV1,
    ReorientationRequestedV1,
    RequestReorientationV1,
    StructureChoice,
    VersionReply,
)
from notebook.adapters.orm import (
    Member,
    Notebook,
    OrientationRequest,
    OrientationSystemRead,
    Person,
    StructureRead,
    first_structure,
)
from notebook.domain.habilitation import Operation
from notebook.handlers.caller import Caller, active_member, caller_of, name_of, open_notebook
from notebook.handlers.deps import Deps
from notebook.handlers.members import add_member, become_referent, end, follow_by_structure, person_name
from notebook.handlers.read_models import orientation_system_names
from notebook.handlers.timeline import record
from servicekit.errors import Conflict, Forbidden, Invalid, NotFound

ONLY_THE_REFERENT = "Seul le référent du bénéficiaire peut demander une réorientation."
ALREADY_PENDING = "Une demande de réorientation est déjà en cours pour ce carnet."
REASON_REQUIRED = "Précisez le motif."
UNKNOWN_SYSTEM = "Choisissez un dispositif d'accompagnement de ce territoire."
UNKNOWN_STRUCTURE = "Choisissez une structure de ce territoire."
REFERENT_NOT_ELIGIBLE = ("Ce professionnel ne peut pas devenir référent : il doit être actif, travailler dans la "
                         "structure choisie et être habilité pour ce dispositif.")
# The precise cause when the professional is known (issue 20 item 5: name what is missing, and whose).
REFERENT_ELSEWHERE = "Le professionnel {person} ne travaille pas dans la structure choisie ({structure})."
REFERENT_WITHOUT_SYSTEM = "Le professionnel {person} n'a pas le dispositif {system}."
REQUEST_NOT_FOUND = "Cette demande de réorientation n'existe pas."
ALREADY_DECIDED = "Cette demande de réorientation a déjà été traitée."


def reason_of(text: str) -> str:
    if not text.strip():
        raise Invalid(REASON_REQUIRED, details={"field": "reason"})
    return text.strip()


async def system_of(session: AsyncSession, notebook: Notebook, system_id) -> OrientationSystemRead:
    system = await session.get(OrientationSystemRead, system_id)
    if system is None or system.deployment_id != notebook.deployment_id:
        raise Invalid(UNKNOWN_SYSTEM, details={"field": "orientation_system_id"})
    return system


async def pending_request(session: AsyncSession, notebook_id, *, lock: bool = False) -> OrientationRequest | None:
    query = select(OrientationRequest).where(OrientationRequest.notebook_id == notebook_id,
                                             OrientationRequest.status == OrientationRequestStatus.pending.value)
    return (await session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()


async def request_reorientation(request: RequestReorientationV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    try:
        async with deps.sessions.begin() as session:
            notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.request_reorientation)
            member = await active_member(session, notebook.id, caller.profile_id)
            if member is None or member.member_type != MemberType.referent.value:
                raise Forbidden(ONLY_THE_REFERENT)
            system = await system_of(session, notebook, request.orientation_system_id)
            reason = reason_of(request.reason)
            if await pending_request(session, notebook.id):
                raise Conflict(ALREADY_PENDING)
            author = await name_of(session, caller)
            asked = OrientationRequest(notebook_id=notebook.id, requested_by_id=caller.profile_id,
                                       requested_by_name=author, requested_orientation_system_id=system.id,
                                       reason=reason, created_at=deps.clock())
            session.add(asked)
            await session.flush()
            await record(session, deps, notebook, caller, "orientation",
                         f"Demande de réorientation : orientation recommandée {system.name}", subject_id=asked.id,
                         author_name=author)
            await deps.outbox.add(session, ReorientationRequestedV1(
                notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
                request_id=asked.id, requested_by_id=caller.profile_id, orientation_system_id=system.id))
    except IntegrityError as error:  # two requests at the same instant: the unique index keeps one
        raise Conflict(ALREADY_PENDING) from error
    return VersionReply(id=asked.id)


async def deny_reorientation(request: DenyReorientationV1, ctx, deps: Deps) -> AcceptedReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        asked = await session.get(OrientationRequest, request.request_id, with_for_update=True)
        if asked is None:
            raise NotFound(REQUEST_NOT_FOUND)
        notebook, _ = await open_notebook(session, caller, asked.notebook_id, Operation.orient)
        if asked.status != OrientationRequestStatus.pending.value:
            raise Conflict(ALREADY_DECIDED)
        asked.decision_reason = reason_of(request.reason)
        asked.status, asked.decided_at = OrientationRequestStatus.denied.value, deps.clock()
        asked.decided_by_name = await name_of(session, caller)
        asked.decided_orientation_system_id = notebook.orientation_system_id
        await record(session, deps, notebook, caller, "orientation",
                     "Demande de réorientation refusée : maintien de l'accompagnement", subject_id=asked.id,
                     author_name=asked.decided_by_name)
        requester = await session.get(Person, asked.requested_by_id)
        await deps.outbox.add(session, ReorientationDeniedV1(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
            request_id=asked.id, requested_by_email=requester.email if requester else "",
            requested_by_firstname=requester.firstname if requester else ""))
    return AcceptedReply()


@dataclass(frozen=True)
class OrientationDecision:
    """What "Orienter" decides, checked against a territory: its orientation system, the structure that will follow
    the beneficiary and, optionally, their référent."""

    system: OrientationSystemRead
    structure: StructureRead
    referent: Person | None
    reason: str = ""


async def orientation_decision(session: AsyncSession, deployment_id, system_id, structure_id, referent_id,
                               reason: str = "") -> OrientationDecision:
    """The choices of an orientation, once each is known in the territory (the référent: active, working in the
    structure and holding the orientation system); otherwise a 422 naming the field."""
    system = await session.get(OrientationSystemRead, system_id)
    if system is None or system.deployment_id != deployment_id:
        raise Invalid(UNKNOWN_SYSTEM, details={"field": "orientation_system_id"})
    structure = await session.get(StructureRead, structure_id)
    if structure is None or structure.deployment_id != deployment_id:
        raise Invalid(UNKNOWN_STRUCTURE, details={"field": "structure_id"})
    referent = await session.get(Person, referent_id) if referent_id else None
    if referent_id and (
            referent is None or referent.deactivated_at is not None or referent.role != Role.professional.value
            or referent.deployment_id != deployment_id):
        raise Invalid(REFERENT_NOT_ELIGIBLE, details={"field": "referent_id"})
    if referent is not None and not referent.works_in([structure.id]):
        raise Invalid(REFERENT_ELSEWHERE.format(person=person_name(referent), structure=structure.name),
                      details={"field": "referent_id"})
    if referent is not None and not referent.holds(system.id):
        raise Invalid(REFERENT_WITHOUT_SYSTEM.format(person=person_name(referent), system=system.name),
                      details={"field": "referent_id"})
    return OrientationDecision(system, structure, referent, reason.strip())


async def change_orientation(request: ChangeOrientationV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.orient)
        decision = await orientation_decision(session, notebook.deployment_id, request.orientation_system_id,
                                              request.structure_id, request.referent_id, request.reason)
        await orient(session, deps, caller, notebook, decision)
    return VersionReply(id=notebook.id)


async def orient(session: AsyncSession, deps: Deps, caller: Caller, notebook: Notebook, decision: OrientationDecision,
                 author: str | None = None, decision_id=None) -> None:
    """One notebook oriented (or reoriented) by a decision already checked, for a caller who may orient it: the
    référent (or the structure) follows it, a pending reorientation request is accepted, one history entry and one
    ``notebook.orientation.changed.v1``. "Orienter" and the bulk decision both come here."""
    system, structure, referent = decision.system, decision.structure, decision.referent
    reorientation = notebook.oriented_at is not None or notebook.orientation_system_id is not None
    if referent is not None:
        await become_referent(session, deps, notebook, referent, caller, system.id)
    else:
        await step_down_referent_outside(session, deps, notebook, structure.id, caller)
        await follow_by_structure(session, deps, notebook, structure.id)
    if author is None:
        author = await name_of(session, caller)
    notebook.orientation_system_id, notebook.orientation_reason = system.id, decision.reason
    notebook.oriented_at, notebook.oriented_by_name = deps.clock(), author
    accepted = await pending_request(session, notebook.id, lock=True)
    if accepted is not None:
        accepted.status, accepted.decided_at = OrientationRequestStatus.accepted.value, deps.clock()
        accepted.decided_by_name, accepted.decided_orientation_system_id = author, system.id
    summary = (f"{'Réorientation' if reorientation else 'Orientation'} : {system.name}, suivi par {structure.name}"
               + (f", référent {person_name(referent)}" if referent else ""))
    await record(session, deps, notebook, caller, "orientation", summary, author_name=author)
    await deps.outbox.add(session, OrientationChangedV1(
        notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
        reorientation=reorientation, orientation_system_id=system.id, orientation_system_name=system.name,
        structure_id=structure.id, structure_name=structure.name,
        referent_id=referent.id if referent else None, referent_email=referent.email if referent else "",
        referent_firstname=referent.firstname if referent else "",
        request_id=accepted.id if accepted else None, decision_id=decision_id))


async def step_down_referent_outside(session: AsyncSession, deps: Deps, notebook: Notebook, structure_id,
                                     caller: Caller) -> None:
    """Reoriented to another structure without a new référent: the current référent stays in the group as a
    member, and the notebook waits for a référent of the new structure."""
    current = (await session.execute(select(Member).where(
        Member.notebook_id == notebook.id, Member.member_type == MemberType.referent.value,
        Member.ended_at.is_(None)))).scalar_one_or_none()
    if current is None:
        return
    person = await session.get(Person, current.person_id)
    if person is not None and person.works_in([structure_id]):
        return
    end(current, MembershipEndReason.replaced, deps)
    await session.flush()
    if person is not None:
        await add_member(session, deps, notebook, person, MemberType.no_referent, caller)
        await record(session, deps, notebook, caller, "member", f"{person_name(person)} n'est plus référent",
                     subject_id=person.id)


# Built once: every full notebook page asks.
LAST_REQUEST = (select(OrientationRequest).where(OrientationRequest.notebook_id == bindparam("notebook_id"))
                .order_by(OrientationRequest.created_at.desc()).limit(1))


async def request_view(session: AsyncSession, notebook_id) -> OrientationRequestView | None:
    """The pending request, or else the last decided one (its outcome banner)."""
    asked = (await session.execute(LAST_REQUEST, {"notebook_id": notebook_id})).scalar_one_or_none()
    if asked is None:
        return None
    names = await orientation_system_names(session, {asked.requested_orientation_system_id,
                                                     asked.decided_orientation_system_id})
    return OrientationRequestView(
        request_id=asked.id, status=asked.status, requested_at=asked.created_at,
        requested_by_name=asked.requested_by_name,
        requested_orientation_system_name=names.get(asked.requested_orientation_system_id, ""),
        reason=asked.reason, decided_at=asked.decided_at, decided_by_name=asked.decided_by_name,
        decided_orientation_system_name=names.get(asked.decided_orientation_system_id, ""),
        decision_reason=asked.decision_reason)


# The territory's choices as plain rows, statements built once: the « Orienter » form and the bulk decision read them
# (every manager's notebook page did until 2026-12-01), and building ORM objects (and each select's expressions) for
# every professional of the territory was a fifth of the page's time in the service.
DEPLOYMENT = bindparam("deployment")
TERRITORY_SYSTEMS = (select(OrientationSystemRead.id, OrientationSystemRead.name)
                     .where(OrientationSystemRead.deployment_id == DEPLOYMENT).order_by(OrientationSystemRead.name))
TERRITORY_STRUCTURES = (select(StructureRead.id, StructureRead.name)
                        .where(StructureRead.deployment_id == DEPLOYMENT).order_by(StructureRead.name))
TERRITORY_REFERENTS = (
    select(Person.id, Person.firstname, Person.lastname, Person.structure_ids, Person.orientation_system_ids)
    .where(Person.deployment_id == DEPLOYMENT, Person.role == Role.professional.value, Person.deactivated_at.is_(None))
    .order_by(Person.lastname, Person.firstname))


async def territory_orientation_options(session: AsyncSession, deployment, *,
                                        systems_only: bool = False) -> OrientationOptions:
    """A territory's orientation systems, structures and active professionals (with where they work and which
    systems they hold)."""
    systems = [OrientationChoice(orientation_system_id=s.id, name=s.name)
               for s in await session.execute(TERRITORY_SYSTEMS, {"deployment": deployment})]
    if systems_only:
        return OrientationOptions(orientation_systems=systems)
    structures = await session.execute(TERRITORY_STRUCTURES, {"deployment": deployment})
    people = await session.execute(TERRITORY_REFERENTS, {"deployment": deployment})
    return OrientationOptions(
        orientation_systems=systems,
        structures=[StructureChoice(structure_id=s.id, name=s.name) for s in structures],
        referents=[ReferentChoice(person_id=p.id, name=person_name(p), structure_id=first_structure(p.structure_ids),
                                  structure_ids=p.structure_ids,
                                  orientation_system_ids=p.orientation_system_ids) for p in people])
