"""The notebook page's sections read the plain way, ORM rows and a query for each lookup: the reference that the
fast readers of ``notebook.handlers.page`` must equal (tests/e2e/test_notebook_page_exact.py), and what the
single-process FastAPI + SQLAlchemy baseline of bench/notebook_page.py reads (bench/page_baseline.py). Not used by
the service."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.notebook import (
    ActionView,
    AppointmentView,
    DiagnosticView,
    FieldChange,
    FocusView,
    GetNotebookPageV1,
    MemberView,
    PersonRef,
    ProjectView,
    SituationView,
    StructureLinkView,
    TargetView,
    TimelineEntry,
    VisitView,
)
from notebook.adapters.orm import (
    Action,
    Appointment,
    BeneficiaryStructure,
    Focus,
    Member,
    Notebook,
    NotebookSituation,
    NotebookVisit,
    Person,
    ProfessionalProject,
    RefSituation,
    RefTheme,
    StructureRead,
    Target,
    TimelineEvent,
)
from notebook.domain.history import shown_changes
from notebook.handlers.diagnostic import WORK_FIELDS
from notebook.handlers.read_models import orientation_system_names, structure_names


async def people_refs(session: AsyncSession, person_ids: set[uuid.UUID]) -> dict[uuid.UUID, PersonRef]:
    if not person_ids:
        return {}
    people = (await session.execute(select(Person).where(Person.id.in_(person_ids)))).scalars().all()
    names = await structure_names(session, {p.structure_id for p in people})
    refs = {p.id: PersonRef(person_id=p.id, firstname=p.firstname, lastname=p.lastname, email=p.email, phone=p.phone,
                            structure_name=names.get(p.structure_id, "")) for p in people}
    return {pid: refs.get(pid) or PersonRef(person_id=pid, firstname="", lastname="Professionnel inconnu")
            for pid in person_ids}


async def members_of(session: AsyncSession, notebook: Notebook) -> list[MemberView]:
    members = (await session.execute(select(Member).where(Member.notebook_id == notebook.id)
                                     .order_by(Member.ended_at.is_not(None), Member.started_at))).scalars().all()
    refs = await people_refs(session, {m.person_id for m in members})
    systems = await orientation_system_names(session, {m.orientation_system_id for m in members})
    last_appointments = dict((await session.execute(
        select(Appointment.person_id, func.max(Appointment.at)).where(
            Appointment.notebook_id == notebook.id, Appointment.status != "cancelled")
        .group_by(Appointment.person_id))).all())
    return [MemberView(member_id=m.id, person=refs[m.person_id], member_type=m.member_type,
                       orientation_system_name=systems.get(m.orientation_system_id, ""), started_at=m.started_at,
                       ended_at=m.ended_at, end_reason=m.end_reason, last_contact_at=m.last_contact_at,
                       last_appointment_at=last_appointments.get(m.person_id) if m.ended_at is None else None)
            for m in members]


async def structures_of(session: AsyncSession, notebook: Notebook) -> list[StructureLinkView]:
    rows = (await session.execute(
        select(BeneficiaryStructure, StructureRead.name).join(
            StructureRead, StructureRead.id == BeneficiaryStructure.structure_id, isouter=True)
        .where(BeneficiaryStructure.notebook_id == notebook.id)
        .order_by(BeneficiaryStructure.status, BeneficiaryStructure.started_at.desc()))).all()
    return [StructureLinkView(structure_id=link.structure_id, name=name or "Structure inconnue", status=link.status,
                              started_at=link.started_at, ended_at=link.ended_at) for link, name in rows]


async def parcours_of(session: AsyncSession, notebook: Notebook,
                      labels: dict[str, str] | None = None) -> list[FocusView]:
    """``labels``: the themes' French labels, when the caller holds them (the referentials)."""
    focuses = (await session.execute(select(Focus).where(Focus.notebook_id == notebook.id, Focus.deleted_at.is_(None))
                                     .order_by(Focus.created_at, Focus.id))).scalars().all()
    if not focuses:
        return []
    targets = (await session.execute(select(Target).where(
        Target.focus_id.in_([f.id for f in focuses]), Target.deleted_at.is_(None))
        .order_by(Target.created_at, Target.id))).scalars().all()
    actions = (await session.execute(select(Action).where(
        Action.target_id.in_([t.id for t in targets]), Action.deleted_at.is_(None))
        .order_by(Action.created_at, Action.id))).scalars().all() if targets else []
    if labels is None:
        labels = dict((await session.execute(select(RefTheme.name, RefTheme.label))).all())
    actions_by_target: dict[uuid.UUID, list[ActionView]] = {}
    for a in actions:
        actions_by_target.setdefault(a.target_id, []).append(ActionView(
            action_id=a.id, action=a.action, status=a.status, starting_at=a.starting_at, created_at=a.created_at,
            created_by_name=a.created_by_name, version=a.version))
    targets_by_focus: dict[uuid.UUID, list[TargetView]] = {}
    for t in targets:
        targets_by_focus.setdefault(t.focus_id, []).append(TargetView(
            target_id=t.id, target=t.target, status=t.status, linked_to=t.linked_to, user_consent=t.user_consent,
            created_at=t.created_at, created_by_name=t.created_by_name, version=t.version,
            actions=actions_by_target.get(t.id, [])))
    return [FocusView(focus_id=f.id, theme=f.theme, theme_label=labels.get(f.theme, f.theme), created_at=f.created_at,
                      created_by_name=f.created_by_name, targets=targets_by_focus.get(f.id, [])) for f in focuses]


async def appointments_of(session: AsyncSession, notebook: Notebook) -> list[AppointmentView]:
    rows = (await session.execute(select(Appointment).where(Appointment.notebook_id == notebook.id)
                                  .order_by(Appointment.at.desc(), Appointment.id.desc()))).scalars().all()
    refs = await people_refs(session, {a.person_id for a in rows})
    return [AppointmentView(appointment_id=a.id, person=refs[a.person_id], at=a.at, status=a.status,
                            version=a.version) for a in rows]


async def timeline_of(session: AsyncSession, notebook: Notebook, request: GetNotebookPageV1,
                      limit: int) -> list[TimelineEntry]:
    query = select(TimelineEvent).where(TimelineEvent.notebook_id == notebook.id, TimelineEvent.hidden.is_(False))
    if request.timeline_kind:
        query = query.where(TimelineEvent.kind == request.timeline_kind)
    if request.timeline_author_id:
        query = query.where(TimelineEvent.author_id == request.timeline_author_id)
    rows = (await session.execute(query.order_by(TimelineEvent.occurred_at.desc()).limit(limit))).scalars()
    return [TimelineEntry(entry_id=e.id, occurred_at=e.occurred_at, kind=e.kind, summary=e.summary,
                          author_id=e.author_id, author_name=e.author_name, source=e.source,
                          redacted=e.redacted_at is not None,
                          changes=[FieldChange(field=field, before=before, after=after)
                                   for field, before, after in shown_changes(e.changes)]) for e in rows]


async def visits_of(session: AsyncSession, notebook: Notebook, limit: int) -> list[VisitView]:
    rows = (await session.execute(select(NotebookVisit).where(NotebookVisit.notebook_id == notebook.id)
                                  .order_by(NotebookVisit.last_visited_at.desc()).limit(limit))).scalars()
    return [VisitView(person_name=v.person_name, role=v.role, structure_name=v.structure_name,
                      visited_at=v.visited_at, last_visited_at=v.last_visited_at, views=v.views) for v in rows]


async def diagnostic_view(session: AsyncSession, notebook: Notebook) -> DiagnosticView:
    situations = (await session.execute(
        select(NotebookSituation, RefSituation).join(RefSituation, RefSituation.id == NotebookSituation.situation_id)
        .where(NotebookSituation.notebook_id == notebook.id, NotebookSituation.deleted_at.is_(None))
        .order_by(RefSituation.theme, RefSituation.description))).all()
    projects = (await session.execute(select(ProfessionalProject).where(
        ProfessionalProject.notebook_id == notebook.id).order_by(ProfessionalProject.updated_at))).scalars().all()
    return DiagnosticView(
        **{name: getattr(notebook, name) for name in WORK_FIELDS},
        situations=[SituationView(situation_id=ref.id, theme=ref.theme, description=ref.description,
                                  added_at=row.created_at, added_by_name=row.created_by_name)
                    for row, ref in situations],
        projects=[ProjectView(project_id=p.id, rome_code=p.rome_code, mobility_radius_km=p.mobility_radius_km,
                              hourly_rate_cents=p.hourly_rate_cents, contract_type=p.contract_type,
                              employment_type=p.employment_type, updated_at=p.updated_at,
                              updated_by_name=p.updated_by_name) for p in projects],
        version=notebook.diagnostic_version, updated_at=notebook.diagnostic_updated_at,
        updated_by_name=notebook.diagnostic_updated_by_name)
