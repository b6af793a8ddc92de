"""Who calls, how they stand to a notebook, and whether they may: every handler starts here.

When a notebook is out of reach the answer says what to do: not found (never imported, or out of the caller's
territory: the same answer, so that ids cannot be probed), or not a member (rattachez-vous).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from notebook.adapters.audit_trail import remember_caller
from notebook.adapters.orm import Beneficiary, BeneficiaryStructure, Member, Notebook, Person
from notebook.domain.habilitation import Operation, Relation, may
from notebook.handlers.deps import Deps
from notebook.handlers.territory_access import outside_relations
from servicekit.errors import Forbidden, NotFound
from servicekit.rpc import RpcContext

NOT_FOUND = ("Aucun carnet ne correspond : le bénéficiaire n'a peut-être pas encore été importé sur Carnet de bord. "
             "Rapprochez-vous de votre gestionnaire de territoire.")
NOT_A_MEMBER = ("Vous ne faites pas partie du groupe de suivi de ce bénéficiaire : rattachez-vous au carnet "
                "pour accéder à cette partie.")
NOT_ALLOWED = "Vous n'avez pas le droit de faire cette opération sur ce carnet."
MEMBER_ROLES = (Role.professional, Role.orientation_manager)


@dataclass(frozen=True)
class Caller:
    account_id: uuid.UUID
    role: Role
    deployment_id: uuid.UUID | None
    profile_id: uuid.UUID | None
    structure_ids: frozenset[uuid.UUID]
    today: date | None = None  # Paris day of the call (the service's clock): a referral's access ends after its date


async def caller_of(ctx: RpcContext, deps: Deps) -> Caller:
    principal = await deps.verifier.verify(ctx.bearer_token)
    caller = Caller(principal.account_id, Role(principal.role), principal.deployment_id, principal.profile_id,
                    frozenset(principal.structure_ids), deps.clock().astimezone(ZoneInfo("Europe/Paris")).date())
    remember_caller(ctx.request_id, caller)  # who changes what, for the audit trail (adapters.audit_trail)
    return caller


async def relations_to(session: AsyncSession, caller: Caller, notebook: Notebook) -> frozenset[Relation]:
    if caller.role == Role.admin_cdb:
        return frozenset({Relation.territory})
    if caller.role == Role.beneficiary:
        return frozenset({Relation.own}) if notebook.beneficiary_id == caller.profile_id else frozenset()
    if notebook.deployment_id != caller.deployment_id:
        return await outside_relations(session, caller, notebook)  # elsewhere, unless referred or a destination
    relations = {Relation.territory}
    if caller.role in MEMBER_ROLES and await active_member(session, notebook.id, caller.profile_id):
        relations.add(Relation.member)
    if caller.role == Role.admin_structure and await followed_by_structures(session, notebook.id,
                                                                             caller.structure_ids):
        relations.add(Relation.structure)
    return frozenset(relations)


async def active_member(session: AsyncSession, notebook_id: uuid.UUID, person_id: uuid.UUID | None) -> Member | None:
    if person_id is None:
        return None
    return (await session.execute(select(Member).where(
        Member.notebook_id == notebook_id, Member.person_id == person_id, Member.ended_at.is_(None)))
    ).scalar_one_or_none()


async def followed_by_structures(session: AsyncSession, notebook_id: uuid.UUID,
                                 structure_ids: frozenset[uuid.UUID]) -> bool:
    """Attached to one of these structures, or followed by an active member who works in one of them."""
    if not structure_ids:
        return False
    if await session.scalar(select(BeneficiaryStructure.id).where(
            BeneficiaryStructure.notebook_id == notebook_id, BeneficiaryStructure.status == "current",
            BeneficiaryStructure.structure_id.in_(structure_ids)).limit(1)):
        return True
    members = (await session.execute(select(Person).join(Member, Member.person_id == Person.id).where(
        Member.notebook_id == notebook_id, Member.ended_at.is_(None)))).scalars().all()
    return any(person.works_in(structure_ids) for person in members)


def require(caller: Caller, relations: frozenset[Relation], operation: Operation) -> None:
    if may(caller.role, relations, operation):
        return
    if not relations or Relation.elsewhere in relations:
        # Out of the caller's scope (another territory, someone else's notebook): the same answer as an unknown id,
        # so that nobody learns which notebooks exist elsewhere.
        raise NotFound(NOT_FOUND, details={"reason": "not_imported"})
    if caller.role in MEMBER_ROLES and Relation.territory in relations:
        raise Forbidden(NOT_A_MEMBER, details={"reason": "not_a_member", "operation": operation.value})
    raise Forbidden(NOT_ALLOWED, details={"operation": operation.value})


async def open_notebook(session: AsyncSession, caller: Caller, notebook_id: uuid.UUID | None,
                        operation: Operation) -> tuple[Notebook, frozenset[Relation]]:
    """The notebook a call is about (a beneficiary's own when no id is given), once the caller may ``operation``."""
    if notebook_id is None and caller.role == Role.beneficiary:
        notebook = (await session.execute(select(Notebook).where(
            Notebook.beneficiary_id == caller.profile_id))).scalar_one_or_none()
    else:
        notebook = await session.get(Notebook, notebook_id) if notebook_id else None
    return notebook, await opened(session, caller, notebook, operation)


async def opened(session: AsyncSession, caller: Caller, notebook, operation: Operation) -> frozenset[Relation]:
    """The caller's relations to a notebook read (None: not found), once they may ``operation`` on it. ``notebook``:
    the ORM object or a row with its columns (the notebook page reads it joined with what it shows)."""
    if notebook is None:
        raise NotFound(NOT_FOUND, details={"reason": "not_imported"})
    relations = await relations_to(session, caller, notebook)
    require(caller, relations, operation)
    return relations


async def beneficiary_name_of(session: AsyncSession, notebook: Notebook) -> str:
    """« Prénom Nom » of the notebook's beneficiary, as the breadcrumbs of the pages under it name the notebook."""
    beneficiary = await session.get(Beneficiary, notebook.beneficiary_id)
    return f"{beneficiary.firstname} {beneficiary.lastname}".strip() if beneficiary else ""


async def name_of(session: AsyncSession, caller: Caller) -> str:
    """The caller's name as the history shows it."""
    if caller.role == Role.admin_cdb:
        return "Administrateur Carnet de bord"
    if caller.role == Role.beneficiary:
        beneficiary = await session.get(Beneficiary, caller.profile_id) if caller.profile_id else None
        return f"{beneficiary.firstname} {beneficiary.lastname}" if beneficiary else "Le bénéficiaire"
    person = await session.get(Person, caller.profile_id) if caller.profile_id else None
    return f"{person.firstname} {person.lastname}".strip() if person else ""
