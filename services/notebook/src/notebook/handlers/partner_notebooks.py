"""Notebooks created and updated by partner software (spec §4.5, issue 16): the same use cases as a manager's form,
with ``partner`` as the source of every history entry.

- Over HTTP (``CreatePartnerNotebookV1``), the gateway comes with the token identity lent it: the named manager's.
  The manager's rights are checked as for a form; the NIR is looked up in every territory (v1): in this one, a
  conflict that gives the notebook's id; in another, a refusal that does not say which.
- Over NATS (``ApplyPartnerNotebookV1``, ``ApplyPartnerAppointmentV1``), the import service sends what a partner
  published, after checking the partner serves the territory (only it may send these: bus permissions). No manager
  is named there, so the partner is the author. Each message is applied exactly once per ``(partner, event_id)``:
  its outcome is recorded in ``import_applied`` in the same transaction as its effect, and the same message again
  answers that outcome and does nothing. A refused message records nothing: sent again once fixed, it applies.
"""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.notebook import (
    AppointmentBookedV1,
    AppointmentChangedV1,
    AppointmentStatus,
    BeneficiaryContactChangedV1,
    BeneficiaryFields,
    ChangeSource,
)
from contracts.partners import (
    BAD_REQUEST,
    ApplyPartnerAppointmentV1,
    ApplyPartnerNotebookV1,
    CreatePartnerNotebookV1,
    PartnerAppliedReply,
    PartnerNotebook,
    PartnerNotebookReply,
    PartnerOutcome,
)
from contracts.profiles import BeneficiaryUpdatedV1
from notebook.adapters.orm import Appointment, Beneficiary, ImportApplied, Notebook, Person, StructureRead
from notebook.domain.nir import clean_nir
from notebook.handlers.appointments import STATUS_LABELS, when
from notebook.handlers.beneficiaries import (
    CONTACT_FIELDS,
    FIELD_LABELS,
    apply,
    changed_fields,
    check_unique,
    cleaned,
    create_notebook,
    publish_profile,
    trail,
    view_of,
)
from notebook.handlers.caller import active_member, caller_of
from notebook.handlers.deps import Deps
from notebook.handlers.timeline import record
from servicekit.errors import Conflict, Forbidden, Invalid, ServiceError
from servicekit.rpc import RpcContext

NOT_A_MANAGER = "Seul un gestionnaire du territoire peut créer un carnet par l'API des partenaires."
ALREADY_HERE = "Ce bénéficiaire a déjà un carnet sur ce territoire."
ELSEWHERE = "Ce bénéficiaire a déjà un carnet sur un autre territoire : il ne peut pas être créé ici."
NO_NOTEBOOK = "Aucun carnet de ce territoire n'a ce numéro de sécurité sociale : envoyez d'abord le carnet."
UNKNOWN_PROFESSIONAL = "Aucun professionnel du groupe de suivi de ce bénéficiaire n'a cette adresse e-mail."
OTHER_NOTEBOOK = "Ce rendez-vous a été enregistré pour un autre bénéficiaire : il ne peut pas changer de carnet."
# Ids of what partners send, stable across deliveries: the applied message, and the appointment it describes.
PARTNER_NAMESPACE = uuid.UUID("6c1f0a52-2f7e-4d8e-9a52-4b5f0f1d6a31")


def applied_key(partner: str, event_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(PARTNER_NAMESPACE, f"{partner}:message:{event_id}")


def appointment_key(partner: str, appointment_id: str) -> uuid.UUID:
    return uuid.uuid5(PARTNER_NAMESPACE, f"{partner}:appointment:{appointment_id}")


def author(partner: str) -> str:
    return f"Partenaire {partner}"


def fields_of(notebook: PartnerNotebook) -> BeneficiaryFields:
    return BeneficiaryFields(
        firstname=notebook.firstname, lastname=notebook.lastname, date_of_birth=notebook.dateOfBirth,
        email=notebook.email, mobile_number=notebook.mobileNumber, address1=notebook.address1,
        address2=notebook.address2, postal_code=notebook.postalCode, city=notebook.city, nir=notebook.nir,
        caf_number=notebook.cafNumber, external_id=notebook.externalId)


async def by_nir(session: AsyncSession, deps: Deps, nir: str) -> tuple[Beneficiary, Notebook] | None:
    """The beneficiary with this NIR, in any territory (a NIR is one person's), and their notebook."""
    row = (await session.execute(
        select(Beneficiary, Notebook).join(Notebook, Notebook.beneficiary_id == Beneficiary.id)
        .where(Beneficiary.nir_index == deps.protection.index("nir", clean_nir(nir))).limit(1))).first()
    return (row[0], row[1]) if row else None


# --- HTTP: created as the named manager ----------------------------------------------------------------------

async def create_partner_notebook(request: CreatePartnerNotebookV1, ctx: RpcContext,
                                  deps: Deps) -> PartnerNotebookReply:
    caller = await caller_of(ctx, deps)
    if caller.role != Role.manager or caller.deployment_id != request.deployment_id:
        raise Forbidden(NOT_A_MANAGER)
    fields = fields_of(request.notebook)
    try:
        async with deps.sessions.begin() as session:
            found = await by_nir(session, deps, fields.nir)
            if found:
                refuse_existing(found[1], request.deployment_id)
            notebook = await create_notebook(session, deps, request.deployment_id, fields, caller,
                                             source=ChangeSource.partner)
    except IntegrityError:  # the same NIR sent twice at the same instant: the other call created it
        async with deps.sessions() as session:
            found = await by_nir(session, deps, fields.nir)
        if found:
            refuse_existing(found[1], request.deployment_id)
        raise
    return PartnerNotebookReply(notebook_id=notebook.id)


def refuse_existing(notebook: Notebook, deployment_id: uuid.UUID) -> None:
    if notebook.deployment_id == deployment_id:
        raise Conflict(ALREADY_HERE, details={"notebookId": str(notebook.id)})
    raise Invalid(ELSEWHERE, details={"reason": BAD_REQUEST, "field": "nir"})


# --- NATS: applied for the partner, exactly once ----------------------------------------------------------------

async def exactly_once(request, deps: Deps, effect) -> PartnerAppliedReply:
    """Runs ``effect(session)`` (→ outcome, target id) unless this message was applied already; records it with
    its effect. A refusal (a ``ServiceError``) records nothing and answers ``rejected`` with its French reason."""
    key = applied_key(request.partner, request.event_id)
    for _attempt in range(2):
        try:
            async with deps.sessions.begin() as session:
                done = await session.get(ImportApplied, (key, 0))
                if done is not None:
                    return PartnerAppliedReply(outcome=PartnerOutcome(done.outcome), target_id=done.target_id,
                                               replayed=True)
                outcome, target_id = await effect(session)
                session.add(ImportApplied(import_id=key, row=0, outcome=outcome.value, target_id=target_id,
                                          messages=[], applied_at=deps.clock()))
                await session.flush()
            return PartnerAppliedReply(outcome=outcome, target_id=target_id)
        except ServiceError as refusal:
            return PartnerAppliedReply(outcome=PartnerOutcome.rejected, reason=str(refusal))
        except IntegrityError:  # delivered twice at once: the other delivery applied it, read its outcome
            continue
    raise RuntimeError("partner message neither applied nor recorded")


async def apply_partner_notebook(request: ApplyPartnerNotebookV1, _ctx: RpcContext, deps: Deps) -> PartnerAppliedReply:
    async def effect(session: AsyncSession):
        fields = fields_of(request.notebook)
        found = await by_nir(session, deps, fields.nir)
        if found is None:
            notebook = await create_notebook(session, deps, request.deployment_id, fields, None,
                                             source=ChangeSource.partner, author_name=author(request.partner))
            return PartnerOutcome.created, notebook.id
        beneficiary, notebook = found
        if notebook.deployment_id != request.deployment_id:
            raise Invalid(ELSEWHERE)
        changed = await update(session, deps, request.partner, beneficiary, notebook, fields)
        return (PartnerOutcome.updated if changed else PartnerOutcome.unchanged), notebook.id

    return await exactly_once(request, deps, effect)


async def update(session: AsyncSession, deps: Deps, partner: str, beneficiary: Beneficiary, notebook: Notebook,
                 given: BeneficiaryFields) -> bool:
    """What the partner said replaces what the notebook holds; what it left empty stays as it is."""
    before = view_of(beneficiary, deps)
    kept = {name: getattr(before, name) for name in BeneficiaryFields.model_fields
            if name not in given.model_fields_set or getattr(given, name) in ("", None)}
    after = cleaned(given.model_copy(update=kept))
    changed = changed_fields(before, after)
    if not changed:
        return False
    await session.refresh(beneficiary, with_for_update=True)
    apply(beneficiary, after, deps)
    await check_unique(session, beneficiary)
    beneficiary.version += 1
    beneficiary.updated_at, beneficiary.updated_by_name = deps.clock(), author(partner)
    await record(session, deps, notebook, None, "beneficiary",
                 "Informations personnelles mises à jour : " + ", ".join(FIELD_LABELS[f] for f in sorted(changed)),
                 changes=trail(before, after, changed), source=ChangeSource.partner, author_name=author(partner))
    await publish_profile(deps, session, beneficiary, BeneficiaryUpdatedV1)
    if changed & CONTACT_FIELDS:
        await deps.outbox.add(session, BeneficiaryContactChangedV1(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=beneficiary.id,
            phone=beneficiary.mobile_number, email=beneficiary.email, channels=beneficiary.notification_channels))
    return True


async def apply_partner_appointment(request: ApplyPartnerAppointmentV1, _ctx: RpcContext,
                                    deps: Deps) -> PartnerAppliedReply:
    wanted = request.appointment

    async def effect(session: AsyncSession):
        found = await by_nir(session, deps, wanted.nir)
        if found is None or found[1].deployment_id != request.deployment_id:
            raise Invalid(NO_NOTEBOOK)
        beneficiary, notebook = found
        person = await session.scalar(select(Person).where(
            func.lower(Person.email) == wanted.professionalEmail.strip().lower(),
            Person.deployment_id == request.deployment_id, Person.deactivated_at.is_(None)))
        member = person and await active_member(session, notebook.id, person.id)
        if not member:
            raise Invalid(UNKNOWN_PROFESSIONAL)
        appointment_id = appointment_key(request.partner, wanted.appointmentId)
        appointment = await session.get(Appointment, appointment_id, with_for_update=True)
        if wanted.status == AppointmentStatus.present:
            member.last_contact_at = max(member.last_contact_at or wanted.at, wanted.at)
        if appointment is None:
            session.add(Appointment(id=appointment_id, notebook_id=notebook.id, person_id=person.id, at=wanted.at,
                                    status=wanted.status.value, created_at=deps.clock(), created_by=None))
            await session.flush()
            structure = await session.get(StructureRead, person.structure_id) if person.structure_id else None
            await record(session, deps, notebook, None, "appointment",
                         f"Rendez-vous du {when(wanted.at)} avec {person.firstname} {person.lastname} : "
                         f"{STATUS_LABELS[wanted.status]}", subject_id=appointment_id,
                         source=ChangeSource.partner, author_name=author(request.partner))
            await deps.outbox.add(session, AppointmentBookedV1(
                notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=beneficiary.id,
                appointment_id=appointment_id, person_id=person.id, at=wanted.at,
                with_name=f"{person.firstname} {person.lastname}", structure_name=structure.name if structure else "",
                beneficiary_phone=beneficiary.mobile_number, beneficiary_email=beneficiary.email,
                beneficiary_channels=beneficiary.notification_channels))
            return PartnerOutcome.created, appointment_id
        if appointment.notebook_id != notebook.id:
            raise Invalid(OTHER_NOTEBOOK)
        if (appointment.at, appointment.status, appointment.person_id) == (wanted.at, wanted.status.value, person.id):
            return PartnerOutcome.unchanged, appointment_id
        appointment.at, appointment.status, appointment.person_id = wanted.at, wanted.status.value, person.id
        appointment.version += 1
        await record(session, deps, notebook, None, "appointment",
                     f"Rendez-vous du {when(wanted.at)} : {STATUS_LABELS[wanted.status]}", subject_id=appointment_id,
                     source=ChangeSource.partner, author_name=author(request.partner))
        await deps.outbox.add(session, AppointmentChangedV1(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=beneficiary.id,
            appointment_id=appointment_id, at=wanted.at, status=wanted.status))
        return PartnerOutcome.updated, appointment_id

    return await exactly_once(request, deps, effect)
