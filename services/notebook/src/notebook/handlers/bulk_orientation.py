"""Orientation in bulk (issue 17 item 4): one decision (orientation system, structure, optional référent) for up to
500 notebooks selected on the beneficiaries' list, by an orientation manager or a manager.

Each notebook is decided by the same use case as "Orienter" (``orientation.orient``: the référent or the structure
follows it, a pending request is accepted, one history entry, one ``notebook.orientation.changed.v1`` through the
outbox) once the caller may orient it (default deny, the habilitation table); any other is refused with the reason,
in French, and left untouched. Reads are batched and notebooks are written a chunk per transaction, so that 500 take
seconds; a chunk that meets a concurrent change (the référent's unique index) is replayed one notebook at a time,
so that only that notebook is refused.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.bulk_orientation import (
    BulkOrientationDecidedV1,
    BulkOrientationReply,
    BulkOrientationResult,
    BulkOrientationStatus,
    GetTerritoryOrientationOptionsV1,
    OrientInBulkV1,
    TerritoryOrientationOptionsReply,
)
from contracts.notebook import MemberType, OrientationRequestStatus
from notebook.adapters.orm import Beneficiary, BeneficiaryStructure, Member, Notebook, OrientationRequest, Person
from notebook.domain.habilitation import Operation, Relation, may
from notebook.handlers.caller import NOT_ALLOWED, NOT_FOUND, Caller, caller_of, name_of, relations_to, require
from notebook.handlers.deps import Deps
from notebook.handlers.orientation import (
    OrientationDecision,
    orient,
    orientation_decision,
    territory_orientation_options,
)
from servicekit.errors import Forbidden, Invalid, ServiceError

CHUNK = 50  # notebooks written per transaction
ALREADY_ORIENTED = ("Déjà orienté ainsi (même dispositif, même structure{referent}) : rien n'a changé, "
                    "l'historique n'a pas de nouvelle entrée.")
CHANGED_MEANWHILE = ("Ce carnet a changé pendant la décision (un autre référent vient d'être désigné) : "
                     "rien n'a été appliqué, réessayez pour lui.")


def may_orient(caller: Caller) -> bool:
    """Whether the caller's role may orient any notebook at all (the habilitation table says who)."""
    return any(may(caller.role, frozenset({relation}), Operation.orient) for relation in Relation)


def refused(notebook_id: uuid.UUID, reason: str, names: tuple[str, str] = ("", "")) -> BulkOrientationResult:
    return BulkOrientationResult(notebook_id=notebook_id, status=BulkOrientationStatus.refused, reason=reason,
                                 firstname=names[0], lastname=names[1])


def chunks(ids: list[uuid.UUID], size: int) -> Iterable[list[uuid.UUID]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


async def orient_in_bulk(request: OrientInBulkV1, ctx, deps: Deps) -> BulkOrientationReply:
    caller = await caller_of(ctx, deps)
    if not may_orient(caller):
        raise Forbidden(NOT_ALLOWED, details={"operation": Operation.orient.value})
    ids = list(dict.fromkeys(request.notebook_ids))
    async with deps.sessions.begin() as session:  # a choice unknown in the territory: a 422, nothing changed
        decision = await orientation_decision(session, caller.deployment_id, request.orientation_system_id,
                                              request.structure_id, request.referent_id, request.reason)
        author = await name_of(session, caller)
    decision_id = uuid.uuid4()
    results: dict[uuid.UUID, BulkOrientationResult] = {}
    for chunk in chunks(ids, CHUNK):
        try:
            results.update(await orient_chunk(deps, caller, request, chunk, author, decision_id))
        except IntegrityError:  # a référent designated meanwhile on one of them: each on its own
            for notebook_id in chunk:
                try:
                    results.update(await orient_chunk(deps, caller, request, [notebook_id], author, decision_id))
                except IntegrityError:
                    results[notebook_id] = refused(notebook_id, CHANGED_MEANWHILE)
    ordered = [results[notebook_id] for notebook_id in ids]
    done = sum(1 for result in ordered if result.status == BulkOrientationStatus.done)
    if done:  # the référent chosen is told once, with the count (not once per notebook)
        async with deps.sessions.begin() as session:
            referent = decision.referent
            await deps.outbox.add(session, BulkOrientationDecidedV1(
                decision_id=decision_id, deployment_id=caller.deployment_id, decided_by_name=author,
                orientation_system_id=decision.system.id, orientation_system_name=decision.system.name,
                structure_id=decision.structure.id, structure_name=decision.structure.name,
                referent_id=referent.id if referent else None, referent_email=referent.email if referent else "",
                referent_firstname=referent.firstname if referent else "", done=done, refused=len(ordered) - done))
    return BulkOrientationReply(results=ordered, done=done, refused=len(ordered) - done)


async def orient_chunk(deps: Deps, caller: Caller, request: OrientInBulkV1, chunk: list[uuid.UUID],
                       author: str, decision_id: uuid.UUID) -> dict[uuid.UUID, BulkOrientationResult]:
    """Some notebooks of the selection, in one transaction: each in scope and not already oriented so is oriented."""
    results: dict[uuid.UUID, BulkOrientationResult] = {}
    async with deps.sessions.begin() as session:
        try:  # checked again in this transaction: the référent may have left the structure meanwhile
            decision = await orientation_decision(session, caller.deployment_id, request.orientation_system_id,
                                                  request.structure_id, request.referent_id, request.reason)
        except Invalid as error:
            return {notebook_id: refused(notebook_id, error.message) for notebook_id in chunk}
        notebooks = {n.id: n for n in (await session.execute(
            select(Notebook).where(Notebook.id.in_(chunk)))).scalars()}
        in_scope = []
        for notebook_id in chunk:
            notebook = notebooks.get(notebook_id)
            if notebook is None or notebook.deployment_id != caller.deployment_id:
                results[notebook_id] = refused(notebook_id, NOT_FOUND)  # unknown, or another territory's
                continue
            try:
                require(caller, await relations_to(session, caller, notebook), Operation.orient)
            except ServiceError as error:
                results[notebook_id] = refused(notebook_id, error.message)
                continue
            in_scope.append(notebook)
        names = await beneficiary_names(session, in_scope)
        state = await orientation_state(session, [n.id for n in in_scope])
        # Each notebook's reads are about that notebook's rows as they were: its new rows (structure, history)
        # wait for one flush of the chunk (a few multi-row statements) instead of one flush per read.
        with session.no_autoflush:
            for notebook in in_scope:
                if unchanged(notebook, decision, state):
                    results[notebook.id] = refused(notebook.id, ALREADY_ORIENTED.format(
                        referent=", même référent" if decision.referent else ""), names[notebook.id])
                    continue
                await orient(session, deps, caller, notebook, decision, author, decision_id)
                results[notebook.id] = BulkOrientationResult(
                    notebook_id=notebook.id, status=BulkOrientationStatus.done, firstname=names[notebook.id][0],
                    lastname=names[notebook.id][1])
    return results


async def beneficiary_names(session: AsyncSession, notebooks: list[Notebook]) -> dict[uuid.UUID, tuple[str, str]]:
    by_beneficiary = {n.beneficiary_id: n.id for n in notebooks}
    rows = (await session.execute(select(Beneficiary.id, Beneficiary.firstname, Beneficiary.lastname).where(
        Beneficiary.id.in_(list(by_beneficiary))))).all() if by_beneficiary else []
    names = {by_beneficiary[row.id]: (row.firstname, row.lastname) for row in rows}
    return {n.id: names.get(n.id, ("", "")) for n in notebooks}


class OrientationState:
    """Where the notebooks of a chunk stand, read in three queries: their référent, the structures following them
    and those with a pending reorientation request."""

    def __init__(self) -> None:
        self.referents: dict[uuid.UUID, Person] = {}
        self.structures: dict[uuid.UUID, set[uuid.UUID]] = {}
        self.pending: set[uuid.UUID] = set()


async def orientation_state(session: AsyncSession, notebook_ids: list[uuid.UUID]) -> OrientationState:
    state = OrientationState()
    if not notebook_ids:
        return state
    for notebook_id, person in (await session.execute(
            select(Member.notebook_id, Person).join(Person, Person.id == Member.person_id).where(
                Member.notebook_id.in_(notebook_ids), Member.member_type == MemberType.referent.value,
                Member.ended_at.is_(None)))).all():
        state.referents[notebook_id] = person
    for notebook_id, structure_id in (await session.execute(
            select(BeneficiaryStructure.notebook_id, BeneficiaryStructure.structure_id).where(
                BeneficiaryStructure.notebook_id.in_(notebook_ids),
                BeneficiaryStructure.status == "current"))).all():
        state.structures.setdefault(notebook_id, set()).add(structure_id)
    state.pending = set((await session.execute(select(OrientationRequest.notebook_id).where(
        OrientationRequest.notebook_id.in_(notebook_ids),
        OrientationRequest.status == OrientationRequestStatus.pending.value))).scalars())
    return state


def unchanged(notebook: Notebook, decision: OrientationDecision, state: OrientationState) -> bool:
    """Orienting it again would change nothing: same system, followed by the structure, the same référent (or,
    without one chosen, a référent who works in the structure, or none), the same reason, no request waiting."""
    referent = state.referents.get(notebook.id)
    if decision.referent is not None:
        same_referent = referent is not None and referent.id == decision.referent.id
    else:
        same_referent = referent is None or referent.works_in([decision.structure.id])
    return (notebook.orientation_system_id == decision.system.id
            and decision.structure.id in state.structures.get(notebook.id, set())
            and same_referent and (notebook.orientation_reason or "") == decision.reason
            and notebook.id not in state.pending)


async def territory_options(_request: GetTerritoryOrientationOptionsV1, ctx, deps: Deps
                            ) -> TerritoryOrientationOptionsReply:
    """The bulk decision's choices: the caller's territory's orientation systems, structures and professionals."""
    caller = await caller_of(ctx, deps)
    if not may_orient(caller) or caller.deployment_id is None:
        raise Forbidden(NOT_ALLOWED, details={"operation": Operation.orient.value})
    async with deps.sessions.begin() as session:
        options = await territory_orientation_options(session, caller.deployment_id)
    return TerritoryOrientationOptionsReply(options=options)
