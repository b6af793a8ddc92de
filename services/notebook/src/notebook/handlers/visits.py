"""Reads of a notebook by anyone but its beneficiary go to the access log she reads (a line a day) and to the
audit trail: its page (``notebook.handlers.page``) and what opens its content otherwise: a contract, a bilan,
their PDFs, the professionals' thread, its transfers and referrals."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from contracts.identity import Role
from notebook.adapters import audit_trail
from notebook.adapters.orm import Member, Notebook, Person, first_structure
from notebook.handlers.caller import Caller
from notebook.handlers.deps import Deps
from notebook.handlers.read_models import structure_names

CALLER_PERSON = select(Person.firstname.label("p_firstname"), Person.lastname.label("p_lastname"),
                       Person.structure_ids.label("p_structure_ids"))
CALLER_MEMBERSHIP = select(Member.id).where(Member.ended_at.is_(None))


def visitor(caller: Caller, notebook: Notebook, person, names: dict[uuid.UUID, str],
            member_id: uuid.UUID | None) -> dict | None:
    """Who reads the notebook, for the access log; None for the beneficiary. ``person``: the caller's row (its
    ``p_firstname``, ``p_lastname``, ``p_structure_ids``), ``names``: structures' names by id, ``member_id``: the
    caller's current membership of the notebook."""
    if caller.role == Role.beneficiary:
        return None
    if caller.role == Role.admin_cdb:
        name = "Administrateur Carnet de bord"  # as caller.name_of
    else:
        name = f"{person.p_firstname} {person.p_lastname}".strip() if person else ""
    structure = names.get(first_structure(person.p_structure_ids)) if person else None
    return {"member_id": member_id, "audit": audit_trail.read(caller, notebook.id, notebook.deployment_id),
            "who": dict(notebook_id=notebook.id, account_id=caller.account_id, person_id=caller.profile_id,
                        role=caller.role.value, person_name=name, structure_name=structure or "")}


def log_visit(deps: Deps, visit: dict | None) -> None:
    """Handed over to the access log's writer, which writes the views of many reads in one transaction a little
    later (``VisitLog``), the read answered meanwhile."""
    if visit is not None:
        deps.visit_log.record({**visit, "at": deps.clock()})


async def log_read(session, deps: Deps, caller: Caller, notebook: Notebook) -> None:
    """A read of the notebook's content other than its page, logged as a view of it: who reads a contract, a bilan
    or the thread by its address, without opening the page, is in the access log all the same."""
    if caller.role == Role.beneficiary:
        return
    person, member_id, names = None, None, {}
    if caller.profile_id:
        person = (await session.execute(CALLER_PERSON.where(Person.id == caller.profile_id))).one_or_none()
        member_id = await session.scalar(CALLER_MEMBERSHIP.where(Member.notebook_id == notebook.id,
                                                                 Member.person_id == caller.profile_id))
        if person is not None:
            names = await structure_names(session, {first_structure(person.p_structure_ids)})
    log_visit(deps, visitor(caller, notebook, person, names, member_id))
