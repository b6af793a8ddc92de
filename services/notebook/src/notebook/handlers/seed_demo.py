"""The demo beneficiaries of ``make run`` (dev mode only): idempotent, fixed ids. The named demo people go through the
same use case as a manager's creation; the lived-in population beside them (a few hundred made up at every stage,
``domain.demo_population``) is written table by table in one INSERT of many rows each, in one transaction: seconds,
not hundreds of round trips."""
from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import AcceptedReply
from contracts.notebook import DemoPopulation, NotebookCreatedV1, SeedDemoNotebooksV1
from contracts.profiles import BeneficiaryCreatedV1
from notebook.adapters import orm
from notebook.adapters.orm import (
    NO_STRUCTURE,
    Notebook,
    OrientationSystemRead,
    Person,
    PilotageSnapshot,
    RefAction,
    RefSituation,
    RefTarget,
    RefTheme,
    RomeCode,
    StructureRead,
)
from notebook.domain import demo_population as demo
from notebook.handlers.beneficiaries import create_notebook
from notebook.handlers.deps import Deps
from notebook.handlers.imports import full_row
from servicekit.errors import Invalid, NotFound, Unavailable

DEV_ONLY = "Cette opération n'existe qu'en mode développement."
TEAM_MISSING = ("Les professionnels et dispositifs de la démo ne sont pas encore connus des carnets : "
                "relancez `carnet seed` dans un instant.")
NO_TEAM = "La démo a besoin de professionnels pour suivre ses bénéficiaires."
TEAM_WAIT_S = 30.0  # directory's events about the team may still be on their way after its own seed
# Parents before the rows that point to them.
TABLES = (orm.Beneficiary, orm.Notebook, orm.BeneficiaryStructure, orm.Member, orm.NotebookSituation,
          orm.ProfessionalProject, orm.Focus, orm.Target, orm.Action, orm.Bilan, orm.Appointment, orm.Contract,
          orm.ContractVersion, orm.OrientationRequest, orm.ExchangeMessage, orm.ExchangeRead, orm.ExternalData,
          orm.TimelineEvent)


async def seed_demo(request: SeedDemoNotebooksV1, _ctx, deps: Deps) -> AcceptedReply:
    if not deps.settings.dev_mode:
        raise NotFound(DEV_ONLY)
    async with deps.sessions.begin() as session:
        for named in request.beneficiaries:
            if await session.get(Notebook, named.notebook_id) is None:
                await create_notebook(session, deps, request.deployment_id, named.beneficiary, None,
                                      notebook_id=named.notebook_id, beneficiary_id=named.beneficiary_id)
    if request.population and request.population.size:
        if not request.population.referent_ids:
            raise Invalid(NO_TEAM, details={"field": "referent_ids"})
        await seed_population(deps, request.deployment_id, request.population)
    return AcceptedReply()


async def seed_population(deps: Deps, deployment_id: uuid.UUID, population: DemoPopulation) -> None:
    _, first_notebook = demo.first_ids(population.seed)
    async with deps.sessions() as session:
        if await session.get(Notebook, first_notebook) is not None:
            return  # seeded by an earlier run: the same people, nothing to add
    team = await wait_for_team(deps, deployment_id, population.referent_ids)
    async with deps.sessions.begin() as session:
        if await session.get(Notebook, first_notebook) is not None:
            return
        made = demo.make_population(seed=population.seed, size=population.size, months=population.months,
                                    now=deps.clock(), team=team, refs=await referentials(session),
                                    encrypt=deps.protection.encrypt, index=deps.protection.index,
                                    login_email=population.login_email)
        for model in TABLES:
            if rows := made.rows.get(model.__tablename__):
                await session.execute(insert(model.__table__), [full_row(model.__table__, row) for row in rows])
        await seed_snapshots(session, deps, deployment_id, made)
        await publish(session, deps, made)


async def seed_snapshots(session: AsyncSession, deps: Deps, deployment_id: uuid.UUID, made: demo.Made) -> None:
    """The dashboards' daily snapshots of the population's past months (the service takes today's): without them
    the « over time » chart of the demo would start today, flat. The days the service took already stay as taken."""
    taken = frozenset((await session.execute(select(PilotageSnapshot.day).where(
        PilotageSnapshot.deployment_id == deployment_id).distinct())).scalars())
    today = deps.clock().astimezone(demo.PARIS).date()
    if rows := demo.daily_snapshots(made, deployment_id, today, NO_STRUCTURE, taken):
        await session.execute(insert(PilotageSnapshot.__table__), rows)


async def wait_for_team(deps: Deps, deployment_id: uuid.UUID, referent_ids: list[uuid.UUID]) -> demo.Team:
    """The team as the read model knows it, once directory's events have brought every professional and the
    territory's orientation systems (they follow directory's seed by a few milliseconds, or seconds on a slow
    start)."""
    deadline = time.monotonic() + TEAM_WAIT_S
    while True:
        async with deps.sessions() as session:
            team = await team_of(session, deployment_id, referent_ids)
        if team is not None:
            return team
        if time.monotonic() > deadline:
            raise Unavailable(TEAM_MISSING)
        await asyncio.sleep(0.25)


async def team_of(session: AsyncSession, deployment_id: uuid.UUID, referent_ids: list[uuid.UUID]) -> demo.Team | None:
    people = {p.id: p for p in (await session.execute(select(Person).where(
        Person.deployment_id == deployment_id))).scalars()}
    systems = (await session.execute(select(OrientationSystemRead).where(
        OrientationSystemRead.deployment_id == deployment_id).order_by(OrientationSystemRead.name))).scalars().all()
    if not systems or not referent_ids or any(i not in people or not people[i].structure_ids for i in referent_ids):
        return None
    structures = dict((await session.execute(select(StructureRead.id, StructureRead.name).where(
        StructureRead.deployment_id == deployment_id))).all())

    def first_named(role: str) -> str:
        found = sorted((p for p in people.values() if p.role == role), key=lambda p: (p.lastname, p.firstname))
        return f"{found[0].firstname} {found[0].lastname}" if found else ""

    return demo.Team(
        deployment_id=deployment_id,
        referents=[demo.Referent(i, people[i].structure_id, f"{people[i].firstname} {people[i].lastname}")
                   for i in referent_ids],
        structure_names=structures, systems=[demo.System(s.id, s.name) for s in systems],
        manager_name=first_named("manager"), orientation_manager_name=first_named("orientation_manager"))


async def referentials(session: AsyncSession) -> demo.Referentials:
    def by_theme(rows) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for theme, description in rows:
            grouped.setdefault(theme, []).append(description)
        return grouped

    return demo.Referentials(
        theme_labels=dict((await session.execute(select(RefTheme.name, RefTheme.label))).all()),
        situations=list((await session.execute(select(RefSituation.id).order_by(RefSituation.id))).scalars()),
        targets=by_theme((await session.execute(select(RefTarget.theme, RefTarget.description)
                                                .order_by(RefTarget.theme, RefTarget.description))).all()),
        actions=by_theme((await session.execute(select(RefAction.theme, RefAction.description)
                                                .order_by(RefAction.theme, RefAction.description))).all()),
        # A few hundred jobs of the ROME, always the same ones.
        projects=list((await session.execute(select(RomeCode.label).order_by(RomeCode.id).limit(400))).scalars()))


async def publish(session: AsyncSession, deps: Deps, made: demo.Made) -> None:
    """What ``create_notebook`` publishes for each (identity and directory count the beneficiaries), in one
    statement; nothing else: the demo's history is a past that nobody is to be told about again."""
    events = []
    for beneficiary, notebook in zip(made.beneficiaries, made.notebooks, strict=True):
        events.append(BeneficiaryCreatedV1(
            profile_id=beneficiary["id"], deployment_id=beneficiary["deployment_id"],
            email=beneficiary["email"] or None, phone=beneficiary["mobile_number"] or None,
            firstname=beneficiary["firstname"], lastname=beneficiary["lastname"]))
        events.append(NotebookCreatedV1(notebook_id=notebook["id"], deployment_id=notebook["deployment_id"],
                                        beneficiary_id=beneficiary["id"]))
    await deps.outbox.add_all(session, events)
