"""Another territory: a notebook's transfer (asked by a manager of its territory, accepted or refused by a manager of
the destination) and its referrals (a professional of another territory in the group until a date). The rules are in
``notebook.domain.transfers``; this module loads, checks and stores, and tells through the outbox.

On acceptance everything that says where the notebook belongs moves in one transaction: the notebook and the
beneficiary (their ``deployment_id``: search, lists, dashboards and imports read them), the origin's group (members
ended, structures and orientation become history, a pending reorientation request and referrals end); the history
stays with the notebook. Identity hears the beneficiary's new territory (her account) from ``BeneficiaryUpdatedV1``,
notify and directory from ``notebook.transfer.accepted.v1``."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.notebook import MembershipEndReason, OrientationRequestStatus, VersionReply
from contracts.profiles import BeneficiaryUpdatedV1
from contracts.transfers import (
    DecideTransferV1,
    GetNotebookTransfersV1,
    GrantReferralV1,
    ListTransfersV1,
    NotebookTransfersReply,
    ReferralGrantedV1,
    ReferralView,
    RequestTransferV1,
    TerritoryChoice,
    TransferAcceptedV1,
    TransferRefusedV1,
    TransferRequestedV1,
    TransfersReply,
    TransferStatus,
    TransferView,
)
from notebook.adapters.orm import (
    Beneficiary,
    BeneficiaryStructure,
    Member,
    Notebook,
    NotebookReferral,
    NotebookTransfer,
    OrientationRequest,
    Person,
    RightsRequest,
    TerritoryRead,
)
from notebook.domain import transfers as rules
from notebook.domain.habilitation import Operation, may
from notebook.handlers.beneficiaries import publish_profile
from notebook.handlers.caller import Caller, caller_of, name_of, open_notebook
from notebook.handlers.deps import Deps
from notebook.handlers.timeline import record
from notebook.handlers.visits import log_read
from servicekit.errors import Conflict, Forbidden, NotFound

TRANSFER_NOT_FOUND = "Ce transfert n'existe pas."
ONLY_MANAGERS = "Seuls les gestionnaires de territoire voient les transferts."
ALREADY_THERE = ("Un carnet existe déjà pour cette personne sur le territoire de destination : le transfert ne peut "
                 "pas être accepté (rapprochez-vous du territoire d'origine).")
TRANSFERRED = "Carnet transféré vers un autre territoire"


def today_of(caller: Caller, deps: Deps) -> date:
    return caller.today or deps.clock().date()


def day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


async def labels_of(session: AsyncSession, ids) -> dict[uuid.UUID, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict((await session.execute(select(TerritoryRead.id, TerritoryRead.label)
                                       .where(TerritoryRead.id.in_(ids)))).all())


async def views_of(session: AsyncSession, transfers: list[NotebookTransfer]) -> list[TransferView]:
    labels = await labels_of(session, [t.from_deployment_id for t in transfers] + [t.to_deployment_id
                                                                                   for t in transfers])
    people = {}
    if transfers:
        people = {notebook_id: (first, last, born) for notebook_id, first, last, born in (await session.execute(
            select(Notebook.id, Beneficiary.firstname, Beneficiary.lastname, Beneficiary.date_of_birth)
            .join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
            .where(Notebook.id.in_({t.notebook_id for t in transfers})))).all()}
    views = []
    for t in transfers:
        first, last, born = people.get(t.notebook_id, ("", "", None))
        views.append(TransferView(
            transfer_id=t.id, notebook_id=t.notebook_id, beneficiary_name=f"{first} {last}".strip(),
            date_of_birth=born, from_deployment_id=t.from_deployment_id,
            from_label=labels.get(t.from_deployment_id, ""),
            to_deployment_id=t.to_deployment_id, to_label=labels.get(t.to_deployment_id, ""),
            status=TransferStatus(t.status), reason=t.reason, requested_at=t.requested_at,
            requested_by_name=t.requested_by_name, decided_at=t.decided_at, decided_by_name=t.decided_by_name,
            decision_reason=t.decision_reason))
    return views


# --- Reading --------------------------------------------------------------------------------------------------

async def get_notebook_transfers(request: GetNotebookTransfersV1, ctx, deps: Deps) -> NotebookTransfersReply:
    """The notebook's transfers and referrals (those who see the whole notebook), with the territories it may go to
    (its managers)."""
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        notebook, relations = await open_notebook(session, caller, request.notebook_id, Operation.view_full)
        await log_read(session, deps, caller, notebook)
        beneficiary = await session.get(Beneficiary, notebook.beneficiary_id)
        transfers = (await session.execute(select(NotebookTransfer).where(
            NotebookTransfer.notebook_id == notebook.id)
            .order_by(NotebookTransfer.requested_at.desc()))).scalars().all()
        referrals = (await session.execute(select(NotebookReferral).where(
            NotebookReferral.notebook_id == notebook.id).order_by(NotebookReferral.granted_at.desc()))).scalars().all()
        people = {p.id: p for p in (await session.execute(select(Person).where(
            Person.id.in_({r.person_id for r in referrals})))).scalars()} if referrals else {}
        labels = await labels_of(session, [notebook.deployment_id, *(p.deployment_id for p in people.values())])
        allowed = sorted(op.value for op in (Operation.request_transfer, Operation.refer)
                         if may(caller.role, relations, op))
        territories = []
        if Operation.request_transfer.value in allowed:
            territories = [TerritoryChoice(deployment_id=t.id, label=t.label, department_code=t.department_code)
                           for t in (await session.execute(select(TerritoryRead).where(
                               TerritoryRead.id != notebook.deployment_id).order_by(TerritoryRead.label))).scalars()]
        today = today_of(caller, deps)
        return NotebookTransfersReply(
            notebook_id=notebook.id, beneficiary_name=f"{beneficiary.firstname} {beneficiary.lastname}",
            territory_label=labels.get(notebook.deployment_id, ""),
            transfers=await views_of(session, list(transfers)),
            referrals=[ReferralView(
                referral_id=r.id, notebook_id=r.notebook_id, person_name=r.person_name,
                person_email=people[r.person_id].email if r.person_id in people else "",
                territory_label=labels.get(people[r.person_id].deployment_id, "") if r.person_id in people else "",
                until=r.until, active=rules.referral_active(r.until, r.ended_at is not None, today), reason=r.reason,
                granted_at=r.granted_at, granted_by_name=r.granted_by_name) for r in referrals],
            territories=territories, allowed=allowed)


async def list_transfers(_request: ListTransfersV1, ctx, deps: Deps) -> TransfersReply:
    """« Transferts »: those waiting for the caller's territory, and those it asked (the newest 100)."""
    caller = await caller_of(ctx, deps)
    if caller.role != Role.manager or caller.deployment_id is None:
        raise Forbidden(ONLY_MANAGERS)
    async with deps.sessions() as session:
        incoming = (await session.execute(select(NotebookTransfer).where(
            NotebookTransfer.to_deployment_id == caller.deployment_id,
            NotebookTransfer.status == TransferStatus.pending.value)
            .order_by(NotebookTransfer.requested_at).limit(200))).scalars().all()
        outgoing = (await session.execute(select(NotebookTransfer).where(
            NotebookTransfer.from_deployment_id == caller.deployment_id)
            .order_by(NotebookTransfer.requested_at.desc()).limit(100))).scalars().all()
        return TransfersReply(incoming=await views_of(session, list(incoming)),
                              outgoing=await views_of(session, list(outgoing)))


# --- Transfer -------------------------------------------------------------------------------------------------

async def beneficiary_contact(session: AsyncSession, notebook: Notebook) -> Beneficiary:
    return await session.get(Beneficiary, notebook.beneficiary_id)


async def requester_email(session: AsyncSession, transfer: NotebookTransfer) -> str:
    person = await session.get(Person, transfer.requested_by_id) if transfer.requested_by_id else None
    return person.email if person and person.deactivated_at is None else ""


async def request_transfer(request: RequestTransferV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    try:
        async with deps.sessions.begin() as session:
            notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.request_transfer)
            destination = await session.get(TerritoryRead, request.to_deployment_id)
            pending = await session.scalar(select(NotebookTransfer.id).where(
                NotebookTransfer.notebook_id == notebook.id, NotebookTransfer.status == TransferStatus.pending.value))
            rules.check_request(caller.role, caller.deployment_id, notebook.deployment_id, request.to_deployment_id,
                                destination is not None, pending is not None, request.reason)
            author = await name_of(session, caller)
            transfer = NotebookTransfer(
                notebook_id=notebook.id, from_deployment_id=notebook.deployment_id,
                to_deployment_id=request.to_deployment_id, status=TransferStatus.pending.value,
                reason=request.reason.strip(), requested_at=deps.clock(), requested_by_id=caller.profile_id,
                requested_by_name=author)
            session.add(transfer)
            await session.flush()
            labels = await labels_of(session, [notebook.deployment_id, request.to_deployment_id])
            await record(session, deps, notebook, caller, "transfer",
                         f"Transfert demandé vers {labels.get(request.to_deployment_id, 'un autre territoire')} : "
                         f"{transfer.reason}", subject_id=transfer.id, author_name=author)
            managers = (await session.execute(select(Person.email).where(
                Person.deployment_id == request.to_deployment_id, Person.role == Role.manager.value,
                Person.deactivated_at.is_(None), Person.email != ""))).scalars().all()
            await deps.outbox.add(session, TransferRequestedV1(
                notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
                transfer_id=transfer.id, from_deployment_id=notebook.deployment_id,
                from_label=labels.get(notebook.deployment_id, ""), to_deployment_id=request.to_deployment_id,
                to_label=labels.get(request.to_deployment_id, ""), requested_by_email=await requester_email(
                    session, transfer), reason=transfer.reason, manager_emails=sorted(managers)))
    except IntegrityError as error:  # two requests at the same instant: the unique index keeps one
        raise Conflict(rules.ALREADY_PENDING) from error
    return VersionReply(id=transfer.id)


async def decide_transfer(request: DecideTransferV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    try:
        async with deps.sessions.begin() as session:
            transfer = await session.get(NotebookTransfer, request.transfer_id, with_for_update=True)
            # Out of both territories: the same answer as an unknown id.
            if transfer is None or caller.deployment_id not in (transfer.to_deployment_id,
                                                                transfer.from_deployment_id):
                raise NotFound(TRANSFER_NOT_FOUND)
            status = rules.check_decision(TransferStatus(transfer.status), caller.role, caller.deployment_id,
                                          transfer.to_deployment_id, request.accepted, request.reason)
            notebook = await session.get(Notebook, transfer.notebook_id, with_for_update=True)
            author = await name_of(session, caller)
            now = deps.clock()
            transfer.status, transfer.decided_at, transfer.decided_by_name = status.value, now, author
            transfer.decision_reason = request.reason.strip()
            labels = await labels_of(session, [transfer.from_deployment_id, transfer.to_deployment_id])
            common = dict(notebook_id=notebook.id, beneficiary_id=notebook.beneficiary_id, transfer_id=transfer.id,
                          from_deployment_id=transfer.from_deployment_id,
                          from_label=labels.get(transfer.from_deployment_id, ""),
                          to_deployment_id=transfer.to_deployment_id,
                          to_label=labels.get(transfer.to_deployment_id, ""),
                          requested_by_email=await requester_email(session, transfer))
            if status == TransferStatus.refused:
                await record(session, deps, notebook, caller, "transfer",
                             f"Transfert vers {common['to_label'] or 'un autre territoire'} refusé : "
                             f"{transfer.decision_reason}", subject_id=transfer.id, author_name=author)
                await deps.outbox.add(session, TransferRefusedV1(deployment_id=notebook.deployment_id,
                                                                 reason=transfer.decision_reason, **common))
            else:
                beneficiary = await move(session, deps, notebook, transfer, now)
                await record(session, deps, notebook, caller, "transfer",
                             f"Carnet transféré de {common['from_label'] or 'son territoire'} vers "
                             f"{common['to_label'] or 'un autre territoire'}", subject_id=transfer.id,
                             author_name=author)
                await publish_profile(deps, session, beneficiary, BeneficiaryUpdatedV1)
                await deps.outbox.add(session, TransferAcceptedV1(
                    deployment_id=notebook.deployment_id, beneficiary_email=beneficiary.email,
                    beneficiary_firstname=beneficiary.firstname, **common))
    except IntegrityError as error:  # the same person already has a notebook there (names and birth date)
        raise Conflict(ALREADY_THERE) from error
    return VersionReply(id=transfer.id)


async def move(session: AsyncSession, deps: Deps, notebook: Notebook, transfer: NotebookTransfer, now) -> Beneficiary:
    """The notebook and the beneficiary now belong to the destination; the origin's group becomes history."""
    beneficiary = await session.get(Beneficiary, notebook.beneficiary_id, with_for_update=True)
    if await session.scalar(select(func.count(Beneficiary.id)).where(
            Beneficiary.deployment_id == transfer.to_deployment_id,
            Beneficiary.identity_key == beneficiary.identity_key,
            Beneficiary.id != beneficiary.id)):
        raise Conflict(ALREADY_THERE)
    notebook.deployment_id = beneficiary.deployment_id = transfer.to_deployment_id
    notebook.orientation_system_id = None  # the origin's dispositifs do not exist there: the destination orients
    await session.execute(update(Member).where(Member.notebook_id == notebook.id, Member.ended_at.is_(None))
                          .values(ended_at=now, end_reason=MembershipEndReason.removed.value))
    await session.execute(update(BeneficiaryStructure).where(
        BeneficiaryStructure.notebook_id == notebook.id, BeneficiaryStructure.status == "current")
        .values(status="outdated", ended_at=now))
    await session.execute(update(OrientationRequest).where(
        OrientationRequest.notebook_id == notebook.id,
        OrientationRequest.status == OrientationRequestStatus.pending.value)
        .values(status=OrientationRequestStatus.denied.value, decided_at=now, decision_reason=TRANSFERRED))
    await session.execute(update(NotebookReferral).where(
        NotebookReferral.notebook_id == notebook.id, NotebookReferral.ended_at.is_(None)).values(ended_at=now))
    # Her requests (rectification, objection) are answered by the destination now, within the legal month.
    await session.execute(update(RightsRequest).where(RightsRequest.notebook_id == notebook.id)
                          .values(deployment_id=transfer.to_deployment_id))
    await session.flush()
    return beneficiary


# --- Referral -------------------------------------------------------------------------------------------------

async def grant_referral(request: GrantReferralV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.refer)
        email = request.email.strip().lower()
        person = (await session.execute(select(Person).where(
            func.lower(Person.email) == email, Person.deactivated_at.is_(None),
            or_(Person.role == Role.professional.value, Person.role == Role.orientation_manager.value,
                Person.role == Role.manager.value, Person.role == Role.admin_structure.value))
            .order_by(Person.role.desc()).limit(1))).scalar_one_or_none() if email else None
        rules.check_referral(caller.role, caller.deployment_id, notebook.deployment_id,
                             Role(person.role) if person else None, person.deployment_id if person else None,
                             request.until, today_of(caller, deps))
        author = await name_of(session, caller)
        name = f"{person.firstname} {person.lastname}".strip()
        # Invited again while the access runs: the same access, until the new date.
        referral = (await session.execute(select(NotebookReferral).where(
            NotebookReferral.notebook_id == notebook.id, NotebookReferral.person_id == person.id,
            NotebookReferral.ended_at.is_(None), NotebookReferral.until >= today_of(caller, deps))
            .with_for_update())).scalars().first()
        verb = "prolongé pour" if referral else "ouvert à"
        if referral is None:
            referral = NotebookReferral(notebook_id=notebook.id, person_id=person.id, person_name=name,
                                        until=request.until, reason=request.reason.strip(), granted_at=deps.clock(),
                                        granted_by_id=caller.profile_id, granted_by_name=author)
            session.add(referral)
            await session.flush()
        else:
            referral.until, referral.reason = request.until, request.reason.strip() or referral.reason
        labels = await labels_of(session, [notebook.deployment_id, person.deployment_id])
        await record(session, deps, notebook, caller, "transfer",
                     f"Accès temporaire {verb} {name} ({labels.get(person.deployment_id, 'autre territoire')}) "
                     f"jusqu'au {day(request.until)}", subject_id=referral.id, author_name=author)
        await deps.outbox.add(session, ReferralGrantedV1(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
            referral_id=referral.id, person_id=person.id, person_email=person.email,
            person_firstname=person.firstname, territory_label=labels.get(notebook.deployment_id, ""),
            until=request.until))
    return VersionReply(id=referral.id)
