"""The notebook page in one call, answered from the notebook database alone; opening it is logged."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.notebook import (
    Access,
    ActionView,
    AppointmentView,
    FieldChange,
    FocusView,
    GetNotebookPageV1,
    MemberView,
    NotebookPage,
    OrientationChoice,
    PersonRef,
    StructureLinkView,
    TargetView,
    TimelineEntry,
    VisitView,
)
from notebook.adapters.orm import (
    Action,
    Appointment,
    Beneficiary,
    BeneficiaryStructure,
    Focus,
    Member,
    Notebook,
    NotebookVisit,
    OrientationSystemRead,
    Person,
    RefTheme,
    StructureRead,
    Target,
    TimelineEvent,
)
from notebook.domain.habilitation import Operation, allowed_operations, hidden_fields, may
from notebook.domain.history import shown_changes
from notebook.adapters import audit_trail
from notebook.handlers.beneficiaries import view_of, withhold
from notebook.handlers.caller import Caller, active_member, caller_of, name_of, open_notebook
from notebook.handlers.deps import Deps
from notebook.handlers.bilans import bilan_summaries
from notebook.handlers.contracts import contract_summaries, today_of
from notebook.handlers.diagnostic import diagnostic_view
from notebook.handlers.france_travail import refresh_if_stale, section_of
from notebook.handlers.import_caf_msa import last_flux_date
from notebook.handlers.orientation import orientation_options, request_view
from notebook.handlers.read_models import orientation_system_names, structure_names
from notebook.handlers.referentials import referentials_of


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
                                     .order_by(Focus.created_at))).scalars().all()
    if not focuses:
        return []
    targets = (await session.execute(select(Target).where(
        Target.focus_id.in_([f.id for f in focuses]), Target.deleted_at.is_(None)).order_by(Target.created_at)
    )).scalars().all()
    actions = (await session.execute(select(Action).where(
        Action.target_id.in_([t.id for t in targets]), Action.deleted_at.is_(None)).order_by(Action.created_at)
    )).scalars().all() if targets else []
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
                                  .order_by(Appointment.at.desc()))).scalars().all()
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


async def visitor(session: AsyncSession, caller: Caller, notebook: Notebook) -> dict | None:
    """Who views the notebook, for the access log, read with the page; None for the beneficiary."""
    if caller.role == Role.beneficiary:
        return None
    person = await session.get(Person, caller.profile_id) if caller.profile_id else None
    structure = await session.get(StructureRead, person.structure_id) if person and person.structure_id else None
    member = await active_member(session, notebook.id, caller.profile_id)
    return {"member_id": member.id if member else None,
            "audit": audit_trail.read(caller, notebook.id, notebook.deployment_id), "who": dict(
        notebook_id=notebook.id, account_id=caller.account_id, person_id=caller.profile_id, role=caller.role.value,
        person_name=await name_of(session, caller), structure_name=structure.name if structure else "")}


async def log_visit(deps: Deps, visit: dict | None) -> None:
    """Every view by someone other than the beneficiary goes to the access log they can read (a line a day), and
    to the audit trail. Written after the read, in group commit with the views arriving meanwhile (``VisitLog``):
    a write transaction on SQLite holds the write lock from its BEGIN, and pages must not be read one at a time."""
    if visit is not None:
        await deps.visit_log.record({**visit, "at": deps.clock()})


async def options_for(session: AsyncSession, caller: Caller, relations, notebook: Notebook):
    """The orientation form's choices for who may orient; the orientation systems for a référent's request."""
    if may(caller.role, relations, Operation.orient):
        return await orientation_options(session, notebook)
    if may(caller.role, relations, Operation.request_reorientation):
        member = await active_member(session, notebook.id, caller.profile_id)
        if member is not None and member.member_type == "referent":
            return await orientation_options(session, notebook, systems_only=True)
    return None


async def get_page(request: GetNotebookPageV1, ctx, deps: Deps) -> NotebookPage:
    caller = await caller_of(ctx, deps)
    referentials = await referentials_of(deps)
    # Read, then log the visit in a transaction of its own: a write transaction takes SQLite's write lock at
    # BEGIN (servicekit.db), and pages must not be read one at a time.
    async with deps.sessions() as session:
        notebook, relations = await open_notebook(session, caller, request.notebook_id, Operation.view_public)
        full = may(caller.role, relations, Operation.view_full)
        beneficiary = view_of(await session.get(Beneficiary, notebook.beneficiary_id), deps)
        beneficiary = withhold(beneficiary, hidden_fields(caller.role, relations))
        system = await session.get(OrientationSystemRead, notebook.orientation_system_id) \
            if notebook.orientation_system_id else None
        my_systems = []
        if caller.role in (Role.professional, Role.orientation_manager) and caller.profile_id:
            person = await session.get(Person, caller.profile_id)
            held = [uuid.UUID(str(s)) for s in (person.orientation_system_ids if person else [])]
            my_systems = [OrientationChoice(orientation_system_id=s.id, name=s.name) for s in (await session.execute(
                select(OrientationSystemRead).where(OrientationSystemRead.id.in_(held))
                .order_by(OrientationSystemRead.name))).scalars()] if held else []
        page = NotebookPage(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id,
            access=Access.full if full else Access.public, beneficiary=beneficiary,
            members=await members_of(session, notebook), structures=await structures_of(session, notebook),
            orientation_system_name=system.name if system else "",
            diagnostic=await diagnostic_view(session, notebook) if full else None,
            focuses=await parcours_of(session, notebook, referentials.themes) if full else [],
            appointments=await appointments_of(session, notebook) if full else [],
            timeline=await timeline_of(session, notebook, request, deps.settings.page_timeline_limit) if full else [],
            visits=await visits_of(session, notebook, deps.settings.page_visits_limit)
            if may(caller.role, relations, Operation.view_access_log) else [],
            allowed=allowed_operations(caller.role, relations), my_orientation_systems=my_systems,
            orientation_reason=notebook.orientation_reason if full else "",
            oriented_at=notebook.oriented_at, oriented_by_name=notebook.oriented_by_name,
            orientation_request=await request_view(session, notebook.id) if full else None,
            orientation_options=await options_for(session, caller, relations, notebook),
            france_travail=await section_of(session, deps, notebook) if full else None,
            rsa_flux_date=await last_flux_date(session, notebook.beneficiary_id)
            if "right_rsa" not in beneficiary.withheld else None,
            contracts=await contract_summaries(session, notebook, today_of(deps))
            if may(caller.role, relations, Operation.view_contracts) else [],
            bilans=await bilan_summaries(session, notebook) if may(caller.role, relations, Operation.view_bilans)
            else [], referentials_version=referentials.version)
        visit = await visitor(session, caller, notebook)
    await log_visit(deps, visit)
    # Data older than an hour is asked of France Travail after the page is served: the next view shows it.
    refresh_if_stale(deps, notebook.id, page.france_travail)
    return page
