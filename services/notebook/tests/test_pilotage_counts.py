"""The dashboards' counts (issue 18 item 5), on SQLite and PostgreSQL: after rounds of random changes of the read
model's rows — some transactions side by side, touching the same rows — and after concurrent refreshes of the same
notebooks by the consumer, the counts-based dashboard equals the figures computed straight from the facts rows
(each drill-down's list count, the delays, the actions, the arrivals), for periods whose edges fall mid-month, and
the counters equal those counted again from the rows."""
from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from contracts import notebook as c
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1
from contracts.identity import Role
from contracts.pilotage import GetPilotageDashboardV1, NotebookChangedV1, PilotageScope
from contracts.profiles import DeploymentCreatedV1, ManagerCreatedV1, ProfessionalCreatedV1
from notebook.adapters import pilotage_counts as counts
from notebook.adapters import pilotage_query as q
from notebook.adapters.orm import PilotageAction, PilotageNotebook, RefTheme
from notebook.domain import pilotage_figures as rules
from notebook.domain.pilotage_figures import add_months, days_from
from testkit.clock import paris_today
from testkit.handlers import InMemoryService

pytestmark = pytest.mark.integration

ORIGINS = ["manual", "import", "cafmsa", "france_travail", "partner"]
CER_STATES = ["none", "draft", "submitted", "validated", "signed", "ended"]
ACTION_STATUSES = list(rules.ACTION_STATUS_LABELS)


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


@dataclass
class Place:
    deployment_id: uuid.UUID
    structures: list[uuid.UUID]
    referents: dict[uuid.UUID, uuid.UUID]  # référent → her structure
    manager: str
    admin: str
    manager_id: uuid.UUID
    themes: list[str]


async def place(notebook: InMemoryService, token_mint) -> Place:
    deployment, manager_id = uuid.uuid4(), uuid.uuid4()
    structures = [uuid.uuid4() for _ in range(3)]
    await notebook.deliver(DeploymentCreatedV1(deployment_id=deployment, label="Drôme", department_code="26"))
    for index, structure in enumerate(structures):
        await notebook.deliver(StructureCreatedV1(structure_id=structure, deployment_id=deployment,
                                                  name=f"Structure {index}", city="Valence"))
    referents = {uuid.uuid4(): structures[i % 3] for i in range(5)}
    for index, (person, structure) in enumerate(referents.items()):
        await notebook.deliver(ProfessionalCreatedV1(
            profile_id=person, deployment_id=deployment, firstname="Pro", lastname=f"Numéro{index}",
            email=f"pro{index}-{uuid.uuid4().hex[:6]}@cd26.fr", structure_ids=[structure]))
    async with notebook.sessions() as session:
        themes = list((await session.execute(select(RefTheme.name).order_by(RefTheme.name).limit(4))).scalars())
    return Place(deployment, structures, referents,
                 token_mint.token(Role.manager, deployment_id=deployment, profile_id=manager_id),
                 token_mint.token(Role.admin_cdb), manager_id, themes)


def moment(day, rng: random.Random) -> datetime:
    # Hours around Paris midnight too (22:00–23:59 UTC is the next Paris day): days and months are Paris ones.
    return datetime.combine(day, time(rng.choice([0, 1, 9, 12, 21, 22, 23]), rng.randint(0, 59)), UTC)


def random_fact(rng: random.Random, here: Place) -> dict:
    today = paris_today()
    structure = rng.choice([*here.structures, None])
    mine = [r for r, s in here.referents.items() if s == structure]
    referent = rng.choice([*mine, None]) if mine and rng.random() < 0.7 else None
    created = moment(today - timedelta(days=rng.randint(-1, 420)), rng)
    oriented = created + timedelta(days=rng.randint(-2, 200), hours=rng.randint(0, 23)) if rng.random() < 0.7 \
        else None
    cer_state = rng.choice(CER_STATES)
    first_cer = created + timedelta(days=rng.randint(0, 250)) if cer_state != "none" and rng.random() < 0.8 else None
    return dict(
        structure_id=structure, referent_id=referent,
        support="accompanied" if referent else ("waiting" if structure else "not_accompanied"),
        subject_to_right_and_duty=rng.random() < 0.6, cer_state=cer_state,
        cer_end_date=today + timedelta(days=rng.randint(-5, 40)) if cer_state != "none" and rng.random() < 0.9
        else None,
        created_at=created, first_oriented_at=oriented, first_cer_at=first_cer,
        orientation_days=days_from(created, oriented), cer_days=days_from(created, first_cer),
        origin=rng.choice(ORIGINS),
        pending_reorientation_since=moment(today - timedelta(days=rng.randint(0, 120)), rng)
        if rng.random() < 0.3 else None)


def random_action(rng: random.Random, here: Place, row: PilotageNotebook) -> PilotageAction:
    return PilotageAction(id=uuid.uuid4(), notebook_id=row.notebook_id, deployment_id=row.deployment_id,
                          structure_id=row.structure_id, theme=rng.choice(here.themes),
                          status=rng.choice(ACTION_STATUSES),
                          created_at=moment(paris_today() - timedelta(days=rng.randint(0, 420)), rng))


async def add_notebooks(notebook: InMemoryService, here: Place, rng: random.Random, n: int) -> None:
    async with notebook.sessions.begin() as session:
        for index in range(n):
            row = PilotageNotebook(notebook_id=uuid.uuid4(), deployment_id=here.deployment_id,
                                   lastname=f"Nom{rng.randint(0, 10**6)}", firstname="Prénom",
                                   refreshed_at=datetime.now(UTC), **random_fact(rng, here))
            session.add(row)
            for _ in range(rng.randint(0, 3)):
                session.add(random_action(rng, here, row))


async def change_some(notebook: InMemoryService, here: Place, rng: random.Random) -> None:
    """One transaction: some rows locked (as the consumer locks them), partly changed, some deleted, some added;
    their actions too. Retried when PostgreSQL undoes it (a deadlock): the whole transaction, counts included."""
    for attempt in range(5):
        try:
            async with notebook.sessions.begin() as session:
                ids = list((await session.execute(select(PilotageNotebook.notebook_id).where(
                    PilotageNotebook.deployment_id == here.deployment_id))).scalars())
                chosen = sorted(rng.sample(ids, min(len(ids), 6)), key=str)
                rows = list((await session.execute(select(PilotageNotebook).where(
                    PilotageNotebook.notebook_id.in_(chosen)).order_by(PilotageNotebook.notebook_id)
                    .with_for_update())).scalars())
                actions = list((await session.execute(select(PilotageAction).where(
                    PilotageAction.notebook_id.in_(chosen)).order_by(PilotageAction.id).with_for_update())).scalars())
                for row in rows:
                    mine = [a for a in actions if a.notebook_id == row.notebook_id]
                    if rng.random() < 0.15:
                        for action in mine:
                            await session.delete(action)
                        await session.delete(row)
                        continue
                    fact = random_fact(rng, here)
                    # A few facts at a time, as a change of a notebook moves a few of its facts.
                    for key in rng.sample(sorted(fact), rng.randint(1, 5)):
                        setattr(row, key, fact[key])
                    if "created_at" in fact or "first_oriented_at" in fact:
                        row.orientation_days = days_from(row.created_at, row.first_oriented_at)
                        row.cer_days = days_from(row.created_at, row.first_cer_at)
                    for action in mine:
                        action.structure_id = row.structure_id
                        if rng.random() < 0.3:
                            action.status = rng.choice(ACTION_STATUSES)
                        elif rng.random() < 0.2:
                            await session.delete(action)
                    if rng.random() < 0.3:
                        session.add(random_action(rng, here, row))
            await add_notebooks(notebook, here, rng, rng.randint(0, 2))
            return
        except DBAPIError as error:
            if "deadlock" not in str(error).lower() or attempt == 4:
                raise


# --- The figures straight from the rows --------------------------------------------------------------------------

async def rows_of(notebook: InMemoryService, here: Place) -> tuple[list, list]:
    async with notebook.sessions() as session:
        facts = list((await session.execute(select(PilotageNotebook).where(
            PilotageNotebook.deployment_id == here.deployment_id))).scalars())
        actions = list((await session.execute(select(PilotageAction).where(
            PilotageAction.deployment_id == here.deployment_id))).scalars())
    return facts, actions


def figure(dashboard, key):
    return next(f for f in dashboard.figures if f.key == key)


async def assert_figures_are_the_rows(notebook, here: Place, dashboard, facts, actions, start, end,
                                      structure_id=None) -> int:
    """Every point with a list behind it is that list's count (q.count, on the rows); the delays, actions and
    arrivals are computed here from the rows. Returns how many values were compared."""
    scope = q.PilotageScope(deployment_id=here.deployment_id)  # a structure's points name it in their filters
    compared = 0
    async with notebook.sessions() as session:
        for f in dashboard.figures:
            for series in f.series:
                for point in series.points:
                    if point.drill_note:  # a past month: the notebooks created then, not its number's list
                        continue
                    if point.drill is not None and point.drill_list == "actions":
                        listed = await session.scalar(select(func.count()).select_from(PilotageAction).where(
                            *q.action_conditions(point.drill, scope)))
                        assert listed == point.value, (f.key, series.name, point.label)
                        compared += 1
                    elif point.drill is not None and point.drill_deployment_id in (None, here.deployment_id):
                        assert await q.count(session, point.drill, scope) == point.value, (
                            f.key, series.name, point.label)
                        compared += 1
    if dashboard.scope == PilotageScope.national:
        return compared
    facts = [r for r in facts if structure_id is None or r.structure_id == structure_id]
    actions = [a for a in actions if structure_id is None or a.structure_id == structure_id]
    cohort = [r for r in facts if start <= counts.paris_day(r.created_at) <= end]
    for key, column in (("delai-orientation", "orientation_days"), ("delai-cer", "cer_days")):
        days = Counter(getattr(r, column) for r in cohort if getattr(r, column) is not None)
        delay = figure(dashboard, key)
        assert [p.value for p in delay.series[0].points] == rules.bucket_counts(days, rules.DELAY_BUCKETS), key
        assert delay.summary == rules.days_sentence("Médiane", rules.median_of_counts(days)), key
        waiting = sum(1 for r in cohort if getattr(r, column) is None)
        assert f"{rules.french_number(waiting)} sans" in delay.note, key
        compared += 7
    arrivals = figure(dashboard, "arrivees")
    assert sum(p.value for s in arrivals.series for p in s.points) == len(cohort)
    by_origin = Counter(r.origin for r in cohort)
    assert {s.name: sum(p.value for p in s.points) for s in arrivals.series} == {
        rules.ORIGIN_LABELS[o]: n for o, n in by_origin.items()}
    async with notebook.sessions() as session:
        labels = dict((await session.execute(select(RefTheme.name, RefTheme.label))).all())
    expected = Counter((rules.ACTION_STATUS_LABELS[a.status], labels.get(a.theme, a.theme)) for a in actions
                       if start <= counts.paris_day(a.created_at) <= end)
    shown = {(s.name, p.label): p.value for s in figure(dashboard, "actions").series for p in s.points if p.value}
    assert shown == dict(expected)
    return compared + 2 + len(expected)


async def assert_counters_are_the_rows(notebook: InMemoryService, here: Place) -> None:
    """The counters kept change after change equal those counted from the rows as they are."""
    facts, actions = await rows_of(notebook, here)
    expected: Counter = Counter()
    for row in facts:
        counts.add(expected, counts.fact_keys({c: getattr(row, c) for c in counts.FACT_COLUMNS}), 1)
    for action in actions:
        counts.add(expected, counts.action_keys({c: getattr(action, c) for c in counts.ACTION_COLUMNS}), 1)
    kept: Counter = Counter()
    async with notebook.sessions() as session:
        for table in counts.TABLES:
            columns = counts.KEYS[table]
            for row in (await session.execute(select(table).where(
                    table.deployment_id == here.deployment_id))).scalars():
                kept[(table, tuple(getattr(row, c) for c in columns))] = row.n
    assert kept == +expected  # no counter left at 0 either


def periods() -> list[tuple]:
    today = paris_today()
    return [(None, None), (today - timedelta(days=400), today - timedelta(days=17)),
            (add_months(today, -60), None), (today - timedelta(days=10), today - timedelta(days=3))]


async def assert_dashboards_are_the_rows(notebook: InMemoryService, here: Place) -> int:
    facts, actions = await rows_of(notebook, here)
    compared = 0
    for period_from, period_to in periods():
        request = dict(period_from=period_from, period_to=period_to)
        territory = await notebook.call(GetPilotageDashboardV1(**request), here.manager)
        compared += await assert_figures_are_the_rows(notebook, here, territory, facts, actions,
                                                      territory.period_from, territory.period_to)
        structure = await notebook.call(GetPilotageDashboardV1(
            scope=PilotageScope.structure, structure_id=here.structures[0], **request), here.manager)
        compared += await assert_figures_are_the_rows(notebook, here, structure, facts, actions,
                                                      structure.period_from, structure.period_to,
                                                      structure_id=here.structures[0])
    national = await notebook.call(GetPilotageDashboardV1(scope=PilotageScope.national), here.admin)
    compared += await assert_figures_are_the_rows(notebook, here, national, facts, actions, national.period_from,
                                                  national.period_to)
    return compared


async def test_the_counts_follow_random_and_concurrent_changes_of_the_rows(notebook, token_mint):
    here = await place(notebook, token_mint)
    rng = random.Random(19)
    await add_notebooks(notebook, here, rng, 40)
    await assert_counters_are_the_rows(notebook, here)
    assert await assert_dashboards_are_the_rows(notebook, here) > 200

    for _ in range(3):
        # Four transactions side by side (on PostgreSQL they lock the rows they change; SQLite's run in turn).
        await asyncio.gather(*(change_some(notebook, here, random.Random(rng.random())) for _ in range(4)))
        await assert_counters_are_the_rows(notebook, here)
    assert await assert_dashboards_are_the_rows(notebook, here) > 200


async def test_concurrent_refreshes_of_the_same_notebooks_count_each_once(notebook, token_mint):
    """The consumer's path: real notebooks, changed, their events delivered several times at once (a redelivery,
    two replicas): each refresh locks the row it recomputes, so none subtracts an old row another replaced."""
    here = await place(notebook, token_mint)
    system = uuid.uuid4()
    await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=system, deployment_id=here.deployment_id,
                                                      name="Professionnel", orientation_type=OrientationType.pro))
    await notebook.deliver(ManagerCreatedV1(profile_id=here.manager_id, deployment_id=here.deployment_id,
                                            firstname="Marie", lastname="Gérante",
                                            email=f"g-{uuid.uuid4().hex[:6]}@cd26.fr"))
    [(pro_id, structure)] = list(here.referents.items())[:1]
    await notebook.deliver(ProfessionalCreatedV1(
        profile_id=pro_id, deployment_id=here.deployment_id, firstname="Pro", lastname="Numéro0",
        email=f"pro-{uuid.uuid4().hex[:6]}@cd26.fr", structure_ids=[structure], orientation_system_ids=[system]))
    pro = token_mint.token(Role.professional, deployment_id=here.deployment_id, profile_id=pro_id,
                           structure_ids=[structure])
    delivered: set = set()

    async def settle(times: int) -> None:
        events = [e for e in await notebook.events(NotebookChangedV1.subject) if e.event_id not in delivered]
        delivered.update(e.event_id for e in events)
        await asyncio.gather(*(notebook.deliver(e) for e in events for _ in range(times)))

    created = [await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Prénom", lastname=f"Nom{index}", date_of_birth=date(1990, 4, 12))), here.manager)
        for index in range(4)]
    await settle(1)  # their rows first: two first inserts of one row would fail one of them (redelivered)
    await assert_counters_are_the_rows(notebook, here)
    for index, beneficiary in enumerate(created[:3]):
        await notebook.call(c.JoinNotebookV1(notebook_id=beneficiary.notebook_id, as_referent=True,
                                             orientation_system_id=system), pro)
        if index == 0:
            focus = await notebook.call(c.AddFocusV1(notebook_id=beneficiary.notebook_id, theme="emploi"), pro)
    await settle(4)
    facts, _ = await rows_of(notebook, here)
    assert Counter(r.support for r in facts) == {"accompanied": 3, "not_accompanied": 1}
    await assert_counters_are_the_rows(notebook, here)
    dashboard = await notebook.call(GetPilotageDashboardV1(), here.manager)
    assert sum(p.value for p in figure(dashboard, "charge-structures").series[0].points) == 3
    assert await assert_figures_are_the_rows(notebook, here, dashboard, *await rows_of(notebook, here),
                                             dashboard.period_from, dashboard.period_to) > 20

    # Actions added, then one changed and one deleted: the consumer's rows and the counts they move (written by it
    # with Core statements, a batch at a time) agree, each event delivered several times at once.
    target = await notebook.call(c.AddTargetV1(focus_id=focus.id, target="Trouver un emploi"), pro)
    kept = await notebook.call(c.AddActionV1(target_id=target.id, action="Atelier CV"), pro)
    dropped = await notebook.call(c.AddActionV1(target_id=target.id, action="Salon de l'emploi"), pro)
    await settle(1)
    await settle(3)  # nothing changed: the same rows, the same counts
    assert sorted(a.id for a in (await rows_of(notebook, here))[1]) == sorted([kept.id, dropped.id])
    await assert_counters_are_the_rows(notebook, here)
    await notebook.call(c.UpdateActionV1(action_id=kept.id, version=kept.version, status=c.ActionStatus.done), pro)
    await notebook.call(c.DeleteParcoursItemV1(kind="action", item_id=dropped.id), pro)
    await settle(3)
    assert [(a.id, a.status) for a in (await rows_of(notebook, here))[1]] == [(kept.id, "done")]
    await assert_counters_are_the_rows(notebook, here)
