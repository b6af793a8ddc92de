"""How a caller of another territory stands to a notebook: a professional invited for a time (a referral whose date
has not passed, checked at each call: no job ends it), a manager of the destination of its pending transfer, or
nobody (the same 404 as an unknown notebook)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.transfers import TransferStatus
from notebook.adapters.orm import Notebook, NotebookReferral, NotebookTransfer
from notebook.domain.habilitation import Relation
from notebook.domain.transfers import INVITED_ROLES

if TYPE_CHECKING:
    from notebook.handlers.caller import Caller

PARIS = ZoneInfo("Europe/Paris")


async def active_referral(session: AsyncSession, caller: Caller, notebook_id) -> NotebookReferral | None:
    if caller.role not in INVITED_ROLES or caller.profile_id is None:
        return None
    today = caller.today or datetime.now(PARIS).date()
    return (await session.execute(select(NotebookReferral).where(
        NotebookReferral.notebook_id == notebook_id, NotebookReferral.person_id == caller.profile_id,
        NotebookReferral.ended_at.is_(None), NotebookReferral.until >= today)
        .order_by(NotebookReferral.until.desc()).limit(1))).scalar_one_or_none()


async def outside_relations(session: AsyncSession, caller: Caller, notebook: Notebook) -> frozenset[Relation]:
    if await active_referral(session, caller, notebook.id) is not None:
        return frozenset({Relation.referred})
    if caller.role == Role.manager and caller.deployment_id is not None and await session.scalar(
            select(NotebookTransfer.id).where(NotebookTransfer.notebook_id == notebook.id,
                                              NotebookTransfer.status == TransferStatus.pending.value,
                                              NotebookTransfer.to_deployment_id == caller.deployment_id).limit(1)):
        return frozenset({Relation.elsewhere, Relation.destination})
    return frozenset({Relation.elsewhere})
