"""Following imports: one import's progress, the imports of the caller's scope, the rows of an import."""
from __future__ import annotations

from sqlalchemy import func, select

from contracts.identity import Role
from contracts.imports import GetImportV1, ImportRowsReply, ImportsReply, ImportView, ListImportRowsV1, ListImportsV1
from data_import.adapters.orm import import_rows, imports
from data_import.handlers.caller import caller_of, visible_import
from data_import.handlers.deps import Deps
from data_import.handlers.views import import_view, row_view
from servicekit.rpc import RpcContext


async def get_import(request: GetImportV1, ctx: RpcContext, deps: Deps) -> ImportView:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        return import_view(await visible_import(session, caller, request.import_id))


async def list_imports(request: ListImportsV1, ctx: RpcContext, deps: Deps) -> ImportsReply:
    caller = await caller_of(ctx, deps)
    query = (select(imports).order_by(imports.c.created_at.desc(), imports.c.id)
             .offset(request.offset).limit(request.limit))
    if request.kind is not None:
        query = query.where(imports.c.kind == request.kind.value)
    # Their own imports, and those of their scope (habilitation.may_see, as a query).
    scope = imports.c.account_id == caller.account_id
    if caller.deployment_id is not None and caller.role == Role.manager:
        scope = scope | (imports.c.deployment_id == caller.deployment_id)
    elif caller.deployment_id is not None and caller.role == Role.admin_structure and caller.structure_ids:
        scope = scope | ((imports.c.deployment_id == caller.deployment_id)
                         & imports.c.structure_id.in_(caller.structure_ids))
    async with deps.sessions() as session:
        jobs = (await session.execute(query.where(scope))).all()
    return ImportsReply(imports=[import_view(job) for job in jobs])


async def list_rows(request: ListImportRowsV1, ctx: RpcContext, deps: Deps) -> ImportRowsReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        job = await visible_import(session, caller, request.import_id)
        where = [import_rows.c.import_id == job.id]
        if request.status is not None:
            where.append(import_rows.c.status == request.status.value)
        total = await session.scalar(select(func.count()).select_from(import_rows).where(*where))
        rows = (await session.execute(select(import_rows).where(*where).order_by(import_rows.c.row)
                                      .offset(request.offset).limit(request.limit))).all()
    return ImportRowsReply(rows=[row_view(list(job.header), row) for row in rows], total=total)
