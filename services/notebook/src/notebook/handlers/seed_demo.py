"""The demo beneficiaries of ``make run`` (dev mode only): idempotent, fixed ids, through the same use case."""
from __future__ import annotations

from contracts.identity import AcceptedReply
from contracts.notebook import SeedDemoNotebooksV1
from notebook.adapters.orm import Notebook
from notebook.handlers.beneficiaries import create_notebook
from notebook.handlers.deps import Deps
from servicekit.errors import NotFound

DEV_ONLY = "Cette opération n'existe qu'en mode développement."


async def seed_demo(request: SeedDemoNotebooksV1, _ctx, deps: Deps) -> AcceptedReply:
    if not deps.settings.dev_mode:
        raise NotFound(DEV_ONLY)
    async with deps.sessions.begin() as session:
        for demo in request.beneficiaries:
            if await session.get(Notebook, demo.notebook_id) is None:
                await create_notebook(session, deps, request.deployment_id, demo.beneficiary, None,
                                      notebook_id=demo.notebook_id, beneficiary_id=demo.beneficiary_id)
    return AcceptedReply()
