"""Queries on the pilotage read model (``pilotage_notebook``): who may see which rows (``scope_of``), the filter
builder's conditions, a page of the list, its count and breakdown by structure, and a flat-memory iteration for
the exports. Only the read model and the directory's read models (names) are read, never the write tables, except
the member index for a professional's own notebooks."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, false, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from contracts.identity import Role
from contracts.notebook import RightRsa, SupportStatus
from contracts.pilotage import BeneficiaryFact, BeneficiaryFilters, CerState, Count, Origin
from notebook.adapters.orm import (
    Member,
    OrientationSystemRead,
    Person,
    PilotageAction,
    PilotageNotebook,
    StructureRead,
)
from servicekit.errors import Forbidden, Invalid

PARIS = ZoneInfo("Europe/Paris")
NOT_ALLOWED = "Le pilotage n'est pas accessible avec votre profil."
OTHER_TERRITORY = "Vous ne pouvez consulter que votre territoire."
NO_TERRITORY = "Précisez le territoire concerné."
WITHOUT_STRUCTURE = "Sans structure"
TERRITORY_ROLES = (Role.manager, Role.orientation_manager)
ACTION_FILTERS = frozenset({"structure_ids", "without_structure", "themes", "action_statuses", "created_from",
                            "created_to"})
ACTION_STATUS_ELSEWHERE = "Le statut d'une action filtre la liste des actions, pas celle des bénéficiaires."
ACTION_FILTERS_ONLY = ("La liste des actions se filtre par structure, thème, statut et date de création "
                       "seulement.")


@dataclass(frozen=True)
class PilotageScope:
    """The rows a caller may see: a territory (None: every one, admin_cdb only), narrowed to some structures
    (a structure admin) or to the notebooks of which a person is an active member (a professional)."""

    deployment_id: uuid.UUID | None
    structure_ids: tuple | None = None
    member_id: uuid.UUID | None = None


def scope_of(caller, deployment_id: uuid.UUID | None = None) -> PilotageScope:
    """``caller``: notebook.handlers.caller.Caller (role, deployment_id, profile_id, structure_ids)."""
    if caller.role == Role.admin_cdb:
        return PilotageScope(deployment_id=deployment_id)
    if caller.role not in (*TERRITORY_ROLES, Role.admin_structure, Role.professional):
        raise Forbidden(NOT_ALLOWED)
    if caller.deployment_id is None:
        raise Invalid(NO_TERRITORY, details={"field": "deployment_id"})
    if deployment_id is not None and deployment_id != caller.deployment_id:
        raise Forbidden(OTHER_TERRITORY)
    if caller.role in TERRITORY_ROLES:
        return PilotageScope(deployment_id=caller.deployment_id)
    if caller.role == Role.admin_structure:
        # Sorted: the same caller gives the same scope (and the same cache keys, SQL, plans).
        return PilotageScope(deployment_id=caller.deployment_id,
                             structure_ids=tuple(sorted(caller.structure_ids, key=str)))
    if caller.profile_id is None:
        raise Forbidden(NOT_ALLOWED)
    return PilotageScope(deployment_id=caller.deployment_id, member_id=caller.profile_id)


def paris_midnight(day: date) -> datetime:
    """The instant a Paris day starts: services count days in Paris time."""
    return datetime.combine(day, time(), PARIS).astimezone(UTC)


def scope_conditions(scope: PilotageScope, rows=PilotageNotebook) -> list:
    """The caller's scope on a read model's rows (PilotageNotebook or PilotageAction: both carry the territory, the
    structure and the notebook)."""
    where = []
    if scope.deployment_id is not None:
        where.append(rows.deployment_id == scope.deployment_id)
    if scope.structure_ids is not None:
        # A structure admin without structure sees nothing (an empty IN would too, with a warning).
        where.append(rows.structure_id.in_(scope.structure_ids) if scope.structure_ids else false())
    if scope.member_id is not None:
        where.append(exists().where(Member.notebook_id == rows.notebook_id, Member.person_id == scope.member_id,
                                    Member.ended_at.is_(None)))
    return where


def structure_condition(filters: BeneficiaryFilters, rows=PilotageNotebook) -> list:
    """The structures chosen, « sans structure » among them: one condition (OR within), or none."""
    if not (filters.structure_ids or filters.without_structure):
        return []
    choices = [rows.structure_id.in_(filters.structure_ids)] if filters.structure_ids else []
    if filters.without_structure:
        choices.append(rows.structure_id.is_(None))
    return [or_(*choices)]


def conditions(filters: BeneficiaryFilters, scope: PilotageScope) -> list:
    """SQLAlchemy conditions on PilotageNotebook: the scope, then every filled field (OR within, AND between)."""
    p = PilotageNotebook
    if filters.action_statuses:  # the actions' list's filter: on beneficiaries it would silently list them all
        raise Invalid(ACTION_STATUS_ELSEWHERE, details={"field": "action_statuses"})
    where = scope_conditions(scope) + structure_condition(filters)
    if filters.referent_ids:
        where.append(p.referent_id.in_(filters.referent_ids))
    if filters.orientation_system_ids:
        where.append(p.orientation_system_id.in_(filters.orientation_system_ids))
    support = [s for s in filters.support if s != SupportStatus.all]
    if support:
        choices = [p.support.in_([s.value for s in support if s != SupportStatus.reorientation])]
        if SupportStatus.reorientation in support:
            choices.append(p.pending_reorientation_since.is_not(None))
        where.append(or_(*choices))
    if filters.rsa_rights:
        where.append(p.rsa_right.in_([r.value for r in filters.rsa_rights]))
    if filters.subject_to_right_and_duty is not None:
        where.append(p.subject_to_right_and_duty.is_(filters.subject_to_right_and_duty))
    if filters.cer_states:
        where.append(p.cer_state.in_([s.value for s in filters.cer_states]))
    if filters.cer_end_from:
        where.append(p.cer_end_date >= filters.cer_end_from)
    if filters.cer_end_to:
        where.append(p.cer_end_date <= filters.cer_end_to)
    # Days of activity and creation are Paris days, the "to" day included.
    if filters.last_activity_from:
        where.append(p.last_activity_at >= paris_midnight(filters.last_activity_from))
    if filters.last_activity_to:
        where.append(p.last_activity_at < paris_midnight(filters.last_activity_to + timedelta(days=1)))
    if filters.created_from:
        where.append(p.created_at >= paris_midnight(filters.created_from))
    if filters.created_to:
        where.append(p.created_at < paris_midnight(filters.created_to + timedelta(days=1)))
    if filters.themes:
        where.append(or_(*(p.themes.contains(f"|{code}|", autoescape=True) for code in filters.themes)))
    if filters.origins:
        where.append(p.origin.in_([o.value for o in filters.origins]))
    # A pending reorientation request asked on these Paris days (NULL, none pending, never matches).
    if filters.reorientation_from:
        where.append(p.pending_reorientation_since >= paris_midnight(filters.reorientation_from))
    if filters.reorientation_to:
        where.append(p.pending_reorientation_since < paris_midnight(filters.reorientation_to + timedelta(days=1)))
    # Days from entry to the first orientation / CER (NULL, none yet, never matches a bound): a delay figure's
    # bucket. A negative delay (a date typed before the entry) is a 0-day one, as the figure counts it.
    for column, low, high in ((p.orientation_days, filters.orientation_days_min, filters.orientation_days_max),
                              (p.cer_days, filters.cer_days_min, filters.cer_days_max)):
        if low:
            where.append(column >= low)
        elif low == 0:
            where.append(column.is_not(None))
        if high is not None:
            where.append(column <= high)
    if filters.other_than_referent_ids:
        where.append(p.referent_id.is_not(None))
        where.append(p.referent_id.not_in(filters.other_than_referent_ids))
    return where


def action_conditions(filters: BeneficiaryFilters, scope: PilotageScope) -> list:
    """Conditions on PilotageAction (the actions' list, the dashboards' « actions par thème et statut »): the
    scope of their notebooks, the notebook's structure, the action's theme, status and Paris days of creation.
    Another filter of the beneficiaries' list would not mean anything here: refused, nothing listed."""
    a = PilotageAction
    other = [f for f in BeneficiaryFilters.model_fields
             if f not in ACTION_FILTERS and getattr(filters, f) is not None and getattr(filters, f) != []]
    if other:
        raise Invalid(ACTION_FILTERS_ONLY, details={"field": other[0]})
    where = scope_conditions(scope, a) + structure_condition(filters, a)
    if filters.themes:
        where.append(a.theme.in_(filters.themes))
    if filters.action_statuses:
        where.append(a.status.in_(filters.action_statuses))
    if filters.created_from:
        where.append(a.created_at >= paris_midnight(filters.created_from))
    if filters.created_to:
        where.append(a.created_at < paris_midnight(filters.created_to + timedelta(days=1)))
    return where


REFERENT_NAME = (Person.firstname + " " + Person.lastname).label("referent_name")
ORIENTATION_MANAGER = aliased(Person, name="orientation_manager")
ORIENTATION_MANAGER_NAME = (ORIENTATION_MANAGER.firstname + " " + ORIENTATION_MANAGER.lastname).label(
    "orientation_manager_name")


def facts_query(filters: BeneficiaryFilters, scope: PilotageScope):
    """The rows with the current names of their structure, référent, chargé d'orientation and orientation system
    (renames show)."""
    p = PilotageNotebook
    return (select(p, StructureRead.name.label("structure_name"), REFERENT_NAME, ORIENTATION_MANAGER_NAME,
                   OrientationSystemRead.name.label("orientation_system_name"))
            .outerjoin(StructureRead, StructureRead.id == p.structure_id)
            .outerjoin(Person, Person.id == p.referent_id)
            .outerjoin(ORIENTATION_MANAGER, ORIENTATION_MANAGER.id == p.orientation_manager_id)
            .outerjoin(OrientationSystemRead, OrientationSystemRead.id == p.orientation_system_id)
            .where(*conditions(filters, scope))
            .order_by(p.lastname, p.firstname, p.notebook_id))


def themes_of(text: str) -> list[str]:
    return [code for code in (text or "").split("|") if code]


def themes_text(codes) -> str:
    """"|a|b|" (sorted, unique), so that one theme is matched by LIKE '%|a|%'; "" without theme."""
    codes = sorted({c for c in codes if c})
    return "|" + "|".join(codes) + "|" if codes else ""


def fact_of(row) -> BeneficiaryFact:
    n: PilotageNotebook = row[0]
    return BeneficiaryFact(
        notebook_id=n.notebook_id, deployment_id=n.deployment_id, lastname=n.lastname, firstname=n.firstname,
        date_of_birth=n.date_of_birth, structure_id=n.structure_id, structure_name=row.structure_name or "",
        referent_id=n.referent_id, referent_name=(row.referent_name or "").strip(),
        orientation_manager_id=n.orientation_manager_id,
        orientation_manager_name=(row.orientation_manager_name or "").strip(),
        orientation_system_id=n.orientation_system_id, orientation_system_name=row.orientation_system_name or "",
        support=SupportStatus(n.support), rsa_right=RightRsa(n.rsa_right) if n.rsa_right in RSA_VALUES else None,
        subject_to_right_and_duty=bool(n.subject_to_right_and_duty), cer_state=CerState(n.cer_state),
        cer_end_date=n.cer_end_date, last_activity_at=n.last_activity_at, created_at=n.created_at,
        first_oriented_at=n.first_oriented_at, first_cer_at=n.first_cer_at, origin=Origin(n.origin),
        themes=themes_of(n.themes), pending_reorientation_since=n.pending_reorientation_since)


RSA_VALUES = {r.value for r in RightRsa}


async def count(session: AsyncSession, filters: BeneficiaryFilters, scope: PilotageScope) -> int:
    return await session.scalar(select(func.count()).select_from(PilotageNotebook)
                                .where(*conditions(filters, scope))) or 0


async def page(session: AsyncSession, filters: BeneficiaryFilters, scope: PilotageScope, offset: int,
               limit: int) -> list[BeneficiaryFact]:
    rows = (await session.execute(facts_query(filters, scope).offset(offset).limit(limit))).all()
    return [fact_of(r) for r in rows]


async def iterate(session_factory: async_sessionmaker, filters: BeneficiaryFilters, scope: PilotageScope,
                  batch: int = 1000) -> AsyncIterator[BeneficiaryFact]:
    """Every row, in the list's order, ``batch`` at a time: keyset pagination (no OFFSET to skip over) and one
    short session per batch, so that a 100,000-row export holds one batch in memory and no long transaction."""
    p = PilotageNotebook
    after = None
    while True:
        query = facts_query(filters, scope)
        if after is not None:
            query = query.where(tuple_(p.lastname, p.firstname, p.notebook_id) > tuple_(*after))
        async with session_factory() as session:
            rows = (await session.execute(query.limit(batch))).all()
        for row in rows:
            yield fact_of(row)
        if len(rows) < batch:
            return
        last = rows[-1][0]
        after = (last.lastname, last.firstname, last.notebook_id)


async def by_structure(session: AsyncSession, filters: BeneficiaryFilters, scope: PilotageScope) -> list[Count]:
    """The filtered list counted per following structure (those without one last), most followed first."""
    p = PilotageNotebook
    counted = (select(p.structure_id, func.count().label("n")).where(*conditions(filters, scope))
               .group_by(p.structure_id).subquery())
    rows = (await session.execute(
        select(counted.c.structure_id, StructureRead.name, counted.c.n)
        .outerjoin(StructureRead, StructureRead.id == counted.c.structure_id))).all()
    counts = [Count(key=str(structure_id) if structure_id else "",
                    label=(name or "Structure inconnue") if structure_id else WITHOUT_STRUCTURE, count=n)
              for structure_id, name, n in rows]
    return sorted(counts, key=lambda c: (c.key == "", -c.count, c.label))
