"""The actions' list of pilotage (issue 18): what the dashboards' « actions par thème et statut » counts, action by
action, so that each cell of that figure drills down to its own list (and its export). Read from the pilotage read
model (``pilotage_action``, names from ``pilotage_notebook`` and the directory's read models), in the scope the
beneficiaries' list has for the caller."""
from __future__ import annotations

from sqlalchemy import func, select

from contracts.pilotage import ActionFact, ActionFactsReply, QueryActionsV1
from notebook.adapters import pilotage_query
from notebook.adapters.orm import PilotageAction, PilotageNotebook, RefTheme, StructureRead
from notebook.handlers.caller import caller_of
from notebook.handlers.deps import Deps


async def query_actions(request: QueryActionsV1, ctx, deps: Deps) -> ActionFactsReply:
    caller = await caller_of(ctx, deps)
    scope = pilotage_query.scope_of(caller, request.deployment_id)
    where = pilotage_query.action_conditions(request.filters, scope)
    a, p = PilotageAction, PilotageNotebook
    async with deps.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(a).where(*where)) or 0
        rows = (await session.execute(
            select(a, p.lastname, p.firstname, StructureRead.name, RefTheme.label)
            .outerjoin(p, p.notebook_id == a.notebook_id)
            .outerjoin(StructureRead, StructureRead.id == a.structure_id)
            .outerjoin(RefTheme, RefTheme.name == a.theme)
            .where(*where).order_by(a.created_at.desc(), a.id).offset(request.offset).limit(request.limit))).all()
    return ActionFactsReply(total=total, rows=[
        ActionFact(action_id=action.id, notebook_id=action.notebook_id, lastname=lastname or "",
                   firstname=firstname or "", structure_name=structure or "", theme=action.theme,
                   theme_label=label or action.theme, status=action.status, created_at=action.created_at)
        for action, lastname, firstname, structure, label in rows])
