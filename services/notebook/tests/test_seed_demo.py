"""The lived-in demo territory through notebook's broker in memory, on SQLite and PostgreSQL: the named demo people
and, beside them, a population at every stage (waiting, followed with a plan, CER in every state, reorientation
requests, threads, flux imports) that the pages, lists and dashboards read as they read what users made; seeding
again adds nothing; the same seed makes the same people."""
from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from contracts import notebook as c
from contracts.base import ErrorCode
from contracts.bilans import GetBilanV1
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1
from contracts.identity import Role
from contracts.pilotage import GetPilotageDashboardV1, NotebookChangedV1
from contracts.profiles import BeneficiaryCreatedV1, ManagerCreatedV1, ProfessionalCreatedV1
from notebook.adapters import orm
from notebook.domain import demo_population as demo
from testkit.clock import paris_today
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration

SIZE = 150  # the demo seeds 300 with `make run`; fewer here keep the test quick on both backends


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


async def team(notebook: InMemoryService) -> tuple[uuid.UUID, list[uuid.UUID], uuid.UUID]:
    """A territory as directory announces it: two structures, three systems, a manager, four professionals."""
    deployment_id, structures = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    for name, kind in (("Professionnel", OrientationType.pro), ("Social", OrientationType.social),
                       ("Socio-professionnel", OrientationType.sociopro)):
        await notebook.deliver(OrientationSystemCreatedV1(
            orientation_system_id=uuid.uuid4(), deployment_id=deployment_id, name=name, orientation_type=kind))
    for structure_id, name in zip(structures, ("CCAS de Livry-Gargan", "Groupe NS"), strict=True):
        await notebook.deliver(StructureCreatedV1(structure_id=structure_id, deployment_id=deployment_id, name=name))
    manager_id = uuid.uuid4()
    await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=deployment_id, firstname="Agathe",
                                            lastname="Deblouze", email=f"{manager_id}@test.carnet.fr"))
    pros = [uuid.uuid4() for _ in range(4)]
    for n, profile_id in enumerate(pros):
        await notebook.deliver(ProfessionalCreatedV1(
            profile_id=profile_id, deployment_id=deployment_id, firstname=f"Pro{n}", lastname="Démo",
            email=f"{profile_id}@test.carnet.fr", structure_ids=[structures[n % 2]]))
    return deployment_id, pros, manager_id


def seed_request(deployment_id: uuid.UUID, pros: list[uuid.UUID], seed: int) -> c.SeedDemoNotebooksV1:
    named = c.DemoBeneficiary(notebook_id=uuid.uuid4(), beneficiary_id=uuid.uuid4(), beneficiary=c.BeneficiaryFields(
        firstname="Sophie", lastname="Tifour", date_of_birth=datetime(1981, 1, 11).date()))
    return c.SeedDemoNotebooksV1(deployment_id=deployment_id, beneficiaries=[named], population=c.DemoPopulation(
        size=SIZE, seed=seed, referent_ids=pros))


async def test_the_population_is_at_every_stage_and_read_as_what_users_made(notebook, token_mint):
    deployment_id, pros, manager_id = await team(notebook)
    seed = int(deployment_id) % 100_000  # one population per test run: ids derive from the seed
    manager = token_mint.token(Role.manager, deployment_id=deployment_id, profile_id=manager_id)

    request = seed_request(deployment_id, pros, seed)
    started = time.monotonic()
    await notebook.call(request)
    assert time.monotonic() - started < 10

    everyone = await notebook.call(c.SearchNotebooksV1(limit=100), manager)
    assert everyone.total == SIZE + 1
    by_support = {}
    for support in (c.SupportStatus.accompanied, c.SupportStatus.waiting, c.SupportStatus.not_accompanied,
                    c.SupportStatus.reorientation):
        by_support[support] = (await notebook.call(c.SearchNotebooksV1(support=support), manager)).total
    assert all(by_support.values()), by_support  # every stage has someone
    assert by_support[c.SupportStatus.accompanied] > SIZE / 2
    assert (await notebook.call(c.SearchNotebooksV1(subject_to_right_and_duty=True), manager)).total > 10

    today = paris_today()
    async with notebook.sessions() as session:
        notebook_ids = [n for n in (await session.execute(select(orm.Notebook.id).where(
            orm.Notebook.deployment_id == deployment_id))).scalars()]
        contracts = (await session.execute(select(orm.Contract).where(
            orm.Contract.notebook_id.in_(notebook_ids)))).scalars().all()
        created = sorted((await session.execute(select(orm.Notebook.created_at).where(
            orm.Notebook.deployment_id == deployment_id))).scalars())
        sources = Counter((await session.execute(select(orm.TimelineEvent.source).where(
            orm.TimelineEvent.notebook_id.in_(notebook_ids), orm.TimelineEvent.kind == "notebook"))).scalars())
        appointments = (await session.execute(select(orm.Appointment.at).where(
            orm.Appointment.notebook_id.in_(notebook_ids)))).scalars().all()
        flux = await session.scalar(select(func.count()).select_from(orm.ExternalData).join(
            orm.Beneficiary, orm.Beneficiary.id == orm.ExternalData.beneficiary_id).where(
            orm.Beneficiary.deployment_id == deployment_id))
        bilans = await session.scalar(select(func.count()).select_from(orm.Bilan).where(
            orm.Bilan.notebook_id.in_(notebook_ids)))
        rights = {r for r in (await session.execute(select(orm.Beneficiary.right_rsa).where(
            orm.Beneficiary.deployment_id == deployment_id))).scalars()}
    statuses = Counter(contract.status for contract in contracts)
    assert {"draft", "submitted", "signed"} <= set(statuses), statuses
    signed = [x for x in contracts if x.status == "signed"]
    assert any(x.end_date <= today + timedelta(days=30) for x in signed)  # ending soon
    assert any(x.end_date > today + timedelta(days=30) for x in signed)  # running
    # History over months: the oldest a year ago or more, none in the future; appointments past and to come.
    # (Read back aware, in UTC, on both databases: servicekit.db.UtcDateTime.)
    assert created[0] < datetime.now(UTC) - timedelta(days=300)
    assert any(a > datetime.now(UTC) for a in appointments)
    assert any(a < datetime.now(UTC) for a in appointments)
    assert {"person", "import", "france_travail"} <= set(sources) and flux > 0
    assert len(rights) >= 4 and bilans > 0

    # Every notebook's page reads (a manager sees each whole), plans and contracts included.
    for notebook_id in notebook_ids[:40]:
        page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), manager)
        assert page.access == c.Access.full
    followed = [r for r in everyone.notebooks if r.referent_name]
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=followed[0].notebook_id), manager)
    assert page.diagnostic is not None and page.focuses and page.timeline[-1].summary == "Carnet créé"
    async with notebook.sessions() as session:
        with_bilan = await session.scalar(select(orm.Bilan.notebook_id).where(orm.Bilan.notebook_id.in_(notebook_ids)))
    [bilan] = (await notebook.call(c.GetNotebookPageV1(notebook_id=with_bilan), manager)).bilans
    assert (await notebook.call(GetBilanV1(bilan_id=bilan.bilan_id), manager)).objectives

    # Identity and directory hear of each beneficiary, as for a creation by a manager.
    assert len(await notebook.events(BeneficiaryCreatedV1.subject)) == SIZE + 1
    assert len(await notebook.events(c.NotebookCreatedV1.subject)) == SIZE + 1
    # Pilotage's read model hears of every notebook written in bulk (its session listener reads the INSERTs).
    changed = {e.notebook_id for e in await notebook.events(NotebookChangedV1.subject)}
    assert set(notebook_ids) <= changed

    await notebook.call(request)  # again: nothing added
    assert (await notebook.call(c.SearchNotebooksV1(), manager)).total == SIZE + 1
    assert len(await notebook.events(c.NotebookCreatedV1.subject)) == SIZE + 1


async def test_the_population_comes_with_daily_snapshots_so_the_dashboard_has_a_past(notebook, token_mint):
    """Issue 20 item 4: the « over time » chart of the demo is not flat: a snapshot for every past day since the
    first notebook, each counting the notebooks as they stood that day (created by then; followed by a référent,
    waiting with a structure, or neither), never today's (the service takes it), and the same on every seed."""
    deployment_id, pros, manager_id = await team(notebook)
    request = seed_request(deployment_id, pros, int(deployment_id) % 100_000)
    await notebook.call(request)
    today = paris_today()
    async with notebook.sessions() as session:
        snapshots = (await session.execute(select(orm.PilotageSnapshot).where(
            orm.PilotageSnapshot.deployment_id == deployment_id))).scalars().all()
        created = (await session.execute(select(orm.Notebook.created_at).where(
            orm.Notebook.deployment_id == deployment_id))).scalars().all()
    days = {s.day for s in snapshots}
    assert max(days) == today - timedelta(days=1) and len(days) == (max(days) - min(days)).days + 1  # daily
    assert (today - min(days)).days > 300  # over months
    per_day = Counter()
    supports_per_day: dict = {}
    for s in snapshots:
        per_day[s.day] += s.count
        supports_per_day.setdefault(s.day, Counter())[s.support] += s.count
    # Yesterday: the whole population made before today (the named ones are made today, and so is one drawn on the
    # weekend when seeded on a Monday morning: office hours move it to that morning).
    before_today = [at for at in created if at.astimezone(demo.PARIS).date() < today]
    assert per_day[max(days)] == len(before_today) > SIZE - 5
    assert per_day[min(days)] < per_day[min(days) + timedelta(days=200)] < SIZE  # it grew
    assert supports_per_day[max(days)]["accompanied"] > SIZE / 2
    assert len({supports_per_day[d]["accompanied"] for d in days}) > 10  # not flat

    manager = token_mint.token(Role.manager, deployment_id=deployment_id, profile_id=manager_id)
    dashboard = await notebook.call(GetPilotageDashboardV1(), manager)
    [figure] = [f for f in dashboard.figures if f.key == "accompagnement"]
    for series in figure.series:  # the past months (the current one is live, from the read model)
        assert not any(point.missing for point in series.points[:-1]), series
    accompanied = [p.value for p in figure.series[0].points[:-1]]
    assert len(set(accompanied)) > 3 and accompanied[-1] > accompanied[0], accompanied

    await notebook.call(request)  # again: nothing added
    async with notebook.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(orm.PilotageSnapshot).where(
            orm.PilotageSnapshot.deployment_id == deployment_id)) == len(snapshots)


NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
TEAM = demo.Team(uuid.UUID(int=7), [demo.Referent(uuid.UUID(int=n + 1), uuid.UUID(int=100 + n % 2), f"Pro {n}")
                                    for n in range(4)], {}, [demo.System(uuid.UUID(int=200), "Social")], "Agathe", "")


def population(seed: int, size: int = 60, **options) -> demo.Made:
    """The population's pure part, without a database: four référents, one dispositif, a tiny referential."""
    refs = demo.Referentials({}, [uuid.UUID(int=300)], {"logement": ["Accéder au logement"]},
                             {"logement": ["Demande de logement social"]}, ["Cuisinier (G1602)"])
    return demo.make_population(seed=seed, size=size, months=18, now=NOW, team=TEAM, refs=refs,
                                encrypt=lambda text: text, index=lambda kind, value: value or None, **options)


def test_the_same_seed_makes_the_same_people_and_stages():
    first, second = population(93), population(93)
    assert first.rows == second.rows
    snapshots = [demo.daily_snapshots(m, TEAM.deployment_id, NOW.date(), uuid.UUID(int=0)) for m in (first, second)]
    assert snapshots[0] == snapshots[1] and snapshots[0][-1]["day"] < NOW.date()
    assert all(row["occurred_at"] <= NOW for row in first.rows["timeline_event"])
    assert len({row["identity_key"] for row in first.rows["beneficiary"]}) == 60


@pytest.mark.parametrize("seed", range(12))
def test_nothing_in_a_notebooks_history_comes_before_it_was_created(seed):
    """The page lists the history newest first and ends with « Carnet créé »: an appointment booked days before
    its date used to be dated before the notebook existed, for some seeds (the e2e test draws its seed)."""
    made = population(seed)
    created = {row["notebook_id"]: row["occurred_at"] for row in made.rows["timeline_event"]
               if row["summary"] == "Carnet créé"}
    early = [row["summary"] for row in made.rows["timeline_event"] if row["occurred_at"] < created[row["notebook_id"]]]
    assert not early


def test_the_login_email_goes_to_one_beneficiary_followed_with_a_cer_running_who_reads_her_thread():
    """The demo's second beneficiary account (``beneficiaire2@…``) finds a lived-in notebook: a référent, a CER
    running, an appointment to come, a message shared with her; the others stay without an email."""
    made = population(93, 120, login_email="beneficiaire2@demo.carnet.test")
    [her] = [b for b in made.beneficiaries if b["email"]]
    notebook_id = next(n["id"] for n in made.notebooks if n["beneficiary_id"] == her["id"])

    def hers(table):
        return [row for row in made.rows.get(table, []) if row["notebook_id"] == notebook_id]

    assert her["email"] == "beneficiaire2@demo.carnet.test"
    assert [m for m in hers("member") if m["member_type"] == "referent" and m["ended_at"] is None]
    assert [c for c in hers("contract") if c["status"] == "signed" and c["end_date"] > NOW.date() + timedelta(30)]
    assert [a for a in hers("appointment") if a["status"] == "planned"]
    assert [m for m in hers("exchange_message") if m["shared_with_beneficiary"]]


async def test_a_population_without_professionals_is_refused_in_french_with_nothing_written(notebook):
    deployment_id = uuid.uuid4()
    request = c.SeedDemoNotebooksV1(deployment_id=deployment_id, beneficiaries=[],
                                    population=c.DemoPopulation(size=10, seed=7, referent_ids=[]))
    answer = await refused(notebook.call(request))
    assert answer.code == ErrorCode.invalid and "professionnels" in answer.message
    async with notebook.sessions() as session:
        assert not await session.scalar(select(func.count()).select_from(orm.Notebook).where(
            orm.Notebook.deployment_id == deployment_id))


# Seeds 18, 25, 33 and 37 had a référent write in the thread minutes before he took the notebook (the first six had
# not): the whole population's pure part, in memory, a few hundredths of a second a seed.
@pytest.mark.parametrize("seed", range(41))
def test_the_history_and_threads_follow_the_order_of_things(seed):
    """Walk of the demo as Sébastien Dupont (issue 20): « Rendez-vous du 23/08 : présent » was dated 16/08, a week
    before it took place; Youssef wrote in the thread on 02/07 though he joined the group on 21/08; and the same
    sentence came twice in a thread. A past appointment is now « prévu » when booked and its outcome once held;
    a colleague writes only once a member; a thread does not repeat itself."""
    made = population(seed)
    appointments = {a["id"]: a for a in made.rows["appointment"]}
    for event in made.rows["timeline_event"]:
        held = appointments.get(event["subject_id"])
        if held and event["summary"].endswith(": annulé"):  # called off before the day, after the booking
            assert held["created_at"] < event["occurred_at"] < held["at"], event["summary"]
        elif held and not event["summary"].endswith(": prévu"):
            assert event["occurred_at"] >= held["at"], event["summary"]
    joined = {(m["notebook_id"], m["person_id"]): m["started_at"] for m in made.rows["member"]}
    threads: dict = {}
    for message in made.rows.get("exchange_message", []):
        assert message["created_at"] >= joined[(message["notebook_id"], message["author_id"])]
        threads.setdefault(message["notebook_id"], []).append(message["text_encrypted"])
    assert threads and all(len(set(texts)) == len(texts) for texts in threads.values())
    # The same near now, where the moments drawn stop an hour at most before the seed: an action after its objective.
    targets = {t["id"]: t["created_at"] for t in made.rows["target"]}
    assert all(action["created_at"] > targets[action["target_id"]] for action in made.rows["action"])


def in_office(moment: datetime) -> bool:
    local = moment.astimezone(demo.PARIS)
    return local.weekday() < 5 and 8 <= local.hour < 18


@pytest.mark.parametrize("now", [NOW, datetime(2026, 11, 29, 22, 30, tzinfo=UTC),   # a Sunday night
                                 datetime(2026, 11, 30, 6, 15, tzinfo=UTC)])         # a Monday before 8h
def test_the_history_is_written_in_office_hours_and_spread_over_them(now):
    """Walk of the demo (issue 20): history entries dated at night. Every time of the population falls on a
    weekday, 8h–18h in Paris, whatever the hour of the seed, never after it; and not all at one hour."""
    refs = demo.Referentials({}, [uuid.UUID(int=300)], {"logement": ["Accéder au logement"]},
                             {"logement": ["Demande de logement social"]}, ["Cuisinier (G1602)"])
    made = demo.make_population(seed=20, size=60, months=18, now=now, team=TEAM, refs=refs,
                                encrypt=lambda text: text, index=lambda kind, value: value or None)
    history = [row["occurred_at"] for row in made.rows["timeline_event"]]
    assert history and all(in_office(at) and at <= now for at in history)
    moments = [value for rows in made.rows.values() for row in rows for value in row.values()
               if isinstance(value, datetime) and value <= now]
    assert all(in_office(at) for at in moments)
    appointments = {a["id"]: a["at"].astimezone(demo.PARIS) for a in made.rows["appointment"]}
    assert all(in_office(at) for at in appointments.values())  # those to come too
    for event in made.rows["timeline_event"]:  # its sentence quotes the appointment's time as it is
        if event["subject_id"] in appointments:
            assert f"Rendez-vous du {appointments[event['subject_id']]:%d/%m/%Y à %H:%M}" in event["summary"]
    assert len({at.astimezone(demo.PARIS).hour for at in history}) >= 8


def test_moving_into_office_hours_keeps_every_order_and_the_office_times():
    now = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)  # a Sunday night: its gap is squeezed before it
    moments = [now - timedelta(minutes=17 * i) for i in range(3000)][::-1]
    moved = [demo.office_moment(at, now) for at in moments]
    assert moved == sorted(moved) and len(set(moved)) == len(moved)
    assert all(in_office(at) and at <= now for at in moved)
    kept = datetime(2026, 11, 26, 14, 30, tzinfo=demo.PARIS)  # a Thursday, 14h30
    assert demo.office_moment(kept, now) == kept
