"""What notify's nightly digest needs: each structure admin, with their structures' beneficiaries waiting for a
référent (a current structure, no active référent)."""
from __future__ import annotations

from sqlalchemy import func, select

from contracts.identity import Role
from contracts.notebook import (
    ListWaitingForReferentV1,
    WaitingDigestRecipient,
    WaitingDigestReply,
    WaitingStructure,
)
from notebook.adapters.orm import BeneficiaryStructure, Notebook, Person, StructureRead
from notebook.handlers.deps import Deps
from notebook.handlers.search import has_referent


async def waiting_for_referent(_request: ListWaitingForReferentV1, _ctx, deps: Deps) -> WaitingDigestReply:
    async with deps.sessions() as session:
        waiting = (await session.execute(
            select(BeneficiaryStructure.structure_id, StructureRead.name, func.count())
            .join(Notebook, Notebook.id == BeneficiaryStructure.notebook_id)
            .join(StructureRead, StructureRead.id == BeneficiaryStructure.structure_id)
            .where(BeneficiaryStructure.status == "current", ~has_referent())
            .group_by(BeneficiaryStructure.structure_id, StructureRead.name))).all()
        by_structure = {str(sid): WaitingStructure(structure_id=sid, name=name, waiting=n) for sid, name, n in waiting}
        admins = (await session.execute(select(Person).where(
            Person.role == Role.admin_structure.value, Person.deactivated_at.is_(None), Person.email != ""))
        ).scalars().all()
    recipients = []
    for admin in admins:
        structures = [by_structure[str(s)] for s in admin.structure_ids if str(s) in by_structure]
        if structures:
            recipients.append(WaitingDigestRecipient(email=admin.email, firstname=admin.firstname,
                                                     structures=structures))
    return WaitingDigestReply(recipients=recipients)
