"""The dashboards through notebook's broker in memory, on SQLite and PostgreSQL, over pilotage facts at every stage:
each point's value equals the count of the beneficiaries' list for its drill-down filters (issue 18 item 4), for a
territory, a structure and the national dashboard; a structure admin never gets another structure's numbers; the
national dashboard is admin_cdb's; the period is checked."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest

from contracts.base import ErrorCode
from contracts.directory import StructureCreatedV1
from contracts.identity import Role
from contracts.pilotage import (
    BeneficiaryFilters,
    GetPilotageDashboardV1,
    PilotageScope,
    QueryActionsV1,
    QueryBeneficiariesV1,
)
from contracts.profiles import DeploymentCreatedV1, ProfessionalCreatedV1
from notebook.adapters import pilotage_query as q
from notebook.adapters.orm import NO_STRUCTURE, Person, PilotageAction, PilotageNotebook, PilotageSnapshot
from notebook.domain.pilotage_figures import add_months
from notebook.entrypoints.wiring import ROUTES
from notebook.handlers.pilotage_snapshots import take_snapshot
from testkit.clock import paris_today
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


@dataclass
class Place:
    deployment_id: uuid.UUID
    first: uuid.UUID  # a structure with two notebooks, one without CER
    second: uuid.UUID
    referents: list[uuid.UUID]


def ago(days: int) -> datetime:
    return datetime.combine(paris_today() - timedelta(days=days), time(10), UTC)


async def place(notebook: InMemoryService, label: str, code: str, first_name: str = "Insertion") -> Place:
    deployment, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await notebook.deliver(DeploymentCreatedV1(deployment_id=deployment, label=label, department_code=code))
    for structure, name in ((first, first_name), (second, "Mission Locale")):
        await notebook.deliver(StructureCreatedV1(structure_id=structure, deployment_id=deployment, name=name,
                                                  city="Valence"))
    referents = [uuid.uuid4(), uuid.uuid4()]
    for index, person in enumerate(referents):
        await notebook.deliver(ProfessionalCreatedV1(
            profile_id=person, deployment_id=deployment, firstname="Pro", lastname=f"Numéro{index}",
            email=f"pro{index}-{uuid.uuid4().hex[:6]}@cd{code}.fr", structure_ids=[first if index == 0 else second]))
    today = paris_today()
    facts = [
        # followed in the first structure, CER signed and ending soon, oriented after 5 days, CER after 20
        dict(structure_id=first, referent_id=referents[0], support="accompanied", subject_to_right_and_duty=True,
             cer_state="signed", cer_end_date=today + timedelta(days=10), created_at=ago(40),
             first_oriented_at=ago(35), first_cer_at=ago(20), origin="cafmsa", themes="|emploi|"),
        # waiting in the first structure, no CER, a reorientation asked 10 days ago
        dict(structure_id=first, support="waiting", subject_to_right_and_duty=True, cer_state="none",
             created_at=ago(100), origin="import", pending_reorientation_since=ago(10)),
        # followed in the second, a draft CER, oriented after 50 days
        dict(structure_id=second, referent_id=referents[1], support="accompanied", subject_to_right_and_duty=True,
             cer_state="draft", created_at=ago(200), first_oriented_at=ago(150), origin="france_travail"),
        # no structure, no CER, created before the period
        dict(support="not_accompanied", subject_to_right_and_duty=True, cer_state="none", created_at=ago(400),
             origin="manual"),
        # followed in the second, not subject, CER ended, created 3 days ago, a reorientation 40 days old
        dict(structure_id=second, referent_id=referents[1], support="accompanied", subject_to_right_and_duty=False,
             cer_state="ended", created_at=ago(3), first_oriented_at=ago(3), origin="partner",
             pending_reorientation_since=ago(40)),
    ]
    async with notebook.sessions.begin() as session:
        for index, fact in enumerate(facts):
            notebook_id = uuid.uuid4()
            session.add(PilotageNotebook(notebook_id=notebook_id, deployment_id=deployment, lastname=f"Nom{index}",
                                         firstname="Prénom", refreshed_at=ago(0), **fact))
            session.add(PilotageAction(id=uuid.uuid4(), notebook_id=notebook_id, deployment_id=deployment,
                                       structure_id=fact.get("structure_id"), theme="emploi",
                                       status="in_progress" if index % 2 else "done", created_at=ago(2)))
        # Last month's history: three accompanied in the first structure, one without structure.
        last_month = add_months(today.replace(day=1), -1)
        for structure, n in ((first, 3), (NO_STRUCTURE, 1)):
            session.add(PilotageSnapshot(day=last_month + timedelta(days=20), deployment_id=deployment,
                                         structure_id=structure, support="accompanied", count=n))
    return Place(deployment, first, second, referents)


@dataclass
class Who:
    role: Role
    deployment_id: uuid.UUID | None
    profile_id: uuid.UUID | None
    structure_ids: frozenset


async def listed(notebook: InMemoryService, token: str, who: Who, point) -> int:
    """How many rows the list behind a point has for its filters: the actions' (QueryActionsV1) for the actions
    figure, the beneficiaries' (QueryBeneficiariesV1 once wired, else with the list's own count) otherwise."""
    if point.drill_list == "actions":
        reply = await notebook.call(QueryActionsV1(filters=point.drill, deployment_id=point.drill_deployment_id,
                                                   limit=1), token)
        return reply.total
    if QueryBeneficiariesV1 in ROUTES:
        reply = await notebook.call(QueryBeneficiariesV1(filters=point.drill, deployment_id=point.drill_deployment_id,
                                                         limit=1), token)
        return reply.total
    async with notebook.sessions() as session:
        return await q.count(session, point.drill, q.scope_of(who, point.drill_deployment_id))


async def assert_drills_match(notebook, token, who, dashboard) -> int:
    checked = 0
    for figure in dashboard.figures:
        for series in figure.series:
            for point in series.points:
                if point.drill is not None and not point.drill_note:  # a note: another list, said so
                    assert await listed(notebook, token, who, point) == point.value, (figure.key, series.name,
                                                                                      point.label)
                    checked += 1
    return checked


def figure(dashboard, key):
    return next(f for f in dashboard.figures if f.key == key)


def values(fig, series_name=None) -> dict[str, float]:
    series = fig.series[0] if series_name is None else next(s for s in fig.series if s.name == series_name)
    return {p.label: p.value for p in series.points}


async def test_a_territory_dashboard_counts_what_its_lists_show(notebook, token_mint):
    here = await place(notebook, "Drôme", "26")
    manager = Who(Role.manager, here.deployment_id, uuid.uuid4(), frozenset())
    token = token_mint.token(Role.manager, deployment_id=here.deployment_id, profile_id=manager.profile_id)

    dashboard = await notebook.call(GetPilotageDashboardV1(), token)

    assert dashboard.scope == PilotageScope.territory and dashboard.label == "Territoire Drôme"
    assert dashboard.period_to == paris_today()
    assert [s.label for s in dashboard.structures] == ["Insertion", "Mission Locale"]
    assert await assert_drills_match(notebook, token, manager, dashboard) > 20
    # « Combien de soumis aux droits et devoirs n'ont pas de CER, par structure »: one in Insertion, one without.
    assert values(figure(dashboard, "couverture-cer"), "Sans CER") == {"Insertion": 1, "Mission Locale": 0,
                                                                       "Sans structure": 1}
    assert values(figure(dashboard, "cer-fin-30-jours")) == {"Insertion": 1}
    support = figure(dashboard, "accompagnement")
    accompanied = values(support, "Accompagné")
    assert list(accompanied.values())[-1] == 3 and list(accompanied.values())[-2] == 4  # live; last month's snapshot
    # Today's month drills down to today's list; last month to the notebooks created then (what the link says).
    assert [p.drill is not None for p in support.series[0].points][-2:] == [True, True]
    assert [bool(p.drill_note) for p in support.series[0].points][-2:] == [True, False]
    # The months before, without a snapshot, are missing, not 0 (a false figure); last month's other statuses
    # were recorded at 0.
    assert [p.missing for p in support.series[0].points][-3:] == [True, False, False]
    assert all(p.missing and p.value == 0 for s in support.series for p in s.points[:-2])
    assert [s.points[-2].missing for s in support.series] == [False, False, False]
    orientation = figure(dashboard, "delai-orientation")
    assert values(orientation) == {"0 à 7 jours": 2, "8 à 30 jours": 0, "31 à 90 jours": 1, "91 à 180 jours": 0,
                                   "Plus de 180 jours": 0}
    assert orientation.summary == "Médiane : 5 jours"
    assert values(figure(dashboard, "reorientations")) == {"Moins de 8 jours": 0, "8 à 15 jours": 1,
                                                           "16 à 30 jours": 0, "31 à 90 jours": 1,
                                                           "Plus de 90 jours": 0}
    assert values(figure(dashboard, "charge-referents")) == {"Pro Numéro1": 2, "Pro Numéro0": 1}
    assert sum(sum(values(figure(dashboard, "actions"), s.name).values())
               for s in figure(dashboard, "actions").series) == 5
    arrivals = figure(dashboard, "arrivees")
    assert sum(p.value for s in arrivals.series for p in s.points) == 4  # the one of 400 days ago is before


async def test_a_structure_admin_sees_one_of_her_structures_only(notebook, token_mint):
    here = await place(notebook, "Drôme", "26", first_name="<script>alert(1)</script>")
    admin = Who(Role.admin_structure, here.deployment_id, uuid.uuid4(), frozenset({here.first}))
    token = token_mint.token(Role.admin_structure, deployment_id=here.deployment_id, profile_id=admin.profile_id,
                             structure_ids=[here.first])

    dashboard = await notebook.call(GetPilotageDashboardV1(), token)

    assert dashboard.scope == PilotageScope.structure
    assert dashboard.label == "Structure <script>alert(1)</script>"
    assert [s.id for s in dashboard.structures] == [here.first]
    labels = {p.label for f in dashboard.figures if f.key.startswith(("couverture", "charge", "cer-"))
              for s in f.series for p in s.points}
    assert labels <= {"<script>alert(1)</script>", "Pro Numéro0"}
    assert values(figure(dashboard, "couverture-cer"), "Sans CER") == {"<script>alert(1)</script>": 1}
    assert await assert_drills_match(notebook, token, admin, dashboard) > 10
    # Another structure of the territory, or the territory's own dashboard: not hers.
    refusal = await refused(notebook.call(GetPilotageDashboardV1(scope=PilotageScope.structure,
                                                                 structure_id=here.second), token))
    assert refusal.code == ErrorCode.not_found
    refusal = await refused(notebook.call(GetPilotageDashboardV1(scope=PilotageScope.national), token))
    assert refusal.code == ErrorCode.forbidden

    # A manager may open any structure of the territory; one of another territory is not found.
    manager = Who(Role.manager, here.deployment_id, uuid.uuid4(), frozenset())
    manager_token = token_mint.token(Role.manager, deployment_id=here.deployment_id, profile_id=manager.profile_id)
    second = await notebook.call(GetPilotageDashboardV1(scope=PilotageScope.structure, structure_id=here.second),
                                 manager_token)
    assert second.label == "Structure Mission Locale"
    assert await assert_drills_match(notebook, manager_token, manager, second) > 5
    elsewhere = await place(notebook, "Isère", "38")
    refusal = await refused(notebook.call(GetPilotageDashboardV1(scope=PilotageScope.structure,
                                                                 structure_id=elsewhere.first), manager_token))
    assert refusal.code == ErrorCode.not_found


async def test_the_national_dashboard_puts_territories_side_by_side_for_admin_cdb_only(notebook, token_mint):
    drome = await place(notebook, "Drôme", "26")
    await place(notebook, "Isère", "38")
    admin = Who(Role.admin_cdb, None, None, frozenset())
    token = token_mint.token(Role.admin_cdb)

    national = await notebook.call(GetPilotageDashboardV1(scope=PilotageScope.national), token)

    assert national.scope == PilotageScope.national and national.label == "National"
    cer = figure(national, "territoires-cer")
    assert {"Drôme", "Isère"} <= set(values(cer, "Sans CER"))
    assert await assert_drills_match(notebook, token, admin, national) > 10
    # admin_cdb may open one territory.
    one = await notebook.call(GetPilotageDashboardV1(deployment_id=drome.deployment_id), token)
    assert one.label == "Territoire Drôme"
    assert values(figure(one, "couverture-cer"), "Sans CER")["Insertion"] == 1

    manager = token_mint.token(Role.manager, deployment_id=drome.deployment_id, profile_id=uuid.uuid4())
    assert (await refused(notebook.call(GetPilotageDashboardV1(scope=PilotageScope.national), manager))
            ).code == ErrorCode.forbidden
    pro = token_mint.token(Role.professional, deployment_id=drome.deployment_id, profile_id=uuid.uuid4())
    assert (await refused(notebook.call(GetPilotageDashboardV1(), pro))).code == ErrorCode.forbidden


async def test_the_period_is_checked_in_french(notebook, token_mint):
    here = await place(notebook, "Drôme", "26")
    token = token_mint.token(Role.manager, deployment_id=here.deployment_id, profile_id=uuid.uuid4())
    today = paris_today()
    reversed_ = await refused(notebook.call(GetPilotageDashboardV1(period_from=today, period_to=today - timedelta(
        days=1)), token))
    assert reversed_.code == ErrorCode.invalid and "finit avant de commencer" in reversed_.message
    too_long = await refused(notebook.call(GetPilotageDashboardV1(period_from=add_months(today, -61)), token))
    assert too_long.code == ErrorCode.invalid and "5 ans" in too_long.message
    three = await notebook.call(GetPilotageDashboardV1(period_from=add_months(today, -3)), token)
    assert len(figure(three, "accompagnement").series[0].points) == 4


async def test_a_daily_snapshot_is_taken_once(notebook):
    await place(notebook, "Drôme", "26")
    day = paris_today() + timedelta(days=3650 + uuid.uuid4().int % 1000)  # a day no other test takes
    assert await take_snapshot(notebook.sessions, day) > 0
    assert await take_snapshot(notebook.sessions, day) == 0


async def test_every_figure_drills_down_to_its_list_delays_actions_others_and_past_months(notebook, token_mint):
    """Issue 18 item 3: the delay buckets, the actions by theme and status, « Autres » of the référents and the
    past months lead to a list; each list (but a past month's, which says what it is) counts the figure's number."""
    here = await place(notebook, "Drôme", "26")
    # Seventeen more référents, one accompanied notebook each: the référents' load has an « Autres » row.
    async with notebook.sessions.begin() as session:
        for index in range(17):
            person = uuid.uuid4()
            session.add(Person(id=person, deployment_id=here.deployment_id, firstname="Réf", lastname=f"R{index:02}",
                               email=f"r{index}-{uuid.uuid4().hex[:6]}@cd26.fr", role="professional",
                               structure_ids=[str(here.second)], occurred_at=ago(0)))
            session.add(PilotageNotebook(notebook_id=uuid.uuid4(), deployment_id=here.deployment_id,
                                         lastname=f"Autre{index}", firstname="Prénom", refreshed_at=ago(0),
                                         structure_id=here.second, referent_id=person, support="accompanied",
                                         created_at=ago(500), origin="manual"))
    manager = Who(Role.manager, here.deployment_id, uuid.uuid4(), frozenset())
    token = token_mint.token(Role.manager, deployment_id=here.deployment_id, profile_id=manager.profile_id)

    dashboard = await notebook.call(GetPilotageDashboardV1(), token)

    assert await assert_drills_match(notebook, token, manager, dashboard) > 30
    for key in ("delai-orientation", "delai-cer", "actions", "charge-referents", "arrivees", "reorientations"):
        assert all(p.drill is not None for s in figure(dashboard, key).series for p in s.points), key
    orientation = figure(dashboard, "delai-orientation").series[0].points
    assert orientation[0].drill.orientation_days_max == 7 and orientation[-1].drill.orientation_days_min == 181
    assert orientation[0].drill.created_from == dashboard.period_from
    assert (await notebook.call(QueryBeneficiariesV1(filters=orientation[0].drill), token)).total == 2
    cer = figure(dashboard, "delai-cer").series[0].points
    assert cer[1].value == 1 and cer[1].drill.cer_days_min == 8 and cer[1].drill.cer_days_max == 30
    # « Autres »: every référent but the fifteen most loaded, whatever their number.
    others = figure(dashboard, "charge-referents").series[0].points[-1]
    assert others.label == "Autres" and others.value == 4 and len(others.drill.other_than_referent_ids) == 15
    # Actions: a cell lists actions (five, one per notebook), not beneficiaries.
    actions = figure(dashboard, "actions")
    done = next(s for s in actions.series if s.name == "Réalisée").points[0]
    assert done.drill_list == "actions" and done.drill.action_statuses == ["done"] and done.value == 3
    listed_actions = await notebook.call(QueryActionsV1(filters=done.drill), token)
    assert listed_actions.total == 3 and {r.status for r in listed_actions.rows} == {"done"}
    # A filter of the beneficiaries' list means nothing on actions: refused in French.
    refusal = await refused(notebook.call(QueryActionsV1(filters=done.drill.model_copy(
        update={"subject_to_right_and_duty": True})), token))
    assert refusal.code == ErrorCode.invalid and "actions" in refusal.message
    # Last month (a snapshot): the notebooks created that month, as its note says.
    last = figure(dashboard, "accompagnement").series[0].points[-2]
    first = add_months(paris_today().replace(day=1), -1)
    assert last.drill_note.startswith("Carnets créés en")
    assert last.drill.created_from == max(first, dashboard.period_from)
    assert last.drill.created_to == add_months(first, 1) - timedelta(days=1)


async def test_the_actions_list_keeps_to_the_callers_scope(notebook, token_mint):
    here = await place(notebook, "Drôme", "26")
    await place(notebook, "Isère", "38")
    admin = token_mint.token(Role.admin_structure, deployment_id=here.deployment_id, profile_id=uuid.uuid4(),
                             structure_ids=[here.first])
    mine = await notebook.call(QueryActionsV1(), admin)
    assert mine.total == 2 and {r.structure_name for r in mine.rows} == {"Insertion"}
    assert (await notebook.call(QueryActionsV1(filters=BeneficiaryFilters(structure_ids=[here.second])), admin)
            ).total == 0
    manager = token_mint.token(Role.manager, deployment_id=here.deployment_id, profile_id=uuid.uuid4())
    assert (await notebook.call(QueryActionsV1(), manager)).total == 5  # the territory's, not Isère's
    beneficiary = token_mint.token(Role.beneficiary, deployment_id=here.deployment_id, profile_id=uuid.uuid4())
    assert (await refused(notebook.call(QueryActionsV1(), beneficiary))).code == ErrorCode.forbidden


async def test_an_action_status_on_the_beneficiaries_list_is_refused_not_ignored(notebook, token_mint):
    here = await place(notebook, "Drôme", "26")
    manager = token_mint.token(Role.manager, deployment_id=here.deployment_id, profile_id=uuid.uuid4())
    refusal = await refused(notebook.call(QueryBeneficiariesV1(filters=BeneficiaryFilters(action_statuses=["done"])),
                                          manager))
    assert refusal.code == ErrorCode.invalid and "liste des actions" in refusal.message
