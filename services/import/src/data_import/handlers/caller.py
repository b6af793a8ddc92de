"""Who calls, and the imports they may see: every gateway RPC starts here."""
from __future__ import annotations

import uuid

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from data_import.adapters.orm import imports
from data_import.domain.habilitation import Uploader, may_see
from data_import.handlers.deps import Deps
from servicekit.errors import NotFound
from servicekit.rpc import RpcContext

NOT_FOUND = "Cet import n'existe pas ou n'est pas de votre périmètre."


async def caller_of(ctx: RpcContext, deps: Deps) -> Uploader:
    principal = await deps.verifier.verify(ctx.bearer_token)
    return Uploader(principal.account_id, Role(principal.role), principal.deployment_id,
                    frozenset(principal.structure_ids))


async def visible_import(session: AsyncSession, caller: Uploader, import_id: uuid.UUID) -> Row:
    """The import's row, or NotFound when it does not exist or is out of the caller's scope (the same answer)."""
    job = (await session.execute(select(imports).where(imports.c.id == import_id))).one_or_none()
    if job is None or not may_see(caller, account_id=job.account_id, deployment_id=job.deployment_id,
                                  structure_id=job.structure_id):
        raise NotFound(NOT_FOUND)
    return job
