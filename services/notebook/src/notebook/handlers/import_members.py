"""A référent named by an import file (rattachements, réorientations): as v1 did, a professional holding no
orientation system may be named (the structures of v1's files were never given any); one who holds some becomes
référent as with the form, for the notebook's orientation system when they hold it, else their first one."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.notebook import MembershipEndReason, MemberType, ReferentChangedV1
from notebook.adapters.orm import Member, Notebook, Person
from notebook.handlers.caller import Caller, active_member
from notebook.handlers.deps import Deps
from notebook.handlers.members import (
    add_member,
    become_referent,
    end,
    follow_by_structure,
    person_name,
    referent_system,
)
from notebook.handlers.timeline import record
from servicekit.errors import Invalid


async def name_referent(session: AsyncSession, deps: Deps, notebook: Notebook, person: Person, caller: Caller,
                        *, keep_previous: bool) -> None:
    try:
        system_id = referent_system(notebook, person, None)
    except Invalid:
        system_id = None
    if system_id is not None:
        await become_referent(session, deps, notebook, person, caller, system_id, keep_previous=keep_previous)
        return
    # ``become_referent`` without an orientation system: the notebook's own is left as it is.
    previous = (await session.execute(select(Member).where(
        Member.notebook_id == notebook.id, Member.member_type == MemberType.referent.value,
        Member.ended_at.is_(None)))).scalar_one_or_none()
    former = await session.get(Person, previous.person_id) if previous and previous.person_id != person.id else None
    if previous is not None:
        end(previous, MembershipEndReason.replaced, deps)
        await session.flush()
        if former is not None and keep_previous:
            await add_member(session, deps, notebook, former, MemberType.no_referent, caller)
    if (mine := await active_member(session, notebook.id, person.id)) is not None:
        end(mine, MembershipEndReason.replaced, deps)
        await session.flush()
    await add_member(session, deps, notebook, person, MemberType.referent, caller)
    if person.structure_id:
        await follow_by_structure(session, deps, notebook, person.structure_id)
    await record(session, deps, notebook, caller, "member", f"{person_name(person)} devient référent",
                 subject_id=person.id)
    await deps.outbox.add(session, ReferentChangedV1(
        notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
        referent_id=person.id, referent_name=person_name(person),
        previous_referent_id=previous.person_id if previous else None,
        previous_referent_email=former.email if former else "",
        previous_referent_firstname=former.firstname if former else ""))
