"""The notebook page in one call, answered from the notebook database alone; opening it is logged."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

from sqlalchemy import and_, bindparam, exists, func, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.notebook import (
    Access,
    ActionView,
    AppointmentView,
    FocusView,
    GetNotebookPageV1,
    MemberView,
    NotebookPage,
    OrientationChoice,
    PersonRef,
    StructureLinkView,
    TargetView,
    VisitView,
)
from notebook.adapters.orm import (
    Action,
    Appointment,
    Beneficiary,
    BeneficiaryStructure,
    Bilan,
    Contract,
    ExternalData,
    Focus,
    Member,
    Notebook,
    NotebookVisit,
    OrientationRequest,
    OrientationSystemRead,
    Person,
    RefTheme,
    StructureRead,
    Target,
    TimelineEvent,
    first_structure,
)
from notebook.domain.habilitation import GRANTS, Operation, allowed_operations, hidden_fields, may
from notebook.domain.history import shown_changes
from notebook.handlers.beneficiaries import view_of, withhold
from notebook.handlers.caller import Caller, caller_of, opened
from notebook.handlers.deps import Deps
from notebook.handlers.bilans import bilan_summaries
from notebook.handlers.contracts import contract_summaries, today_of
from notebook.handlers.diagnostic import diagnostic_view
from notebook.handlers.france_travail import refresh_if_stale, section_of
from notebook.handlers.import_caf_msa import SOURCE as CAF_MSA
from notebook.handlers.orientation import request_view, territory_orientation_options
from notebook.handlers.referentials import referentials_of
from notebook.handlers.visits import log_visit, visitor


UNKNOWN_PERSON = "Professionnel inconnu"
PERSON_COLUMNS = (Person.id.label("p_id"), Person.firstname.label("p_firstname"), Person.lastname.label("p_lastname"),
                  Person.email.label("p_email"), Person.phone.label("p_phone"),
                  Person.structure_ids.label("p_structure_ids"))
# The page's readers select columns (Core rows, no ORM objects) and join what the reference readers
# (notebook.handlers.page_reference) look up one query at a time: on SQLite each statement is several thread hops.
# Their statements are built once, with bound parameters: building a select's expressions and its cache key on
# every read cost the page a quarter of its time in the service.
NOTEBOOK_ID = bindparam("notebook_id")
MEMBER_ROWS = (
    select(Member.id, Member.person_id, Member.member_type, Member.started_at, Member.ended_at, Member.end_reason,
           Member.last_contact_at, OrientationSystemRead.name.label("system_name"), *PERSON_COLUMNS)
    .outerjoin(Person, Person.id == Member.person_id)
    .outerjoin(OrientationSystemRead, OrientationSystemRead.id == Member.orientation_system_id)
    .where(Member.notebook_id == NOTEBOOK_ID).order_by(Member.ended_at.is_not(None), Member.started_at))
APPOINTMENT_ROWS = (
    select(Appointment.id, Appointment.person_id, Appointment.at, Appointment.status, Appointment.version,
           *PERSON_COLUMNS)
    .outerjoin(Person, Person.id == Appointment.person_id)
    .where(Appointment.notebook_id == NOTEBOOK_ID)
    .order_by(Appointment.at.desc(), Appointment.id.desc()))  # the id: a fixed order where a limit cuts
# Every upcoming appointment and the latest past ones, one more than asked to tell whether there are more: the first
# rows of APPOINTMENT_ROWS (latest first), as many as the page shows.
LATEST_PAST = (select(Appointment.id)
               .where(Appointment.notebook_id == NOTEBOOK_ID, Appointment.at < bindparam("now"))
               .order_by(Appointment.at.desc(), Appointment.id.desc()).limit(bindparam("limit")))
LIMITED_APPOINTMENT_ROWS = APPOINTMENT_ROWS.where(or_(Appointment.at >= bindparam("now"),
                                                      Appointment.id.in_(LATEST_PAST.scalar_subquery())))
LAST_APPOINTMENTS = (
    select(Appointment.person_id, func.max(Appointment.at))
    .where(Appointment.notebook_id == NOTEBOOK_ID, Appointment.status != "cancelled").group_by(Appointment.person_id))
STRUCTURE_NAMES = select(StructureRead.id, StructureRead.name).where(
    StructureRead.id.in_(bindparam("structure_ids", expanding=True)))
STRUCTURE_LINKS = (
    select(BeneficiaryStructure.structure_id, BeneficiaryStructure.status, BeneficiaryStructure.started_at,
           BeneficiaryStructure.ended_at, StructureRead.name)
    .outerjoin(StructureRead, StructureRead.id == BeneficiaryStructure.structure_id)
    .where(BeneficiaryStructure.notebook_id == NOTEBOOK_ID)
    .order_by(BeneficiaryStructure.status, BeneficiaryStructure.started_at.desc()))
PARCOURS_ROWS = (
    select(Focus.id, Focus.theme, Focus.created_at, Focus.created_by_name,
           Target.id.label("t_id"), Target.target, Target.status.label("t_status"), Target.linked_to,
           Target.user_consent, Target.created_at.label("t_created_at"),
           Target.created_by_name.label("t_created_by_name"), Target.version.label("t_version"),
           Action.id.label("a_id"), Action.action, Action.status.label("a_status"), Action.starting_at,
           Action.created_at.label("a_created_at"), Action.created_by_name.label("a_created_by_name"),
           Action.version.label("a_version"))
    .outerjoin(Target, and_(Target.focus_id == Focus.id, Target.deleted_at.is_(None)))
    .outerjoin(Action, and_(Action.target_id == Target.id, Action.deleted_at.is_(None)))
    .where(Focus.notebook_id == NOTEBOOK_ID, Focus.deleted_at.is_(None))
    .order_by(Focus.created_at, Focus.id, Target.created_at, Target.id, Action.created_at, Action.id))
TIMELINE_ROWS = select(TimelineEvent.id, TimelineEvent.occurred_at, TimelineEvent.kind, TimelineEvent.summary,
                       TimelineEvent.author_id, TimelineEvent.author_name, TimelineEvent.source,
                       TimelineEvent.redacted_at, TimelineEvent.changes).where(
    TimelineEvent.notebook_id == NOTEBOOK_ID, TimelineEvent.hidden.is_(False))
TIMELINE = {  # by the filters asked: kind, author
    (kind, author): (TIMELINE_ROWS.where(TimelineEvent.kind == bindparam("kind")) if kind else TIMELINE_ROWS)
    .where(*([TimelineEvent.author_id == bindparam("author_id")] if author else []))
    .order_by(TimelineEvent.occurred_at.desc()).limit(bindparam("limit"))
    for kind in (False, True) for author in (False, True)}
VISIT_ROWS = (
    select(NotebookVisit.person_name, NotebookVisit.role, NotebookVisit.structure_name, NotebookVisit.visited_at,
           NotebookVisit.last_visited_at, NotebookVisit.views)
    .where(NotebookVisit.notebook_id == NOTEBOOK_ID)
    .order_by(NotebookVisit.last_visited_at.desc()).limit(bindparam("limit")))
# The page's first statement: the notebook (its columns under their names, as the ORM object's attributes), its
# beneficiary (b_ columns), its orientation system's name, the caller's person (PERSON_COLUMNS; none for a
# beneficiary or a caller without profile: person_id None matches no row), the CAF/MSA flux date, and whether the
# sections often empty have rows at all: their own statements are skipped when not. Five statements in one; the
# ORM's loading of the notebook and the beneficiary cost more than their statements.
BENEFICIARY_KEYS = tuple(attribute.key for attribute in inspect(Beneficiary).column_attrs)
NOTEBOOK_ROW = (
    select(*(getattr(Notebook, attribute.key).label(attribute.key) for attribute in inspect(Notebook).column_attrs),
           *(getattr(Beneficiary, key).label(f"b_{key}") for key in BENEFICIARY_KEYS),
           OrientationSystemRead.name.label("system_name"), *PERSON_COLUMNS,
           Person.orientation_system_ids.label("p_orientation_system_ids"),
           select(ExternalData.received_on)  # as import_caf_msa.last_flux_date
           .where(ExternalData.beneficiary_id == Notebook.beneficiary_id, ExternalData.source == CAF_MSA)
           .order_by(ExternalData.created_at.desc()).limit(1).scalar_subquery().label("flux_date"),
           exists().where(Contract.notebook_id == Notebook.id).label("has_contracts"),
           exists().where(Bilan.notebook_id == Notebook.id).label("has_bilans"),
           exists().where(OrientationRequest.notebook_id == Notebook.id).label("has_request"))
    .join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
    .outerjoin(OrientationSystemRead, OrientationSystemRead.id == Notebook.orientation_system_id)
    .outerjoin(Person, Person.id == bindparam("person_id")))
NOTEBOOK_BY_ID = NOTEBOOK_ROW.where(Notebook.id == NOTEBOOK_ID)
NOTEBOOK_BY_BENEFICIARY = NOTEBOOK_ROW.where(Notebook.beneficiary_id == bindparam("beneficiary_id"))
MY_SYSTEMS = (select(OrientationSystemRead.id, OrientationSystemRead.name)
              .where(OrientationSystemRead.id.in_(bindparam("system_ids", expanding=True)))
              .order_by(OrientationSystemRead.name))


def person_ref(row, person_id: uuid.UUID, names: dict[uuid.UUID, str]) -> PersonRef:
    """A person joined as ``PERSON_COLUMNS`` (None columns: not known here)."""
    if row.p_id is None:
        return PersonRef(person_id=person_id, firstname="", lastname=UNKNOWN_PERSON)
    return PersonRef(person_id=row.p_id, firstname=row.p_firstname, lastname=row.p_lastname, email=row.p_email,
                     phone=row.p_phone, structure_name=names.get(first_structure(row.p_structure_ids), ""))


async def names_of_structures(session: AsyncSession, *rows_lists) -> dict[uuid.UUID, str]:
    ids = {first_structure(row.p_structure_ids) for rows in rows_lists for row in rows if row.p_id is not None}
    ids.discard(None)
    return dict((await session.execute(STRUCTURE_NAMES, {"structure_ids": list(ids)})).all()) if ids else {}


async def member_rows(session: AsyncSession, notebook_id: uuid.UUID) -> list:
    return (await session.execute(MEMBER_ROWS, {"notebook_id": notebook_id})).all()


async def appointment_rows(session: AsyncSession, notebook_id: uuid.UUID) -> list:
    return (await session.execute(APPOINTMENT_ROWS, {"notebook_id": notebook_id})).all()


async def shown_appointment_rows(session: AsyncSession, notebook_id: uuid.UUID, past_limit: int | None,
                                 now) -> tuple[list, bool]:
    """Every upcoming appointment (from ``now``) and the latest ``past_limit`` past ones (all when None), latest
    first; and whether older past ones were left out."""
    if past_limit is None:
        return await appointment_rows(session, notebook_id), False
    rows = (await session.execute(LIMITED_APPOINTMENT_ROWS, {"notebook_id": notebook_id, "now": now,
                                                             "limit": past_limit + 1})).all()
    past = sum(1 for a in rows if a.at < now)
    return (rows[:-1], True) if past > past_limit else (rows, False)


def member_views(rows, names: dict[uuid.UUID, str], last_appointments: dict) -> list[MemberView]:
    return [MemberView(member_id=m.id, person=person_ref(m, m.person_id, names), member_type=m.member_type,
                       orientation_system_name=m.system_name or "", started_at=m.started_at, ended_at=m.ended_at,
                       end_reason=m.end_reason, last_contact_at=m.last_contact_at,
                       last_appointment_at=last_appointments.get(m.person_id) if m.ended_at is None else None)
            for m in rows]


def appointment_views(rows, names: dict[uuid.UUID, str]) -> list[AppointmentView]:
    return [AppointmentView(appointment_id=a.id, person=person_ref(a, a.person_id, names), at=a.at, status=a.status,
                            version=a.version) for a in rows]


def last_appointments_of(rows) -> dict[uuid.UUID, object]:
    """Each person's latest appointment not cancelled, from the notebook's appointments."""
    last: dict[uuid.UUID, object] = {}
    for a in rows:
        if a.status != "cancelled" and (a.person_id not in last or a.at > last[a.person_id]):
            last[a.person_id] = a.at
    return last


async def last_appointments_read(session: AsyncSession, notebook_id: uuid.UUID) -> dict:
    return dict((await session.execute(LAST_APPOINTMENTS, {"notebook_id": notebook_id})).all())


async def members_of(session: AsyncSession, notebook: Notebook) -> list[MemberView]:
    rows = await member_rows(session, notebook.id)
    return member_views(rows, await names_of_structures(session, rows),
                        await last_appointments_read(session, notebook.id))


async def structures_of(session: AsyncSession, notebook: Notebook) -> list[StructureLinkView]:
    rows = (await session.execute(STRUCTURE_LINKS, {"notebook_id": notebook.id})).all()
    return [StructureLinkView(structure_id=r.structure_id, name=r.name or "Structure inconnue", status=r.status,
                              started_at=r.started_at, ended_at=r.ended_at) for r in rows]


async def parcours_of(session: AsyncSession, notebook: Notebook,
                      labels: dict[str, str] | None = None) -> list[FocusView]:
    """Work axes, their objectives and their actions in one statement (outer joins: an axis without objective,
    an objective without action, come on a row of their own). ``labels``: the themes' French labels, when the
    caller holds them (the referentials)."""
    rows = (await session.execute(PARCOURS_ROWS, {"notebook_id": notebook.id})).all()
    if not rows:
        return []
    if labels is None:
        labels = dict((await session.execute(select(RefTheme.name, RefTheme.label))).all())
    focuses: dict[uuid.UUID, FocusView] = {}
    targets: dict[uuid.UUID, TargetView] = {}
    for r in rows:
        focus = focuses.get(r.id)
        if focus is None:
            focus = focuses[r.id] = FocusView(focus_id=r.id, theme=r.theme, theme_label=labels.get(r.theme, r.theme),
                                              created_at=r.created_at, created_by_name=r.created_by_name, targets=[])
        if r.t_id is None:
            continue
        target = targets.get(r.t_id)
        if target is None:
            target = targets[r.t_id] = TargetView(
                target_id=r.t_id, target=r.target, status=r.t_status, linked_to=r.linked_to,
                user_consent=r.user_consent, created_at=r.t_created_at, created_by_name=r.t_created_by_name,
                version=r.t_version, actions=[])
            focus.targets.append(target)
        if r.a_id is not None:
            target.actions.append(ActionView(action_id=r.a_id, action=r.action, status=r.a_status,
                                             starting_at=r.starting_at, created_at=r.a_created_at,
                                             created_by_name=r.a_created_by_name, version=r.a_version))
    return list(focuses.values())


async def appointments_of(session: AsyncSession, notebook: Notebook) -> list[AppointmentView]:
    rows = await appointment_rows(session, notebook.id)
    return appointment_views(rows, await names_of_structures(session, rows))


async def timeline_of(session: AsyncSession, notebook: Notebook, request: GetNotebookPageV1,
                      limit: int) -> list[dict]:
    """The latest ``limit`` entries; one more when there are more (``timeline_more``), for the caller to drop. As
    ``TimelineEntry``'s fields, validated with the page in one pass: a model built for each entry and each of its
    changes was the page's largest cost in the service (py-spy: about 40 % of its handler on a long history)."""
    query = TIMELINE[bool(request.timeline_kind), bool(request.timeline_author_id)]
    rows = (await session.execute(query, {"notebook_id": notebook.id, "kind": request.timeline_kind,
                                          "author_id": request.timeline_author_id, "limit": limit + 1})).all()
    return [{"entry_id": e.id, "occurred_at": e.occurred_at, "kind": e.kind, "summary": e.summary,
             "author_id": e.author_id, "author_name": e.author_name, "source": e.source,
             "redacted": e.redacted_at is not None,
             "changes": [{"field": field, "before": before, "after": after}
                         for field, before, after in shown_changes(e.changes)]} for e in rows]


async def visits_of(session: AsyncSession, notebook: Notebook, limit: int) -> list[VisitView]:
    rows = (await session.execute(VISIT_ROWS, {"notebook_id": notebook.id, "limit": limit})).all()
    return [VisitView(person_name=v.person_name, role=v.role, structure_name=v.structure_name,
                      visited_at=v.visited_at, last_visited_at=v.last_visited_at, views=v.views) for v in rows]


async def notebook_row(rows, caller: Caller, notebook_id: uuid.UUID | None):
    """``NOTEBOOK_ROW`` of the notebook asked (a beneficiary's own when no id is given, as
    ``caller.open_notebook``), or None."""
    # The caller's person: not for a beneficiary, an administrator without profile (as the page always did).
    person_id = None if caller.role == Role.beneficiary or not caller.profile_id else caller.profile_id
    if notebook_id is None and caller.role == Role.beneficiary:
        query, params = NOTEBOOK_BY_BENEFICIARY, {"beneficiary_id": caller.profile_id, "person_id": person_id}
    elif notebook_id:
        query, params = NOTEBOOK_BY_ID, {"notebook_id": notebook_id, "person_id": person_id}
    else:
        return None
    return (await rows.execute(query, params)).one_or_none()


def beneficiary_of(row) -> SimpleNamespace:
    """The beneficiary's columns of ``NOTEBOOK_ROW`` under the ORM object's names (for ``view_of``)."""
    return SimpleNamespace(**{key: getattr(row, f"b_{key}") for key in BENEFICIARY_KEYS})


def active_membership(members: list[MemberView], caller: Caller) -> MemberView | None:
    """The caller's current membership, from the page's members (as ``active_member``)."""
    if caller.profile_id is None:
        return None
    return next((m for m in members if m.ended_at is None and m.person.person_id == caller.profile_id), None)


# The roles whose page may show the access log (on some notebooks): the others' pages never wait for its writes.
SEE_THE_ACCESS_LOG = frozenset(role for role, grants in GRANTS.items()
                               if any(Operation.view_access_log in operations for operations in grants.values()))


def others_views(caller: Caller, notebook_id: uuid.UUID | None):
    """Which views not yet written the page must wait for: those of others on the notebook read (on any, for a
    beneficiary's own, whose id comes with the read). The caller's own views may lag by ``WRITE_EVERY_S``."""
    return lambda who: who["account_id"] != caller.account_id and notebook_id in (None, who["notebook_id"])


async def options_for(session: AsyncSession, caller: Caller, relations, notebook: Notebook,
                      membership: MemberView | None):
    """The territory's orientation systems, for who may orient and for a référent's request. Not its structures
    and professionals: every view of the page by a manager carried them all (a département's thousands of
    professionals, on each page); the orientation form asks for them when it is opened
    (``GetTerritoryOrientationOptionsV1``)."""
    if may(caller.role, relations, Operation.orient) or (
            may(caller.role, relations, Operation.request_reorientation)
            and membership is not None and membership.member_type == "referent"):
        return await territory_orientation_options(session, notebook.deployment_id, systems_only=True)
    return None


async def get_page(request: GetNotebookPageV1, ctx, deps: Deps) -> NotebookPage:
    caller = await caller_of(ctx, deps)
    referentials = await referentials_of(deps)
    # The access log the page shows holds the others' views handed over before: written first, before the read's
    # snapshot (rarely any: others reading the same notebook in the same instant).
    if caller.role in SEE_THE_ACCESS_LOG:
        await deps.visit_log.written(others_views(caller, request.notebook_id))
    # Read, then hand the visit over to the access log's writer: a write transaction takes SQLite's write lock at
    # BEGIN (servicekit.db), and pages must not be read one at a time. The read's sessions never write: on SQLite
    # its statements run in the loop's thread (Deps.read_sessions), not one thread round trip each.
    async with deps.read_sessions() as session:
        # The plain-row readers run on the session's connection (same transaction): Core results, without the
        # ORM's execution and row loading around each statement, which cost more than the statement itself.
        rows = await session.connection()
        # The notebook: a row with its columns, where the ORM object's attributes are (NOTEBOOK_ROW).
        notebook = await notebook_row(rows, caller, request.notebook_id)
        relations = await opened(session, caller, notebook, Operation.view_public)
        full = may(caller.role, relations, Operation.view_full)
        beneficiary = view_of(beneficiary_of(notebook), deps)
        beneficiary = withhold(beneficiary, hidden_fields(caller.role, relations))
        system = notebook.system_name
        person = notebook if notebook.p_id is not None else None  # the caller's person (PERSON_COLUMNS)
        my_systems = []
        if caller.role in (Role.professional, Role.orientation_manager) and caller.profile_id:
            held = [uuid.UUID(str(s)) for s in (person.p_orientation_system_ids if person else [])]
            my_systems = [OrientationChoice(orientation_system_id=s.id, name=s.name) for s in (await rows.execute(
                MY_SYSTEMS, {"system_ids": held}))] if held else []
        # Members and appointments with their people, the structures of all of them (and of the caller) at once.
        members = await member_rows(rows, notebook.id)
        appointments, appointments_more = await shown_appointment_rows(
            rows, notebook.id, request.past_appointments_limit, deps.clock()) if full else ([], False)
        names = await names_of_structures(rows, members, appointments, [person] if person else [])
        # Each member's latest appointment, from the page's appointments when they are all there.
        member_list = member_views(members, names, last_appointments_of(appointments) if full and not
                                   appointments_more else await last_appointments_read(rows, notebook.id))
        membership = active_membership(member_list, caller)
        timeline_limit = min(request.timeline_limit or deps.settings.page_timeline_limit,
                             deps.settings.page_timeline_limit)
        timeline = await timeline_of(rows, notebook, request, timeline_limit) if full else []
        page = NotebookPage(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id,
            access=Access.full if full else Access.public, beneficiary=beneficiary,
            members=member_list, structures=await structures_of(rows, notebook),
            orientation_system_name=system or "",
            diagnostic=await diagnostic_view(rows, notebook) if full else None,
            focuses=await parcours_of(rows, notebook, referentials.themes) if full else [],
            appointments=appointment_views(appointments, names), appointments_more=appointments_more,
            timeline=timeline[:timeline_limit], timeline_more=len(timeline) > timeline_limit,
            visits=await visits_of(rows, notebook, deps.settings.page_visits_limit)
            if may(caller.role, relations, Operation.view_access_log) else [],
            allowed=allowed_operations(caller.role, relations), my_orientation_systems=my_systems,
            orientation_reason=notebook.orientation_reason if full else "",
            oriented_at=notebook.oriented_at, oriented_by_name=notebook.oriented_by_name,
            orientation_request=await request_view(session, notebook.id) if full and notebook.has_request else None,
            orientation_options=await options_for(rows, caller, relations, notebook, membership),
            france_travail=await section_of(session, deps, notebook) if full else None,
            rsa_flux_date=notebook.flux_date if "right_rsa" not in beneficiary.withheld else None,
            contracts=await contract_summaries(session, notebook, today_of(deps))
            if notebook.has_contracts and may(caller.role, relations, Operation.view_contracts) else [],
            bilans=await bilan_summaries(session, notebook)
            if notebook.has_bilans and may(caller.role, relations, Operation.view_bilans) else [],
            referentials_version=referentials.version)
        visit = visitor(caller, notebook, person, names, membership.member_id if membership else None)
    log_visit(deps, visit)
    # Data older than an hour is asked of France Travail after the page is served: the next view shows it.
    refresh_if_stale(deps, notebook.id, page.france_travail)
    return page
