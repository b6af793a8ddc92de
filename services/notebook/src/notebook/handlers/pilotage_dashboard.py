"""The dashboards (issue 18): a territory's, one structure's, or national (admin_cdb: territories side by side),
over a period. Served from the pilotage read model only: its counts (``pilotage_count_*``, kept with the rows in
the same transaction: adapters.pilotage_counts), its rows for the days of the period's partial months
(``pilotage_notebook``, ``pilotage_action``), ``pilotage_snapshot``, and the directory's read models for names.

Every point that has a list behind it carries its ``drill`` filters, and is counted with the very conditions
(``pilotage_query.conditions``) that the beneficiaries' list applies to those filters: the number on the chart is
the number of rows the list (and its export) shows.
"""
from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.imports import ImportKind, ImportState
from contracts.notebook import SupportStatus
from contracts.pilotage import (
    BeneficiaryFilters,
    CerState,
    Choice,
    Figure,
    GetPilotageDashboardV1,
    Origin,
    PilotageDashboardReply,
    PilotageScope,
    Point,
    Series,
)
from notebook.adapters import pilotage_query as q
from notebook.adapters.pilotage_counts import (
    ALL_STRUCTURES,
    NO_DAYS,
    PilotageCountDay,
    PilotageCountMonth,
    PilotageCountReferent,
    PilotageCountState,
)
from notebook.adapters.orm import (
    NO_STRUCTURE,
    Person,
    PilotageAction,
    PilotageImport,
    PilotageNotebook,
    PilotageSnapshot,
    RefTheme,
    StructureRead,
    TerritoryRead,
)
from notebook.domain import pilotage_figures as rules
from notebook.handlers.caller import Caller, caller_of
from notebook.handlers.deps import Deps
from servicekit.errors import Forbidden, Invalid, NotFound

P = PilotageNotebook
ONLY_PILOTS = "Le tableau de bord est réservé aux gestionnaires, chargés d'orientation et administrateurs de structure."
ONLY_NATIONAL = "Le tableau de bord national est réservé à l'administrateur Carnet de bord."
STRUCTURE_NOT_FOUND = "Cette structure n'existe pas ou n'est pas dans votre périmètre."
TERRITORY_NOT_FOUND = "Ce territoire n'existe pas."
PILOTS = (Role.manager, Role.orientation_manager, Role.admin_structure, Role.admin_cdb)
IMPORTERS = (Role.manager, Role.admin_structure)  # whose imports' page lists their scope's imports


class View:
    """What a dashboard counts: its rows (``scope``), the filters every drill-down adds (a structure's), and by
    what the "per structure" figures group (structures, or territories for the national one)."""

    def __init__(self, scope: q.PilotageScope, base: BeneficiaryFilters, label: str, kind: PilotageScope,
                 structure_id: uuid.UUID | None = None):
        self.scope, self.base, self.label, self.kind, self.structure_id = scope, base, label, kind, structure_id
        # Whether the imports' page lists the imports of this scope to the caller (managers and structure
        # admins; another role's page holds their own imports only): the « Imports et flux » drill-down.
        self.imports_list = False

    def filters(self, **fields) -> BeneficiaryFilters:
        """The base filters with these fields: the list behind a point."""
        return self.base.model_copy(update=fields)

    def where(self, **fields) -> list:
        return q.conditions(self.filters(**fields), self.scope)

    @property
    def national(self) -> bool:
        return self.kind == PilotageScope.national


async def get_dashboard(request: GetPilotageDashboardV1, ctx, deps: Deps) -> PilotageDashboardReply:
    caller = await caller_of(ctx, deps)
    if caller.role not in PILOTS:
        raise Forbidden(ONLY_PILOTS)
    today = caller.today or deps.clock().date()
    start, end = rules.period_of(today, request.period_from, request.period_to)
    async with deps.sessions() as session:
        view, structures = await view_of(session, caller, request)
        sqlite = session.get_bind().dialect.name == "sqlite"
    view.imports_list = caller.role in IMPORTERS
    now = deps.clock()
    # The figures' queries run side by side, each in its own session (a connection each: PostgreSQL and SQLite's
    # WAL readers work in parallel); those summing the current state's cells (one read of its counts) wait for it.
    cells = asyncio.ensure_future(read_cells(deps, view, today, now))

    # On SQLite at most as many connections as its pool keeps (5 with the cells'): more were opened and closed on
    # every dashboard, and two cores gain nothing from a tenth reader. Those with their own queries start first,
    # those summing the cells after, so that none holds a connection idle while the cells are read.
    slots = asyncio.Semaphore(SQLITE_READERS if sqlite else len(FIGURES))

    async def figures_of(build) -> list[Figure]:
        async with slots, deps.sessions() as session:
            made = await build(Counted(session, view, start, end, today, now, cells))
        return made if isinstance(made, list) else [made]

    builders = NATIONAL_FIGURES if view.national else FIGURES
    started = {build: asyncio.ensure_future(figures_of(build))
               for build in sorted(builders, key=lambda b: b not in OWN_QUERIES)}
    try:
        made = await asyncio.gather(*(started[build] for build in builders))
    finally:
        for task in (cells, *started.values()):
            if not task.done():
                task.cancel()
    return PilotageDashboardReply(scope=view.kind, label=view.label, period_from=start, period_to=end,
                                  figures=[f for figures in made for f in figures], structures=structures)


async def view_of(session: AsyncSession, caller: Caller, request: GetPilotageDashboardV1
                  ) -> tuple[View, list[Choice]]:
    """Who sees what: a structure admin one of her structures (another: not found), managers and orientation
    managers their territory or any structure of it, admin_cdb every territory or the one given."""
    if request.scope == PilotageScope.national and request.deployment_id is None:
        if caller.role != Role.admin_cdb:
            raise Forbidden(ONLY_NATIONAL)
        return View(q.PilotageScope(deployment_id=None), BeneficiaryFilters(), "National",
                    PilotageScope.national), []
    if caller.role == Role.admin_cdb:
        deployment_id = request.deployment_id
        if deployment_id is None and request.structure_id is not None:
            structure = await session.get(StructureRead, request.structure_id)
            deployment_id = structure.deployment_id if structure else None
        if deployment_id is None:
            raise Invalid(q.NO_TERRITORY, details={"field": "deployment_id"})
    else:
        deployment_id = caller.deployment_id
        if request.deployment_id is not None and request.deployment_id != deployment_id:
            raise NotFound(TERRITORY_NOT_FOUND)
    territory = await session.get(TerritoryRead, deployment_id)
    if territory is None and caller.role == Role.admin_cdb:
        raise NotFound(TERRITORY_NOT_FOUND)
    territory_label = f"Territoire {territory.label}" if territory else "Territoire"
    choices = (select(StructureRead.id, StructureRead.name).where(StructureRead.deployment_id == deployment_id)
               .order_by(StructureRead.name))
    if caller.role == Role.admin_structure:
        choices = choices.where(StructureRead.id.in_(caller.structure_ids or [uuid.uuid4()]))
    structures = [Choice(id=i, label=name) for i, name in (await session.execute(choices)).all()]
    structure_id = request.structure_id
    if caller.role == Role.admin_structure and structure_id is None:
        if not structures:
            raise NotFound(STRUCTURE_NOT_FOUND)
        structure_id = structures[0].id  # her dashboard is a structure's, never the territory's
    if structure_id is None and request.scope != PilotageScope.structure:
        return View(q.PilotageScope(deployment_id=deployment_id), BeneficiaryFilters(), territory_label,
                    PilotageScope.territory), structures
    chosen = next((s for s in structures if s.id == structure_id), None)
    if chosen is None:
        raise NotFound(STRUCTURE_NOT_FOUND)
    return View(q.PilotageScope(deployment_id=deployment_id, structure_ids=(chosen.id,)),
                BeneficiaryFilters(structure_ids=[chosen.id]), f"Structure {chosen.label}",
                PilotageScope.structure, chosen.id), structures


# --- Shared pieces -------------------------------------------------------------------------------------------

async def counted_by(session: AsyncSession, column, where: list) -> dict:
    return dict((await session.execute(select(column, func.count()).where(*where).group_by(column))).all())


async def structure_names(session: AsyncSession, ids) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict((await session.execute(select(StructureRead.id, StructureRead.name)
                                       .where(StructureRead.id.in_(ids)))).all())


async def territory_names(session: AsyncSession, ids) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict((await session.execute(select(TerritoryRead.id, TerritoryRead.label)
                                       .where(TerritoryRead.id.in_(ids)))).all())


def structure_label(structure_id, names: dict) -> str:
    return (names.get(structure_id) or "Structure inconnue") if structure_id else q.WITHOUT_STRUCTURE


def structure_drill(structure_id) -> dict:
    return {"structure_ids": [structure_id]} if structure_id else {"structure_ids": [], "without_structure": True}


def sorted_groups(keys, names: dict, label_of) -> list:
    """Groups in reading order: by name, "sans structure" last."""
    return sorted(keys, key=lambda k: (k is None, label_of(k, names).casefold(), str(k)))


# --- The current state, from its counts ------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """How many of the scope's notebooks share these facts (a row of ``pilotage_count_state``): the current-state
    figures are sums of cells, a few hundred for a 100,000-notebook territory."""

    deployment_id: uuid.UUID
    structure_id: uuid.UUID | None
    support: str
    subject: bool
    cer_state: str
    n: int


ENDING_STATES = (CerState.signed, CerState.validated)


def counts_scope(view: View, table) -> list:
    """The view's scope on a counts table: its territory, its structure (the month rows of a whole territory are
    ALL_STRUCTURES', summed already)."""
    where = []
    if view.scope.deployment_id is not None:
        where.append(table.deployment_id == view.scope.deployment_id)
    if view.scope.structure_ids is not None:
        where.append(table.structure_id.in_(view.scope.structure_ids))
    elif table is PilotageCountMonth:
        where.append(table.structure_id == ALL_STRUCTURES)
    return where


def structure_of(structure_id: uuid.UUID) -> uuid.UUID | None:
    return None if structure_id == NO_STRUCTURE else structure_id


async def cells_of(session: AsyncSession, view: View) -> list[Cell]:
    t = PilotageCountState
    rows = (await session.execute(select(t.deployment_id, t.structure_id, t.support, t.subject_to_right_and_duty,
                                         t.cer_state, t.n).where(*counts_scope(view, t)))).all()
    return [Cell(d, structure_of(s), support, bool(subject), cer, n) for d, s, support, subject, cer, n in rows]


async def day_sums(c: Counted, figure: str, *where, per_structure: bool = True) -> list:
    """(territory, structure or None, day, how many) of a dated figure's counts in the view's scope (structure
    always None unless ``per_structure``: the days summed over structures, a dozen times fewer rows)."""
    t = PilotageCountDay
    keys = (t.deployment_id, t.structure_id, t.day) if per_structure else (t.deployment_id, t.day)
    rows = (await c.session.execute(select(*keys, func.sum(t.n)).where(
        t.figure == figure, *where, *counts_scope(c.view, t)).group_by(*keys))).all()
    if not per_structure:
        return [(d, None, day, int(n)) for d, day, n in rows]
    return [(d, structure_of(s), day, int(n)) for d, s, day, n in rows]


async def request_ages(c: Counted) -> dict[tuple[uuid.UUID, int], int]:
    """{(territory, age bucket): open reorientation requests}, the age in Paris days as the list's
    reorientation_from/to filters count it: a request asked on Paris day d is in a bucket whose first day
    (today - high) is at most d, as ``since >= paris_midnight(today - high)`` in the list."""
    firsts = [c.today - timedelta(days=b.high) for b in rules.AGE_BUCKETS if b.high is not None]
    ages: dict = defaultdict(int)
    for deployment_id, _, day, n in await day_sums(c, "request", per_structure=False):
        ages[(deployment_id, next((i for i, first in enumerate(firsts) if day >= first), len(firsts)))] += n
    return dict(ages)


async def read_cells(deps: Deps, view: View, today: date, now: datetime) -> list[Cell]:
    async with deps.sessions() as session:
        return await cells_of(session, view)


@dataclass
class Counted:
    session: AsyncSession
    view: View
    start: date
    end: date
    today: date
    now: datetime
    cells_read: asyncio.Future  # of the current state's cells, read once for every figure

    async def cells(self) -> list[Cell]:
        return await asyncio.shield(self.cells_read)

    async def sum_by(self, key, keep=lambda c: True, weight=lambda c: c.n) -> dict:
        totals: dict = defaultdict(int)
        for cell in await self.cells():
            if keep(cell):
                totals[key(cell)] += weight(cell)
        return dict(totals)


# --- Territory and structure figures ---------------------------------------------------------------------------

async def support_over_time(c: Counted) -> Figure:
    """Beneficiaries by support status per month: past months from the daily snapshots (the month's last one),
    the current month live from the read model. The current month drills down to today's list of the status; a
    past month's state is not kept notebook by notebook (a snapshot holds counts only), so its points lead to the
    notebooks created that month (the period's days of it), as the figure's note says."""
    session, view = c.session, c.view
    months = rules.month_starts(c.start, c.end)
    current = c.today.replace(day=1)
    history: dict[tuple[date, str], int] = {}
    last_days: dict = {}
    past = [m for m in months if m < current]
    if past:
        s = PilotageSnapshot
        where = [s.day >= past[0], s.day <= min(rules.month_end(past[-1]), c.end)]
        if view.scope.deployment_id is not None:
            where.append(s.deployment_id == view.scope.deployment_id)
        # The days taken, territory-wide: a structure without beneficiaries that day has no row, yet was counted.
        taken = list(where)
        if view.scope.structure_ids is not None:
            where.append(s.structure_id.in_(view.scope.structure_ids))
        for day in (await session.execute(select(s.day).where(*taken).group_by(s.day))).scalars():
            month = day.replace(day=1)
            last_days[month] = max(last_days.get(month, day), day)
        if last_days:
            rows = (await session.execute(select(s.day, s.support, func.sum(s.count)).where(
                *where, s.day.in_(list(last_days.values()))).group_by(s.day, s.support))).all()
            for day, support, total in rows:
                history[(day.replace(day=1), support)] = int(total or 0)
    live = await c.sum_by(lambda cell: cell.support) if current in months else {}
    series = []
    for status, name in rules.SUPPORT_LABELS.items():
        points = []
        for month in months:
            if month == current:
                points.append(Point(label=rules.month_label(month), value=live.get(status, 0),
                                    drill=view.filters(support=[SupportStatus(status)])))
            elif month in last_days:
                points.append(Point(label=rules.month_label(month), value=history.get((month, status), 0),
                                    drill=view.filters(created_from=max(month, c.start),
                                                       created_to=min(rules.month_end(month), c.end)),
                                    drill_note=f"Carnets créés en {rules.month_label(month)}"))
            else:  # no snapshot that month (before the first one, the service stopped): unknown, not 0
                points.append(Point(label=rules.month_label(month), value=0, missing=True))
        series.append(Series(name=name, points=points))
    return Figure(key="accompagnement", title="Bénéficiaires par statut d'accompagnement", kind="line",
                  unit="bénéficiaires", series=series,
                  summary=f"Aujourd'hui : {rules.french_number(sum(live.values()))} bénéficiaires" if live else "",
                  note="Chaque mois passé est compté au dernier relevé quotidien du mois (« pas de relevé » : aucun "
                       "ce mois-là) et mène à la liste des carnets créés ce mois-là (l'état d'un mois passé n'est "
                       "pas gardé carnet par carnet) ; le mois en cours est compté en direct et mène à la liste "
                       "des bénéficiaires de ce statut aujourd'hui.")


async def month_sums(c: Counted, figure: str, *columns) -> list:
    """(*columns, how many) of a period figure's month counts, over the months the period covers whole."""
    whole, _ = rules.month_parts(c.start, c.end)
    if not whole:
        return []
    m = PilotageCountMonth
    return (await c.session.execute(select(*columns, func.sum(m.n)).where(
        m.figure == figure, m.month >= whole[0], m.month <= whole[-1], *counts_scope(c.view, m))
        .group_by(*columns))).all()


async def edge_rows(c: Counted, *columns) -> list:
    """(first day of the month, *columns, how many) of the notebooks created in the period's partial months (its
    first and last days), grouped from the read model's rows: a range of its creation index, days not months."""
    rows = []
    for first, low, high in rules.month_parts(c.start, c.end)[1]:
        rows += [(first, *row) for row in (await c.session.execute(select(*columns, func.count()).where(
            *c.view.where(created_from=low, created_to=high)).group_by(*columns))).all()]
    return rows


DELAY_FIGURES = {"orientation_days": "orientation", "cer_days": "cer"}


async def day_counts(c: Counted, days, by_territory: bool = False) -> dict:
    """{days from entry (``days``: the read model's column): how many} for the notebooks created in the period
    (per territory when asked), and how many have no such date yet (key None)."""
    m = PilotageCountMonth
    per: dict = defaultdict(lambda: defaultdict(int))
    for *key, value, n in await month_sums(c, DELAY_FIGURES[days.key],
                                           *((m.deployment_id,) if by_territory else ()), m.value):
        per[key[0] if by_territory else None][None if value == NO_DAYS else int(value)] += int(n)
    for _, *key, d, n in await edge_rows(c, *((P.deployment_id,) if by_territory else ()), days):
        per[key[0] if by_territory else None][None if d is None else int(d)] += n
    if by_territory:
        return {k: dict(v) for k, v in per.items()}
    return dict(per.get(None, {}))


async def delay(c: Counted, key: str, title: str, column, what: str) -> Figure:
    """Time from entry to ``column`` (first orientation, first CER), for notebooks created in the period; each
    bucket's list is those created in the period whose delay (``column``) falls in it."""
    counts = await day_counts(c, column)
    waiting = counts.pop(None, 0)
    totals = rules.bucket_counts(counts, rules.DELAY_BUCKETS)
    points = [Point(label=b.label, value=n, drill=c.view.filters(
        created_from=c.start, created_to=c.end, **{f"{column.key}_min": b.low, f"{column.key}_max": b.high}))
        for b, n in zip(rules.DELAY_BUCKETS, totals, strict=True)]
    return Figure(
        key=key, title=title, kind="histogram", unit="bénéficiaires",
        series=[Series(name="Bénéficiaires", points=points)],
        summary=rules.days_sentence("Médiane", rules.median_of_counts(counts)),
        note=f"Bénéficiaires entrés sur la période ; {rules.french_number(waiting)} sans {what} à ce jour, "
             "non comptés.")


async def orientation_delay(c: Counted) -> Figure:
    return await delay(c, "delai-orientation", "Délai entre l'entrée et la première orientation",
                       P.orientation_days, "orientation")


async def cer_delay(c: Counted) -> Figure:
    return await delay(c, "delai-cer", "Délai entre l'entrée et le premier CER", P.cer_days, "CER")


async def referent_load(c: Counted) -> list[Figure]:
    """Notebooks with an active référent, per structure and per professional (the 15 most loaded, then « Autres »)."""
    session, view = c.session, c.view
    accompanied = [SupportStatus.accompanied]
    followed = lambda cell: cell.support == SupportStatus.accompanied.value  # noqa: E731
    by_structure = await c.sum_by(lambda cell: cell.structure_id, followed)
    names = await structure_names(session, by_structure)
    structure_points = [Point(label=structure_label(k, names), value=by_structure[k],
                              drill=view.filters(support=accompanied, **structure_drill(k)))
                        for k in sorted_groups(by_structure, names, structure_label)]
    r = PilotageCountReferent
    by_referent = {k: int(n) for k, n in (await session.execute(select(r.referent_id, func.sum(r.n)).where(
        *counts_scope(view, r)).group_by(r.referent_id))).all()}
    people = dict((await session.execute(select(Person.id, Person.firstname + " " + Person.lastname).where(
        Person.id.in_(list(by_referent))))).all()) if by_referent else {}
    top, rest_keys, rest_total = rules.top_with_others(
        [(str(k), (people.get(k) or "Professionnel inconnu").strip(), n) for k, n in by_referent.items()])
    referent_points = [Point(label=label, value=n, drill=view.filters(support=accompanied,
                                                                       referent_ids=[uuid.UUID(key)]))
                       for key, label, n in top]
    if rest_total:
        # « Autres »: every référent but the most loaded, however many they are.
        referent_points.append(Point(label=rules.OTHERS, value=rest_total, drill=view.filters(
            support=accompanied, other_than_referent_ids=[uuid.UUID(key) for key, _, _ in top])))
    return [
        Figure(key="charge-structures", title="Bénéficiaires accompagnés par structure", kind="bar",
               unit="bénéficiaires", series=[Series(name="Accompagnés", points=structure_points)],
               note="Bénéficiaires ayant un référent, par structure qui les suit."),
        Figure(key="charge-referents", title="Bénéficiaires par référent", kind="bar", unit="bénéficiaires",
               series=[Series(name="Bénéficiaires", points=referent_points)],
               note=f"Les {rules.TOP_REFERENTS} référents les plus chargés, puis tous les autres ensemble."),
    ]


async def reorientations(c: Counted) -> Figure:
    """Open reorientation requests by age; each age's list is the requests asked on those days."""
    ages = await request_ages(c)
    rows = {index: sum(n for (_, i), n in ages.items() if i == index) for index in range(len(rules.AGE_BUCKETS))}
    total = sum(rows.values())
    return Figure(key="reorientations", title="Demandes de réorientation en attente, par ancienneté",
                  kind="histogram", unit="demandes",
                  series=[Series(name="Demandes", points=[Point(
                      label=b.label, value=rows.get(i, 0), drill=c.view.filters(
                          support=[SupportStatus.reorientation],
                          reorientation_from=c.today - timedelta(days=b.high) if b.high is not None else None,
                          reorientation_to=c.today - timedelta(days=b.low)))
                      for i, b in enumerate(rules.AGE_BUCKETS)])],
                  summary=f"{rules.french_number(total)} demande{'s' if total > 1 else ''} en attente",
                  note="Demandes sans décision à ce jour ; l'ancienneté compte en jours depuis la demande.")


async def cer_coverage(c: Counted) -> list[Figure]:
    """Among those subject to droits et devoirs, per structure: a CER signed or validated, a draft or submitted
    one, an ended one, none. « Sans CER » is exactly the list subject_to_right_and_duty & cer_states=none."""
    view, today = c.view, c.today
    counts: dict = defaultdict(lambda: defaultdict(int))
    for cell in await c.cells():
        if cell.subject:
            counts[cell.structure_id][cell.cer_state] += cell.n
    names = await structure_names(c.session, counts)
    keys = sorted_groups(counts, names, structure_label)
    series = [Series(name=name, points=[Point(
        label=structure_label(k, names), value=sum(counts[k].get(s, 0) for s in states),
        drill=view.filters(subject_to_right_and_duty=True, cer_states=[CerState(s) for s in states],
                           **structure_drill(k))) for k in keys]) for name, states in rules.CER_GROUPS]
    without = sum(p.value for p in series[-1].points)
    until = today + timedelta(days=30)
    # Signed or validated CER by end date: the list's cer_end_from/to, day by day.
    ending: dict = defaultdict(int)
    for _, structure_id, _, n in await day_sums(c, "cer_end", PilotageCountDay.day >= today,
                                                PilotageCountDay.day <= until):
        ending[structure_id] += n
    ending_names = {**names, **await structure_names(c.session, set(ending) - set(names))}
    ending_points = [Point(label=structure_label(k, ending_names), value=ending[k], drill=view.filters(
        cer_states=list(ENDING_STATES), cer_end_from=today, cer_end_to=until, **structure_drill(k)))
        for k in sorted_groups(ending, ending_names, structure_label)]
    return [
        Figure(key="couverture-cer", title="CER des bénéficiaires soumis aux droits et devoirs, par structure",
               kind="stacked", unit="bénéficiaires", series=series,
               summary=f"{rules.french_number(without)} bénéficiaire{'s' if without > 1 else ''} soumis aux "
                       "droits et devoirs sans CER",
               note="État du CER en cours (le dernier non renouvelé) ; « Sans CER » : jamais de CER."),
        Figure(key="cer-fin-30-jours", title="CER se terminant dans les 30 jours, par structure", kind="bar",
               unit="bénéficiaires", series=[Series(name="CER", points=ending_points)],
               summary=f"{rules.french_number(sum(ending.values()))} CER se terminent d'ici le "
                       f"{until.strftime('%d/%m/%Y')}",
               note="CER signés ou validés dont la date de fin tombe dans les 30 prochains jours."),
    ]


async def actions(c: Counted) -> Figure:
    """Actions created in the period, by theme and status: counts of actions, not of beneficiaries, so each cell
    drills down to the actions' list (QueryActionsV1: same theme, status, Paris days and structure)."""
    a, m = PilotageAction, PilotageCountMonth
    by_theme: dict = defaultdict(lambda: defaultdict(int))
    for theme, status, n in await month_sums(c, "action", m.value, m.status):
        by_theme[theme][status] += int(n)
    # The period's partial months from the actions themselves, by the Paris days of their creation.
    for _, low, high in rules.month_parts(c.start, c.end)[1]:
        where = [a.created_at >= q.paris_midnight(low), a.created_at < q.paris_midnight(high + timedelta(days=1))]
        if c.view.scope.deployment_id is not None:
            where.append(a.deployment_id == c.view.scope.deployment_id)
        if c.view.scope.structure_ids is not None:
            where.append(a.structure_id.in_(c.view.scope.structure_ids))
        for theme, status, n in (await c.session.execute(select(a.theme, a.status, func.count()).where(*where)
                                                         .group_by(a.theme, a.status))).all():
            by_theme[theme][status] += n
    themes = dict((await c.session.execute(select(RefTheme.name, RefTheme.label))).all())
    ordered = sorted(by_theme, key=lambda t: (-sum(by_theme[t].values()), themes.get(t, t)))
    statuses = [s for s in rules.ACTION_STATUS_LABELS if any(s in by_theme[t] for t in by_theme)]
    series = [Series(name=rules.ACTION_STATUS_LABELS[s], points=[
        Point(label=themes.get(t, t), value=by_theme[t].get(s, 0), drill_list="actions",
              drill=c.view.filters(themes=[t], action_statuses=[s], created_from=c.start, created_to=c.end))
        for t in ordered]) for s in statuses]
    total = sum(n for statuses in by_theme.values() for n in statuses.values())
    plural = "s" if total > 1 else ""
    return Figure(key="actions", title="Actions par thème et statut", kind="stacked", unit="actions",
                  series=series, summary=f"{rules.french_number(total)} action{plural} créée{plural} sur la période",
                  note="Actions des plans d'action créées sur la période, selon leur statut d'aujourd'hui.")


async def arrivals(c: Counted) -> Figure:
    """Notebooks created per month by origin; each month is a created_from/created_to drill-down (Paris days)."""
    months = rules.month_starts(c.start, c.end)
    index = {first: i for i, first in enumerate(months)}
    m = PilotageCountMonth
    counts: dict = defaultdict(int)
    for first, origin, n in [*await month_sums(c, "origin", m.month, m.value), *await edge_rows(c, P.origin)]:
        counts[(index[first], origin)] += int(n)
    series = []
    for origin in Origin:
        points = [Point(label=rules.month_label(first), value=counts.get((i, origin.value), 0),
                        drill=c.view.filters(origins=[origin], created_from=max(first, c.start),
                                             created_to=min(rules.month_end(first), c.end)))
                  for i, first in enumerate(months)]
        if any(p.value for p in points):
            series.append(Series(name=rules.ORIGIN_LABELS[origin.value], points=points))
    total = sum(counts.values())
    plural = "s" if total > 1 else ""
    return Figure(key="arrivees", title="Carnets créés par mois et par provenance", kind="stacked",
                  unit="carnets", series=series,
                  summary=f"{rules.french_number(total)} carnet{plural} créé{plural} sur la période",
                  note="Provenance : import de fichier, flux CAF/MSA ou France Travail, logiciel partenaire, "
                       "saisie manuelle.")


# --- Imports et flux: the imports and partners' flux ended in the period (pilotage_import) -------------------

async def import_sums(c: Counted, *keys) -> list:
    """(*keys, state, imports, rows created, updated, rejected) of the imports ended on the period's Paris days in
    the view's scope (a structure's: those opened for it), grouped by ``keys``."""
    i = PilotageImport
    where = [i.day >= c.start, i.day <= c.end]
    if c.view.scope.deployment_id is not None:
        where.append(i.deployment_id == c.view.scope.deployment_id)
    else:
        where.append(i.deployment_id.is_not(None))
    if c.view.scope.structure_ids is not None:
        where.append(i.structure_id.in_(c.view.scope.structure_ids))
    return (await c.session.execute(select(*keys, i.state, func.count(), func.sum(i.created), func.sum(i.updated),
                                           func.sum(i.rejected)).where(*where).group_by(*keys, i.state))).all()


def import_point(c: Counted, label: str, value: int, kind: str) -> Point:
    """A point of « Imports et flux »: its drill-down is the imports' page of that kind, when it lists the
    caller's scope (the page lists every month, hence the note)."""
    if not c.view.imports_list:
        return Point(label=label, value=value)
    return Point(label=label, value=value, drill_list="imports", drill_import_kind=ImportKind(kind),
                 drill_note=f"Imports « {rules.IMPORT_KIND_LABELS.get(kind, kind)} » de votre périmètre")


def ordered_kinds(kinds) -> list[str]:
    return [k.value for k in ImportKind if k.value in kinds]


async def imports_and_flux(c: Counted) -> list[Figure]:
    """The imports done per month and kind, and their rows created, updated and rejected per kind, over the period
    (failed imports in the summary)."""
    months = rules.month_starts(c.start, c.end)
    done: dict = defaultdict(int)
    rows: dict = defaultdict(lambda: defaultdict(int))
    failed = 0
    for day, kind, state, n, created, updated, rejected in await import_sums(
            c, PilotageImport.day, PilotageImport.kind):
        if state != ImportState.done.value:
            failed += n
            continue
        done[(day.replace(day=1), kind)] += n
        for outcome, count in (("created", created), ("updated", updated), ("rejected", rejected)):
            rows[kind][outcome] += int(count or 0)
    kinds = ordered_kinds({kind for _, kind in done})
    total = sum(done.values())
    summary = (f"{rules.french_number(total)} import{'s' if total > 1 else ''} terminé{'s' if total > 1 else ''} "
               "sur la période")
    if failed:
        summary += f", {rules.french_number(failed)} en échec"
    imports = Figure(
        key="imports", title="Imports et flux terminés, par mois et par type", kind="stacked", unit="imports",
        series=[Series(name=rules.IMPORT_KIND_LABELS.get(kind, kind), points=[
            import_point(c, rules.month_label(first), done.get((first, kind), 0), kind) for first in months])
            for kind in kinds],
        summary=summary,
        note="Imports de fichiers et flux des partenaires (CAF/MSA, France Travail) terminés sur la période, au mois "
             "de leur fin ; ceux en échec ne sont pas comptés.")
    lines = {outcome: sum(rows[kind][outcome] for kind in kinds) for outcome in rules.IMPORT_OUTCOME_LABELS}
    outcomes = Figure(
        key="imports-lignes", title="Lignes des imports et flux, par type", kind="stacked", unit="lignes",
        series=[Series(name=name, points=[
            import_point(c, rules.IMPORT_KIND_LABELS.get(kind, kind), rows[kind][outcome], kind) for kind in kinds])
            for outcome, name in rules.IMPORT_OUTCOME_LABELS.items()],
        summary="Lignes : " + ", ".join(
            f"{rules.french_number(lines[o])} {name.lower() if lines[o] > 1 else rules.IMPORT_OUTCOME_ONE[o]}"
            for o, name in rules.IMPORT_OUTCOME_LABELS.items()),
        note="Lignes des imports terminés sur la période : créées, mises à jour, ou rejetées (conflit ou erreur, "
             "non appliquées) ; les lignes inchangées ou exclues ne sont pas comptées.")
    return [imports, outcomes]


FIGURES = (support_over_time, orientation_delay, cer_delay, referent_load, reorientations, cer_coverage, actions,
           arrivals, imports_and_flux)
SQLITE_READERS = 4


# --- National figures: territories side by side ---------------------------------------------------------------

async def territories(c: Counted, keys) -> tuple[list, dict]:
    names = await territory_names(c.session, keys)
    return sorted(keys, key=lambda k: ((names.get(k) or "").casefold(), str(k))), names


def territory_label(key, names: dict) -> str:
    return names.get(key) or "Territoire inconnu"


async def national_support(c: Counted) -> Figure:
    counts: dict = defaultdict(lambda: defaultdict(int))
    for cell in await c.cells():
        counts[cell.deployment_id][cell.support] += cell.n
    keys, names = await territories(c, counts)
    series = [Series(name=label, points=[Point(
        label=territory_label(k, names), value=counts[k].get(status, 0),
        drill=c.view.filters(support=[SupportStatus(status)]), drill_deployment_id=k) for k in keys])
        for status, label in rules.SUPPORT_LABELS.items()]
    return Figure(key="territoires-accompagnement", title="Bénéficiaires par territoire et statut d'accompagnement",
                  kind="stacked", unit="bénéficiaires", series=series, note="État d'aujourd'hui.")


async def national_cer(c: Counted) -> Figure:
    counts: dict = defaultdict(lambda: defaultdict(int))
    for cell in await c.cells():
        if cell.subject:
            counts[cell.deployment_id][cell.cer_state] += cell.n
    keys, names = await territories(c, counts)
    series = [Series(name=name, points=[Point(
        label=territory_label(k, names), value=sum(counts[k].get(s, 0) for s in states),
        drill=c.view.filters(subject_to_right_and_duty=True, cer_states=[CerState(s) for s in states]),
        drill_deployment_id=k) for k in keys]) for name, states in rules.CER_GROUPS]
    return Figure(key="territoires-cer", title="CER des bénéficiaires soumis aux droits et devoirs, par territoire",
                  kind="stacked", unit="bénéficiaires", series=series)


async def national_reorientations(c: Counted) -> Figure:
    counts: dict = defaultdict(int)
    for (deployment_id, _), n in (await request_ages(c)).items():
        counts[deployment_id] += n
    keys, names = await territories(c, counts)
    points = [Point(label=territory_label(k, names), value=counts[k],
                    drill=c.view.filters(support=[SupportStatus.reorientation]), drill_deployment_id=k)
              for k in keys]
    return Figure(key="territoires-reorientations", title="Demandes de réorientation en attente, par territoire",
                  kind="bar", unit="demandes", series=[Series(name="Demandes", points=points)])


async def national_delays(c: Counted) -> Figure:
    """The median delays of each territory (no list behind a median)."""
    medians = []
    for name, column in (("Première orientation", P.orientation_days), ("Premier CER", P.cer_days)):
        per = await day_counts(c, column, by_territory=True)
        medians.append((name, {k: rules.median_of_counts({d: n for d, n in v.items() if d is not None})
                               for k, v in per.items()}))
    keys, names = await territories(c, {k for _, values in medians for k in values})
    return Figure(key="territoires-delais", title="Délai médian jusqu'à la première orientation et au premier CER",
                  kind="bar", unit="jours", series=[Series(name=name, points=[
                      Point(label=territory_label(k, names), value=values.get(k) or 0) for k in keys])
                      for name, values in medians],
                  note="Médiane en jours, bénéficiaires entrés sur la période.")


async def national_arrivals(c: Counted) -> Figure:
    m = PilotageCountMonth
    counts: dict = defaultdict(lambda: defaultdict(int))
    for territory, origin, n in await month_sums(c, "origin", m.deployment_id, m.value):
        counts[territory][origin] += int(n)
    for _, territory, origin, n in await edge_rows(c, P.deployment_id, P.origin):
        counts[territory][origin] += n
    keys, names = await territories(c, counts)
    series = [Series(name=rules.ORIGIN_LABELS[o.value], points=[Point(
        label=territory_label(k, names), value=counts[k].get(o.value, 0),
        drill=c.view.filters(origins=[o], created_from=c.start, created_to=c.end), drill_deployment_id=k)
        for k in keys]) for o in Origin if any(o.value in v for v in counts.values())]
    return Figure(key="territoires-arrivees", title="Carnets créés sur la période, par territoire et provenance",
                  kind="stacked", unit="carnets", series=series)


async def national_imports(c: Counted) -> Figure:
    """The imports done in the period, per territory and kind (no list: the imports' page is a territory's)."""
    counts: dict = defaultdict(lambda: defaultdict(int))
    for territory, kind, state, n, *_ in await import_sums(c, PilotageImport.deployment_id, PilotageImport.kind):
        if state == ImportState.done.value:
            counts[territory][kind] += n
    keys, names = await territories(c, counts)
    kinds = ordered_kinds({kind for per in counts.values() for kind in per})
    return Figure(key="territoires-imports", title="Imports et flux terminés sur la période, par territoire et type",
                  kind="stacked", unit="imports", series=[Series(name=rules.IMPORT_KIND_LABELS.get(kind, kind), points=[
                      Point(label=territory_label(k, names), value=counts[k].get(kind, 0)) for k in keys])
                      for kind in kinds])


NATIONAL_FIGURES = (national_support, national_cer, national_reorientations, national_delays, national_arrivals,
                    national_imports)
# The figures reading their own queries (the period's, the requests'), not the cells of the current state.
OWN_QUERIES = (arrivals, actions, orientation_delay, cer_delay, reorientations, national_delays, national_arrivals,
               national_reorientations, imports_and_flux, national_imports)
