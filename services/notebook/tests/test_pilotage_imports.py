"""« Imports et flux » on the dashboards (issue 18 item 3), through notebook's broker in memory, on SQLite and
PostgreSQL: the read model kept from import.job.completed.v1 (a redelivery or an older end changes nothing), the
imports done per month and kind with their rows created, updated and rejected, a structure's own imports only,
another territory's never, and territories side by side for admin_cdb."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from contracts.directory import StructureCreatedV1
from contracts.identity import Role
from contracts.imports import ImportCompletedV1, ImportCounts, ImportKind, ImportState
from contracts.pilotage import GetPilotageDashboardV1, PilotageScope
from contracts.profiles import DeploymentCreatedV1
from notebook.adapters.orm import PilotageImport
from notebook.domain.pilotage_figures import add_months, month_label
from testkit.clock import paris_today
from testkit.handlers import InMemoryService

pytestmark = pytest.mark.integration


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


@dataclass
class Territory:
    deployment_id: uuid.UUID
    structure: uuid.UUID
    other_structure: uuid.UUID


async def territory(notebook: InMemoryService, label: str, code: str) -> Territory:
    here = Territory(uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    await notebook.deliver(DeploymentCreatedV1(deployment_id=here.deployment_id, label=label, department_code=code))
    for structure, name in ((here.structure, "Insertion"), (here.other_structure, "Mission Locale")):
        await notebook.deliver(StructureCreatedV1(structure_id=structure, deployment_id=here.deployment_id,
                                                  name=name, city="Valence"))
    return here


def this_month() -> datetime:
    return datetime.combine(paris_today(), time(9), UTC)


def last_month() -> datetime:
    return datetime.combine(add_months(paris_today().replace(day=1), -1) + timedelta(days=10), time(9), UTC)


def ended(here: Territory, kind: ImportKind, at: datetime, *, state=ImportState.done, structure=None,
          created=0, updated=0, rejected=0, unchanged=0, import_id=None) -> ImportCompletedV1:
    return ImportCompletedV1(
        import_id=import_id or uuid.uuid4(), kind=kind, deployment_id=here.deployment_id, account_id=uuid.uuid4(),
        filename="fichier.csv", state=state, counts=ImportCounts(created=created, updated=updated, rejected=rejected,
                                                                 unchanged=unchanged),
        rows_total=created + updated + rejected + unchanged, structure_id=structure, occurred_at=at)


async def imports_of(notebook: InMemoryService, here: Territory) -> list[PilotageImport]:
    async with notebook.sessions() as session:
        return list((await session.scalars(select(PilotageImport).where(
            PilotageImport.deployment_id == here.deployment_id))).all())


def figure(dashboard, key):
    return next(f for f in dashboard.figures if f.key == key)


def by_series(fig) -> dict[str, dict[str, float]]:
    return {s.name: {p.label: p.value for p in s.points} for s in fig.series}


async def test_an_import_delivered_twice_or_an_older_end_changes_nothing(notebook):
    here = await territory(notebook, "Drôme", "26")
    event = ended(here, ImportKind.caf_msa, this_month(), updated=40, rejected=2)
    await notebook.deliver(event)
    await notebook.deliver(event)  # a redelivery
    [row] = await imports_of(notebook, here)
    assert (row.kind, row.state, row.updated, row.rejected, row.day) == ("caf-msa", "done", 40, 2, paris_today())
    # Another event of the same import, older than the end kept: ignored; a later one replaces it.
    await notebook.deliver(ended(here, ImportKind.caf_msa, this_month() - timedelta(hours=1), import_id=row.import_id,
                                 state=ImportState.failed))
    [row] = await imports_of(notebook, here)
    assert (row.state, row.updated) == ("done", 40)
    await notebook.deliver(ended(here, ImportKind.caf_msa, this_month() + timedelta(minutes=1),
                                 import_id=row.import_id, updated=41))
    [row] = await imports_of(notebook, here)
    assert row.updated == 41


async def test_a_territory_dashboard_counts_imports_and_flux_per_month_and_kind(notebook, token_mint):
    here = await territory(notebook, "Drôme", "26")
    elsewhere = await territory(notebook, "Isère", "38")
    for event in (ended(here, ImportKind.beneficiaries, this_month(), created=10, updated=2, rejected=1),
                  ended(here, ImportKind.caf_msa, this_month(), updated=30, rejected=3),
                  ended(here, ImportKind.caf_msa, last_month(), updated=20, unchanged=100),
                  ended(here, ImportKind.france_travail_principal, last_month(), created=1, updated=5),
                  ended(here, ImportKind.caf_msa, this_month(), state=ImportState.failed),
                  ended(here, ImportKind.professionals, this_month(), created=4, structure=here.structure),
                  ended(elsewhere, ImportKind.caf_msa, this_month(), updated=999)):
        await notebook.deliver(event)
    token = token_mint.token(Role.manager, deployment_id=here.deployment_id, profile_id=uuid.uuid4())

    dashboard = await notebook.call(GetPilotageDashboardV1(), token)

    now, before = month_label(paris_today().replace(day=1)), month_label(last_month().date().replace(day=1))
    imports = by_series(figure(dashboard, "imports"))
    assert list(imports) == ["Bénéficiaires", "Professionnels", "Flux CAF/MSA", "Flux France Travail — principal"]
    assert {name: (points[before], points[now]) for name, points in imports.items()} == {
        "Bénéficiaires": (0, 1), "Professionnels": (0, 1), "Flux CAF/MSA": (1, 1),
        "Flux France Travail — principal": (1, 0)}
    assert figure(dashboard, "imports").summary == "5 imports terminés sur la période, 1 en échec"
    lines = figure(dashboard, "imports-lignes")
    assert by_series(lines) == {
        "Créées": {"Bénéficiaires": 10, "Professionnels": 4, "Flux CAF/MSA": 0, "Flux France Travail — principal": 1},
        "Mises à jour": {"Bénéficiaires": 2, "Professionnels": 0, "Flux CAF/MSA": 50,
                         "Flux France Travail — principal": 5},
        "Rejetées": {"Bénéficiaires": 1, "Professionnels": 0, "Flux CAF/MSA": 3,
                     "Flux France Travail — principal": 0}}
    assert lines.summary == "Lignes : 15 créées, 57 mises à jour, 4 rejetées"
    # Each point leads to the imports' page of its kind (a manager's lists the territory's).
    caf = next(s for s in figure(dashboard, "imports").series if s.name == "Flux CAF/MSA").points[-1]
    assert (caf.drill_list, caf.drill_import_kind, caf.drill) == ("imports", ImportKind.caf_msa, None)
    assert caf.drill_note

    # The period says which months: last month alone holds two imports.
    first = last_month().date().replace(day=1)
    one = await notebook.call(GetPilotageDashboardV1(period_from=first, period_to=add_months(first, 1)
                                                     - timedelta(days=1)), token)
    assert figure(one, "imports").summary == "2 imports terminés sur la période"

    # Isère's manager sees Isère's flux only; a territory without imports, none.
    other = token_mint.token(Role.manager, deployment_id=elsewhere.deployment_id, profile_id=uuid.uuid4())
    assert by_series(figure(await notebook.call(GetPilotageDashboardV1(), other), "imports-lignes")) == {
        "Créées": {"Flux CAF/MSA": 0}, "Mises à jour": {"Flux CAF/MSA": 999}, "Rejetées": {"Flux CAF/MSA": 0}}
    empty = await territory(notebook, "Ardèche", "07")
    nothing = token_mint.token(Role.manager, deployment_id=empty.deployment_id, profile_id=uuid.uuid4())
    silent = await notebook.call(GetPilotageDashboardV1(), nothing)
    assert figure(silent, "imports").series == [] and figure(silent, "imports").summary.startswith("0 import ")


async def test_a_structure_dashboard_counts_the_structures_own_imports_only(notebook, token_mint):
    here = await territory(notebook, "Drôme", "26")
    for event in (ended(here, ImportKind.professionals, this_month(), created=4, structure=here.structure),
                  ended(here, ImportKind.referents, this_month(), updated=7, structure=here.structure),
                  ended(here, ImportKind.professionals, this_month(), created=9, structure=here.other_structure),
                  ended(here, ImportKind.caf_msa, this_month(), updated=30)):
        await notebook.deliver(event)
    admin = token_mint.token(Role.admin_structure, deployment_id=here.deployment_id, profile_id=uuid.uuid4(),
                             structure_ids=[here.structure])

    dashboard = await notebook.call(GetPilotageDashboardV1(), admin)

    assert dashboard.scope == PilotageScope.structure
    assert by_series(figure(dashboard, "imports-lignes")) == {
        "Créées": {"Professionnels": 4, "Rattachements": 0}, "Mises à jour": {"Professionnels": 0, "Rattachements": 7},
        "Rejetées": {"Professionnels": 0, "Rattachements": 0}}
    assert all(p.drill_list == "imports" for s in figure(dashboard, "imports").series for p in s.points)
    # An orientation manager's imports page holds her own imports only: no drill-down there.
    orientation = token_mint.token(Role.orientation_manager, deployment_id=here.deployment_id,
                                   profile_id=uuid.uuid4())
    hers = await notebook.call(GetPilotageDashboardV1(), orientation)
    assert {p.drill_list for s in figure(hers, "imports").series for p in s.points} == {"beneficiaries"}
    assert sum(by_series(figure(hers, "imports-lignes"))["Créées"].values()) == 13


async def test_the_national_dashboard_puts_the_territories_imports_side_by_side(notebook, token_mint):
    # Labels of their own: the other tests' territories share this database.
    suffix = uuid.uuid4().hex[:6]
    drome = await territory(notebook, f"Drôme {suffix}", "26")
    isere = await territory(notebook, f"Isère {suffix}", "38")
    for event in (ended(drome, ImportKind.caf_msa, this_month()), ended(drome, ImportKind.caf_msa, last_month()),
                  ended(isere, ImportKind.france_travail_actions, this_month())):
        await notebook.deliver(event)

    national = await notebook.call(GetPilotageDashboardV1(scope=PilotageScope.national), token_mint.token(
        Role.admin_cdb))

    imports = by_series(figure(national, "territoires-imports"))
    assert imports["Flux CAF/MSA"][f"Drôme {suffix}"] == 2 and imports["Flux CAF/MSA"][f"Isère {suffix}"] == 0
    assert imports["Flux France Travail — actions"][f"Isère {suffix}"] == 1
    assert all(p.drill_list == "beneficiaries" and p.drill is None for s in figure(
        national, "territoires-imports").series for p in s.points)  # no imports' page of a territory for admin_cdb
