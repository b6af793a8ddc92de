"""The dashboards (issue 18): a territory's, one structure's, or national (admin_cdb: territories side by side),
over a period. Served from the pilotage read model only (``pilotage_notebook``, ``pilotage_action``,
``pilotage_snapshot``, and the directory's read models for names), a few GROUP BY queries each.

Every point that has a list behind it carries its ``drill`` filters, and is counted with the very conditions
(``pilotage_query.conditions``) that the beneficiaries' list applies to those filters: the number on the chart is
the number of rows the list (and its export) shows.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
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
from notebook.adapters.orm import (
    Person,
    PilotageAction,
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


class View:
    """What a dashboard counts: its rows (``scope``), the filters every drill-down adds (a structure's), and by
    what the "per structure" figures group (structures, or territories for the national one)."""

    def __init__(self, scope: q.PilotageScope, base: BeneficiaryFilters, label: str, kind: PilotageScope,
                 structure_id: uuid.UUID | None = None):
        self.scope, self.base, self.label, self.kind, self.structure_id = scope, base, label, kind, structure_id

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
        builders = NATIONAL_FIGURES if view.national else FIGURES
        figures = []
        for build in builders:
            made = await build(session, view, start, end, today, deps.clock())
            figures.extend(made if isinstance(made, list) else [made])
        return PilotageDashboardReply(scope=view.kind, label=view.label, period_from=start, period_to=end,
                                      figures=figures, structures=structures)


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


def days_between(session: AsyncSession, later, earlier):
    """Whole days between two instants, in SQL (the delays are grouped per day count, then bucketed here)."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return cast(func.floor(func.extract("epoch", later - earlier) / 86400), Integer)


# --- Territory and structure figures ---------------------------------------------------------------------------

async def support_over_time(session, view: View, start: date, end: date, today: date, now: datetime) -> Figure:
    """Beneficiaries by support status per month: past months from the daily snapshots (the month's last one),
    the current month live from the read model (and only it drills down: the list shows today's state)."""
    months = rules.month_starts(start, end)
    current = today.replace(day=1)
    statuses = list(rules.SUPPORT_LABELS)
    history: dict[tuple[date, str], int] = {}
    past = [m for m in months if m < current]
    if past:
        s = PilotageSnapshot
        where = [s.day >= past[0], s.day <= min(rules.month_end(past[-1]), end)]
        if view.scope.deployment_id is not None:
            where.append(s.deployment_id == view.scope.deployment_id)
        if view.structure_id is not None:
            where.append(s.structure_id == view.structure_id)
        elif view.scope.structure_ids is not None:
            where.append(s.structure_id.in_(view.scope.structure_ids))
        last_days = {}
        for day in (await session.execute(select(s.day).where(*where).group_by(s.day))).scalars():
            month = day.replace(day=1)
            last_days[month] = max(last_days.get(month, day), day)
        if last_days:
            rows = (await session.execute(select(s.day, s.support, func.sum(s.count)).where(
                *where, s.day.in_(list(last_days.values()))).group_by(s.day, s.support))).all()
            for day, support, total in rows:
                history[(day.replace(day=1), support)] = int(total or 0)
    live = await counted_by(session, P.support, view.where()) if current in months else {}
    series = []
    for status in statuses:
        points = []
        for month in months:
            if month == current:
                points.append(Point(label=rules.month_label(month), value=live.get(status, 0),
                                    drill=view.filters(support=[SupportStatus(status)])))
            else:
                points.append(Point(label=rules.month_label(month), value=history.get((month, status), 0)))
        series.append(Series(name=rules.SUPPORT_LABELS[status], points=points))
    total_now = sum(live.values())
    return Figure(key="accompagnement", title="Bénéficiaires par statut d'accompagnement", kind="line",
                  unit="bénéficiaires", series=series,
                  summary=f"Aujourd'hui : {rules.french_number(total_now)} bénéficiaires" if live else "",
                  note="Chaque mois passé est compté au dernier relevé quotidien du mois ; le mois en cours est "
                       "compté en direct et mène à la liste.")


async def delays(session, view: View, start: date, end: date, today: date, now: datetime) -> list[Figure]:
    """Time from entry to first orientation and to first CER, for notebooks created in the period."""
    cohort = view.where(created_from=start, created_to=end)
    figures = []
    for key, title, column, what in (
            ("delai-orientation", "Délai entre l'entrée et la première orientation", P.first_oriented_at,
             "orientation"),
            ("delai-cer", "Délai entre l'entrée et le premier CER", P.first_cer_at, "CER")):
        days = days_between(session, column, P.created_at)
        counts = {int(d): n for d, n in (await session.execute(select(days, func.count()).where(
            *cohort, column.is_not(None)).group_by(days))).all()}
        waiting = await session.scalar(select(func.count()).select_from(P).where(*cohort, column.is_(None))) or 0
        totals = rules.bucket_counts(counts, rules.DELAY_BUCKETS)
        median = rules.median_of_counts(counts)
        figures.append(Figure(
            key=key, title=title, kind="histogram", unit="bénéficiaires",
            series=[Series(name="Bénéficiaires", points=[Point(label=b.label, value=n)
                                                         for b, n in zip(rules.DELAY_BUCKETS, totals, strict=True)])],
            summary=rules.days_sentence("Médiane", median),
            note=f"Bénéficiaires entrés sur la période ; {rules.french_number(waiting)} sans {what} à ce jour, "
                 "non comptés."))
    return figures


async def referent_load(session, view: View, start: date, end: date, today: date, now: datetime) -> list[Figure]:
    """Notebooks with an active référent, per structure and per professional (the 15 most loaded, then « Autres »)."""
    followed = view.where(support=[SupportStatus.accompanied])
    by_structure = await counted_by(session, P.structure_id, followed)
    names = await structure_names(session, by_structure)
    structure_points = [Point(label=structure_label(k, names), value=by_structure[k],
                              drill=view.filters(support=[SupportStatus.accompanied], **structure_drill(k)))
                        for k in sorted_groups(by_structure, names, structure_label)]
    by_referent = await counted_by(session, P.referent_id, followed)
    people = dict((await session.execute(select(Person.id, Person.firstname + " " + Person.lastname).where(
        Person.id.in_([k for k in by_referent if k])))).all()) if by_referent else {}
    top, rest_keys, rest_total = rules.top_with_others(
        [(str(k), (people.get(k) or "Professionnel inconnu").strip(), n) for k, n in by_referent.items() if k])
    referent_points = [Point(label=label, value=n, drill=view.filters(support=[SupportStatus.accompanied],
                                                                       referent_ids=[uuid.UUID(key)]))
                       for key, label, n in top]
    if rest_total:
        referent_points.append(Point(label=rules.OTHERS, value=rest_total, drill=view.filters(
            support=[SupportStatus.accompanied], referent_ids=[uuid.UUID(k) for k in rest_keys])
            if len(rest_keys) <= 50 else None))
    return [
        Figure(key="charge-structures", title="Bénéficiaires accompagnés par structure", kind="bar",
               unit="bénéficiaires", series=[Series(name="Accompagnés", points=structure_points)],
               note="Bénéficiaires ayant un référent, par structure qui les suit."),
        Figure(key="charge-referents", title="Bénéficiaires par référent", kind="bar", unit="bénéficiaires",
               series=[Series(name="Bénéficiaires", points=referent_points)],
               note=f"Les {rules.TOP_REFERENTS} référents les plus chargés, puis tous les autres ensemble."),
    ]


async def reorientations(session, view: View, start: date, end: date, today: date, now: datetime) -> Figure:
    """Open reorientation requests by age: CASE over instants computed here, the same on both databases."""
    bounds = [now - timedelta(days=b.high + 1) for b in rules.AGE_BUCKETS if b.high is not None]
    since = P.pending_reorientation_since
    bucket = case(*((since > bound, index) for index, bound in enumerate(bounds)), else_=len(bounds))
    rows = dict((await session.execute(select(bucket, func.count()).where(
        *view.where(support=[SupportStatus.reorientation])).group_by(bucket))).all())
    total = sum(rows.values())
    return Figure(key="reorientations", title="Demandes de réorientation en attente, par ancienneté",
                  kind="histogram", unit="demandes",
                  series=[Series(name="Demandes", points=[Point(label=b.label, value=rows.get(i, 0))
                                                          for i, b in enumerate(rules.AGE_BUCKETS)])],
                  summary=f"{rules.french_number(total)} demande{'s' if total > 1 else ''} en attente",
                  note="Demandes sans décision à ce jour ; l'ancienneté compte depuis la demande. La liste des "
                       "bénéficiaires concernés : statut « En réorientation ».")


async def cer_coverage(session, view: View, start: date, end: date, today: date, now: datetime) -> list[Figure]:
    """Among those subject to droits et devoirs, per structure: a CER signed or validated, a draft or submitted
    one, an ended one, none. « Sans CER » is exactly the list subject_to_right_and_duty & cer_states=none."""
    subject = view.where(subject_to_right_and_duty=True)
    rows = (await session.execute(select(P.structure_id, P.cer_state, func.count()).where(*subject)
                                  .group_by(P.structure_id, P.cer_state))).all()
    counts: dict = {}
    for structure_id, state, n in rows:
        counts.setdefault(structure_id, {})[state] = n
    names = await structure_names(session, counts)
    keys = sorted_groups(counts, names, structure_label)
    series = [Series(name=name, points=[Point(
        label=structure_label(k, names), value=sum(counts[k].get(s, 0) for s in states),
        drill=view.filters(subject_to_right_and_duty=True, cer_states=[CerState(s) for s in states],
                           **structure_drill(k))) for k in keys]) for name, states in rules.CER_GROUPS]
    without = sum(p.value for p in series[-1].points)
    ending_states = [CerState.signed, CerState.validated]
    ending = await counted_by(session, P.structure_id, view.where(
        cer_states=ending_states, cer_end_from=today, cer_end_to=today + timedelta(days=30)))
    ending_names = await structure_names(session, ending)
    ending_points = [Point(label=structure_label(k, ending_names), value=ending[k], drill=view.filters(
        cer_states=ending_states, cer_end_from=today, cer_end_to=today + timedelta(days=30), **structure_drill(k)))
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
                       f"{(today + timedelta(days=30)).strftime('%d/%m/%Y')}",
               note="CER signés ou validés dont la date de fin tombe dans les 30 prochains jours."),
    ]


async def actions(session, view: View, start: date, end: date, today: date, now: datetime) -> Figure:
    """Actions created in the period, by theme and status (counts of actions, not of beneficiaries: no list)."""
    a = PilotageAction
    where = [a.created_at >= q.paris_midnight(start), a.created_at < q.paris_midnight(end + timedelta(days=1))]
    if view.scope.deployment_id is not None:
        where.append(a.deployment_id == view.scope.deployment_id)
    if view.structure_id is not None:
        where.append(a.structure_id == view.structure_id)
    rows = (await session.execute(select(a.theme, a.status, func.count()).where(*where)
                                  .group_by(a.theme, a.status))).all()
    themes = dict((await session.execute(select(RefTheme.name, RefTheme.label))).all())
    by_theme: dict = {}
    for theme, status, n in rows:
        by_theme.setdefault(theme, {})[status] = n
    ordered = sorted(by_theme, key=lambda t: (-sum(by_theme[t].values()), themes.get(t, t)))
    statuses = [s for s in rules.ACTION_STATUS_LABELS if any(s in by_theme[t] for t in by_theme)]
    series = [Series(name=rules.ACTION_STATUS_LABELS[s], points=[
        Point(label=themes.get(t, t), value=by_theme[t].get(s, 0)) for t in ordered]) for s in statuses]
    total = sum(n for _, _, n in rows)
    return Figure(key="actions", title="Actions par thème et statut", kind="stacked", unit="actions",
                  series=series, summary=f"{rules.french_number(total)} action{'s' if total > 1 else ''} "
                                         "créée" + ("s" if total > 1 else "") + " sur la période",
                  note="Actions des plans d'action créées sur la période, selon leur statut d'aujourd'hui.")


async def arrivals(session, view: View, start: date, end: date, today: date, now: datetime) -> Figure:
    """Notebooks created per month by origin; each month is a created_from/created_to drill-down (Paris days),
    counted with one CASE over the months' first instants."""
    months = rules.month_starts(start, end)
    bounds = [q.paris_midnight(max(m, start)) for m in months[1:]]
    month = case(*((P.created_at < bound, index) for index, bound in enumerate(bounds)), else_=len(bounds)) \
        if bounds else 0
    rows = (await session.execute(select(month, P.origin, func.count()).where(
        *view.where(created_from=start, created_to=end)).group_by(month, P.origin))).all()
    counts = {(int(i), origin): n for i, origin, n in rows}
    series = []
    for origin in Origin:
        points = []
        for i, first in enumerate(months):
            low, high = max(first, start), min(rules.month_end(first), end)
            points.append(Point(label=rules.month_label(first), value=counts.get((i, origin.value), 0),
                                drill=view.filters(origins=[origin], created_from=low, created_to=high)))
        if any(p.value for p in points):
            series.append(Series(name=rules.ORIGIN_LABELS[origin.value], points=points))
    total = sum(counts.values())
    return Figure(key="arrivees", title="Carnets créés par mois et par provenance", kind="stacked",
                  unit="carnets", series=series,
                  summary=f"{rules.french_number(total)} carnet{'s' if total > 1 else ''} créé"
                          + ("s" if total > 1 else "") + " sur la période",
                  note="Provenance : import de fichier, flux CAF/MSA ou France Travail, logiciel partenaire, "
                       "saisie manuelle.")


FIGURES = (support_over_time, delays, referent_load, reorientations, cer_coverage, actions, arrivals)


# --- National figures: territories side by side ---------------------------------------------------------------

async def national_support(session, view: View, start, end, today, now) -> Figure:
    rows = (await session.execute(select(P.deployment_id, P.support, func.count()).where(*view.where())
                                  .group_by(P.deployment_id, P.support))).all()
    counts: dict = {}
    for territory, support, n in rows:
        counts.setdefault(territory, {})[support] = n
    names = await territory_names(session, counts)
    keys = sorted(counts, key=lambda k: (names.get(k) or "").casefold())
    series = [Series(name=label, points=[Point(
        label=names.get(k) or "Territoire inconnu", value=counts[k].get(status, 0),
        drill=view.filters(support=[SupportStatus(status)]), drill_deployment_id=k) for k in keys])
        for status, label in rules.SUPPORT_LABELS.items()]
    return Figure(key="territoires-accompagnement", title="Bénéficiaires par territoire et statut d'accompagnement",
                  kind="stacked", unit="bénéficiaires", series=series, note="État d'aujourd'hui.")


async def national_cer(session, view: View, start, end, today, now) -> Figure:
    rows = (await session.execute(select(P.deployment_id, P.cer_state, func.count()).where(
        *view.where(subject_to_right_and_duty=True)).group_by(P.deployment_id, P.cer_state))).all()
    counts: dict = {}
    for territory, state, n in rows:
        counts.setdefault(territory, {})[state] = n
    names = await territory_names(session, counts)
    keys = sorted(counts, key=lambda k: (names.get(k) or "").casefold())
    series = [Series(name=name, points=[Point(
        label=names.get(k) or "Territoire inconnu", value=sum(counts[k].get(s, 0) for s in states),
        drill=view.filters(subject_to_right_and_duty=True, cer_states=[CerState(s) for s in states]),
        drill_deployment_id=k) for k in keys]) for name, states in rules.CER_GROUPS]
    return Figure(key="territoires-cer", title="CER des bénéficiaires soumis aux droits et devoirs, par territoire",
                  kind="stacked", unit="bénéficiaires", series=series)


async def national_arrivals(session, view: View, start, end, today, now) -> Figure:
    rows = (await session.execute(select(P.deployment_id, P.origin, func.count()).where(
        *view.where(created_from=start, created_to=end)).group_by(P.deployment_id, P.origin))).all()
    counts: dict = {}
    for territory, origin, n in rows:
        counts.setdefault(territory, {})[origin] = n
    names = await territory_names(session, counts)
    keys = sorted(counts, key=lambda k: (names.get(k) or "").casefold())
    series = [Series(name=rules.ORIGIN_LABELS[o.value], points=[Point(
        label=names.get(k) or "Territoire inconnu", value=counts[k].get(o.value, 0),
        drill=view.filters(origins=[o], created_from=start, created_to=end), drill_deployment_id=k)
        for k in keys]) for o in Origin if any(o.value in c for c in counts.values())]
    return Figure(key="territoires-arrivees", title="Carnets créés sur la période, par territoire et provenance",
                  kind="stacked", unit="carnets", series=series)


async def national_reorientations(session, view: View, start, end, today, now) -> Figure:
    counts = await counted_by(session, P.deployment_id, view.where(support=[SupportStatus.reorientation]))
    names = await territory_names(session, counts)
    points = [Point(label=names.get(k) or "Territoire inconnu", value=n,
                    drill=view.filters(support=[SupportStatus.reorientation]), drill_deployment_id=k)
              for k, n in sorted(counts.items(), key=lambda item: (names.get(item[0]) or "").casefold())]
    return Figure(key="territoires-reorientations", title="Demandes de réorientation en attente, par territoire",
                  kind="bar", unit="demandes", series=[Series(name="Demandes", points=points)])


async def national_delays(session, view: View, start, end, today, now) -> Figure:
    """The median delays of each territory (no list behind a median)."""
    cohort = view.where(created_from=start, created_to=end)
    series = []
    for name, column in (("Première orientation", P.first_oriented_at), ("Premier CER", P.first_cer_at)):
        days = days_between(session, column, P.created_at)
        rows = (await session.execute(select(P.deployment_id, days, func.count()).where(
            *cohort, column.is_not(None)).group_by(P.deployment_id, days))).all()
        per: dict = {}
        for territory, d, n in rows:
            per.setdefault(territory, {})[int(d)] = n
        series.append((name, {k: rules.median_of_counts(v) for k, v in per.items()}))
    names = await territory_names(session, {k for _, medians in series for k in medians})
    keys = sorted(names, key=lambda k: (names.get(k) or "").casefold())
    return Figure(key="territoires-delais", title="Délai médian jusqu'à la première orientation et au premier CER",
                  kind="bar", unit="jours", series=[Series(name=name, points=[
                      Point(label=names.get(k) or "Territoire inconnu", value=medians.get(k) or 0) for k in keys])
                      for name, medians in series],
                  note="Médiane en jours, bénéficiaires entrés sur la période.")


NATIONAL_FIGURES = (national_support, national_cer, national_reorientations, national_delays, national_arrivals)

