"""Appointments of the beneficiary with a member of the group: planned, then present, absent, excused or
cancelled. A member books their own; a structure admin books for the members of their structures."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from contracts.identity import Role
from contracts.notebook import (
    AppointmentBookedV1,
    AppointmentChangedV1,
    AppointmentStatus,
    BookAppointmentV1,
    UpdateAppointmentV1,
    VersionReply,
)
from notebook.adapters.orm import Appointment, Beneficiary, Member, Person, StructureRead
from notebook.domain.habilitation import Operation
from notebook.domain.parcours import check_version
from notebook.handlers.caller import active_member, caller_of, open_notebook
from notebook.handlers.deps import Deps
from notebook.handlers.timeline import record
from servicekit.errors import Forbidden, Invalid, NotFound

NOT_IN_GROUP = "Ce professionnel ne fait pas partie du groupe de suivi : le rendez-vous ne peut pas être pris avec lui."
OTHER_MEMBER = "Vous ne pouvez prendre ou modifier que vos propres rendez-vous."
APPOINTMENT_NOT_FOUND = "Ce rendez-vous n'existe pas."
STATUS_LABELS = {AppointmentStatus.planned: "prévu", AppointmentStatus.present: "présent",
                 AppointmentStatus.absent: "absent", AppointmentStatus.excused: "excusé",
                 AppointmentStatus.cancelled: "annulé"}


PARIS = ZoneInfo("Europe/Paris")


def when(at) -> str:
    return at.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


async def check_with_whom(session, caller, notebook, person_id) -> Member:
    """Members book with themselves; a structure admin with a member of one of their structures."""
    member = await active_member(session, notebook.id, person_id)
    if member is None:
        raise Invalid(NOT_IN_GROUP, details={"field": "person_id"})
    if caller.role == Role.admin_structure:
        person = await session.get(Person, person_id)
        if not person or not person.works_in(caller.structure_ids):
            raise Forbidden(OTHER_MEMBER)
    elif person_id != caller.profile_id:
        raise Forbidden(OTHER_MEMBER)
    return member


async def book_appointment(request: BookAppointmentV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    person_id = request.person_id or caller.profile_id
    async with deps.sessions.begin() as session:
        notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.manage_appointments)
        member = await check_with_whom(session, caller, notebook, person_id)
        appointment = Appointment(notebook_id=notebook.id, person_id=person_id, at=request.at,
                                  status=request.status.value, created_at=deps.clock(), created_by=caller.profile_id)
        session.add(appointment)
        await session.flush()
        if request.status == AppointmentStatus.present:
            member.last_contact_at = max(member.last_contact_at or request.at, request.at)
        person = await session.get(Person, person_id)
        beneficiary = await session.get(Beneficiary, notebook.beneficiary_id)
        structure = await session.get(StructureRead, person.structure_id) if person.structure_id else None
        await record(session, deps, notebook, caller, "appointment",
                     f"Rendez-vous du {when(request.at)} avec {person.firstname} {person.lastname} : "
                     f"{STATUS_LABELS[request.status]}", subject_id=appointment.id)
        await deps.outbox.add(session, AppointmentBookedV1(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
            appointment_id=appointment.id, person_id=person_id, at=request.at,
            with_name=f"{person.firstname} {person.lastname}", structure_name=structure.name if structure else "",
            beneficiary_phone=beneficiary.mobile_number, beneficiary_email=beneficiary.email,
            beneficiary_channels=beneficiary.notification_channels))
    return VersionReply(id=appointment.id)


async def update_appointment(request: UpdateAppointmentV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        appointment = await session.get(Appointment, request.appointment_id, with_for_update=True)
        if appointment is None:
            raise NotFound(APPOINTMENT_NOT_FOUND)
        notebook, _ = await open_notebook(session, caller, appointment.notebook_id, Operation.manage_appointments)
        member = await check_with_whom(session, caller, notebook, appointment.person_id)
        check_version(appointment.version, request.version,
                      {"at": appointment.at.isoformat(), "status": appointment.status, "version": appointment.version})
        if (appointment.at, appointment.status) == (request.at, request.status.value):
            return VersionReply(id=appointment.id, version=appointment.version)
        appointment.at, appointment.status = request.at, request.status.value
        appointment.version += 1
        if request.status == AppointmentStatus.present:
            member.last_contact_at = max(member.last_contact_at or request.at, request.at)
        await record(session, deps, notebook, caller, "appointment",
                     f"Rendez-vous du {when(request.at)} : {STATUS_LABELS[request.status]}",
                     subject_id=appointment.id)
        await deps.outbox.add(session, AppointmentChangedV1(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
            appointment_id=appointment.id, at=request.at, status=request.status))
    return VersionReply(id=appointment.id, version=appointment.version)
