"""The demo territory of ``make run`` (dev mode only): idempotent, fixed ids, through the same use cases."""
from __future__ import annotations

from sqlalchemy import select

from contracts.directory import SeedDemoTerritoryV1
from contracts.identity import AcceptedReply
from directory.adapters.orm import Deployment, OrientationSystem, Person, Structure
from directory.handlers.deployments import add_deployment
from directory.handlers.deps import Deps
from directory.handlers.people import add_person
from directory.handlers.structures import add_structure
from servicekit.errors import NotFound

DEV_ONLY = "Cette opération n'existe qu'en mode développement."


async def seed_demo_territory(request: SeedDemoTerritoryV1, _ctx, deps: Deps) -> AcceptedReply:
    if not deps.settings.dev_mode:
        raise NotFound(DEV_ONLY)
    async with deps.sessions() as session, session.begin():
        if await session.get(Deployment, request.deployment_id) is None:
            await add_deployment(session, deps, request.label, request.department_code, request.deployment_id)
        systems = (await session.execute(select(OrientationSystem.id).where(
            OrientationSystem.deployment_id == request.deployment_id))).scalars().all()
        for demo in request.structures:
            if await session.get(Structure, demo.structure_id) is None:
                fields = demo.structure.model_copy(update={"orientation_system_ids": list(systems)})
                await add_structure(session, deps, request.deployment_id, fields, demo.structure_id)
        for demo in request.people:
            if await session.get(Person, demo.person_id) is None:
                await add_person(session, deps, request.deployment_id, demo.role, demo.person, demo.structure_ids,
                                 list(systems) if demo.role == "professional" else [], "", demo.person_id)
    return AcceptedReply()
