"""Territories: created by the national administrator with their first manager, listed with their counts."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.directory import (
    CreateDeploymentV1,
    CreateOrientationSystemV1,
    DeploymentReply,
    DeploymentsReply,
    DeploymentView,
    GetDeploymentV1,
    ListDeploymentsV1,
    ListOrientationSystemsV1,
    OrientationSystemCreatedV1,
    OrientationSystemReply,
    OrientationSystemsReply,
    OrientationType,
    PersonRole,
)
from contracts.profiles import DeploymentCreatedV1
from directory.adapters.orm import BeneficiarySeen, Deployment, OrientationSystem, Person, Structure
from directory.domain.habilitation import Caller, Operation, Scope
from directory.domain.validation import clean_department_code, required
from directory.handlers.caller import DEPLOYMENT_NOT_FOUND, caller_of, require, territory_of
from directory.handlers.deps import Deps
from directory.handlers.people import add_person, author_name
from directory.handlers.views import person_views, system_view
from servicekit.contact import search_key
from servicekit.errors import Conflict, NotFound

CODE_TAKEN = "Un territoire existe déjà pour ce département."
SYSTEM_TAKEN = "Un dispositif porte déjà ce nom sur ce territoire."
# v1's defaults, created with every territory; managers add their own.
DEFAULT_SYSTEMS = (("Professionnel", OrientationType.pro), ("Socio-professionnel", OrientationType.sociopro),
                   ("Social", OrientationType.social))


async def add_orientation_system(session: AsyncSession, deps: Deps, deployment_id: uuid.UUID, name: str,
                                 orientation_type: OrientationType) -> OrientationSystem:
    name = required(name, "name", "nom du dispositif")
    if await session.scalar(select(OrientationSystem.id).where(
            OrientationSystem.deployment_id == deployment_id, OrientationSystem.name_key == search_key(name))):
        raise Conflict(SYSTEM_TAKEN, details={"field": "name"})
    system = OrientationSystem(deployment_id=deployment_id, name=name, name_key=search_key(name),
                               orientation_type=orientation_type)
    session.add(system)
    await session.flush()
    await deps.outbox.add(session, OrientationSystemCreatedV1(
        orientation_system_id=system.id, deployment_id=deployment_id, name=name, orientation_type=orientation_type))
    return system


async def add_deployment(session: AsyncSession, deps: Deps, label: str, department_code: str,
                         deployment_id: uuid.UUID | None = None) -> Deployment:
    code = clean_department_code(department_code)
    if await session.scalar(select(Deployment.id).where(Deployment.department_code == code)):
        raise Conflict(CODE_TAKEN, details={"field": "department_code"})
    deployment = Deployment(id=deployment_id or uuid.uuid4(), label=required(label, "label", "nom du territoire"),
                            department_code=code, created_at=deps.clock())
    session.add(deployment)
    await session.flush()
    await deps.outbox.add(session, DeploymentCreatedV1(deployment_id=deployment.id, label=deployment.label,
                                                       department_code=code))
    for name, kind in DEFAULT_SYSTEMS:
        await add_orientation_system(session, deps, deployment.id, name, kind)
    return deployment


async def deployment_view(session: AsyncSession, caller: Caller, deployment: Deployment) -> DeploymentView:
    def count(query):
        return session.scalar(select(func.count()).select_from(query.subquery()))

    managers = (await session.execute(select(Person).where(
        Person.deployment_id == deployment.id, Person.role == PersonRole.manager, Person.deactivated_at.is_(None))
        .order_by(Person.lastname))).scalars().all()
    systems = (await session.execute(select(OrientationSystem).where(
        OrientationSystem.deployment_id == deployment.id).order_by(OrientationSystem.name))).scalars().all()
    return DeploymentView(
        deployment_id=deployment.id, label=deployment.label, department_code=deployment.department_code,
        structures=await count(select(Structure.id).where(Structure.deployment_id == deployment.id,
                                                          Structure.deactivated_at.is_(None))),
        professionals=await count(select(Person.id).where(Person.deployment_id == deployment.id,
                                                          Person.role == PersonRole.professional,
                                                          Person.deactivated_at.is_(None))),
        beneficiaries=await count(select(BeneficiarySeen.profile_id).where(
            BeneficiarySeen.deployment_id == deployment.id, BeneficiarySeen.active.is_(True))),
        managers=await person_views(session, caller, list(managers)),
        orientation_systems=[system_view(s) for s in systems],
    )


async def create_deployment(request: CreateDeploymentV1, ctx, deps: Deps) -> DeploymentReply:
    caller = await caller_of(ctx, deps)
    require(caller, Operation.create_deployment, Scope())
    async with deps.sessions() as session, session.begin():
        deployment = await add_deployment(session, deps, request.label, request.department_code)
        await add_person(session, deps, deployment.id, PersonRole.manager, request.manager, [], [],
                         await author_name(session, caller))
        return DeploymentReply(**(await deployment_view(session, caller, deployment)).model_dump())


async def list_deployments(_request: ListDeploymentsV1, ctx, deps: Deps) -> DeploymentsReply:
    caller = await caller_of(ctx, deps)
    require(caller, Operation.list_deployments, Scope())
    async with deps.sessions() as session:
        deployments = (await session.execute(select(Deployment).order_by(Deployment.department_code))).scalars()
        return DeploymentsReply(deployments=[await deployment_view(session, caller, d) for d in deployments])


async def get_deployment(request: GetDeploymentV1, ctx, deps: Deps) -> DeploymentReply:
    caller = await caller_of(ctx, deps)
    deployment_id = territory_of(caller, request.deployment_id)
    require(caller, Operation.view_deployment, Scope(deployment_id))
    async with deps.sessions() as session:
        deployment = await session.get(Deployment, deployment_id)
        if deployment is None:
            raise NotFound(DEPLOYMENT_NOT_FOUND)
        return DeploymentReply(**(await deployment_view(session, caller, deployment)).model_dump())


async def create_orientation_system(request: CreateOrientationSystemV1, ctx, deps: Deps) -> OrientationSystemReply:
    caller = await caller_of(ctx, deps)
    deployment_id = territory_of(caller, request.deployment_id)
    require(caller, Operation.create_orientation_system, Scope(deployment_id))
    async with deps.sessions() as session, session.begin():
        system = await add_orientation_system(session, deps, deployment_id, request.name, request.orientation_type)
        return OrientationSystemReply(**system_view(system).model_dump())


async def list_orientation_systems(request: ListOrientationSystemsV1, ctx, deps: Deps) -> OrientationSystemsReply:
    caller = await caller_of(ctx, deps)
    deployment_id = territory_of(caller, request.deployment_id)
    require(caller, Operation.view_deployment, Scope(deployment_id))
    async with deps.sessions() as session:
        systems = (await session.execute(select(OrientationSystem).where(
            OrientationSystem.deployment_id == deployment_id).order_by(OrientationSystem.name))).scalars()
        return OrientationSystemsReply(orientation_systems=[system_view(s) for s in systems])
