"""The beneficiary's requests about her data: she asks a rectification or objects to the processing from her own
login; her référent (a rectification) or the territory's managers answer within the month, and she reads the answer
and hears of it by email. Each step goes to the notebook's history. A nightly pass reminds them of the requests due
within a week or late. The rules are in ``notebook.domain.rights``."""
from __future__ import annotations

import uuid
from datetime import date
from functools import partial

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.notebook import VersionReply
from contracts.rights import (
    AnswerRightsRequestV1,
    CreateRightsRequestV1,
    ListRightsRequestsV1,
    RightsRequestAnsweredV1,
    RightsRequestCreatedV1,
    RightsRequestKind,
    RightsRequestsDueV1,
    RightsRequestsReply,
    RightsRequestState,
    RightsRequestView,
)
from notebook.adapters.orm import Beneficiary, Member, Notebook, Person, RightsRequest
from notebook.domain import rights as rules
from notebook.domain.habilitation import Operation
from notebook.handlers.caller import Caller, caller_of, name_of, open_notebook, relations_to
from notebook.handlers.contracts import parties, today_of
from notebook.handlers.deps import Deps
from notebook.handlers.timeline import record
from contracts.notebook import MemberType
from servicekit.errors import Forbidden, Invalid, NotFound
from servicekit.periodic import repeat

log = structlog.get_logger("notebook.rights_requests")
REQUEST_NOT_FOUND = "Cette demande n'existe pas."
CHECK_EVERY_S = 3600


async def referent_of(session: AsyncSession, notebook_id: uuid.UUID) -> Person | None:
    return (await session.execute(select(Person).join(Member, Member.person_id == Person.id).where(
        Member.notebook_id == notebook_id, Member.member_type == MemberType.referent.value,
        Member.ended_at.is_(None)))).scalar_one_or_none()


async def is_referent(session: AsyncSession, caller: Caller, notebook_id: uuid.UUID) -> bool:
    referent = await referent_of(session, notebook_id)
    return referent is not None and caller.profile_id == referent.id


async def recipients_of(session: AsyncSession, notebook: Notebook, kind: str) -> list[str]:
    """Who answers: the territory's managers, and the référent for a rectification."""
    managers = (await session.execute(select(Person.email).where(
        Person.role == Role.manager.value, Person.deployment_id == notebook.deployment_id,
        Person.deactivated_at.is_(None), Person.email != ""))).scalars().all()
    emails = list(managers)
    referent = await referent_of(session, notebook.id)
    if kind == RightsRequestKind.rectification and referent and referent.email:
        emails.insert(0, referent.email)
    return list(dict.fromkeys(emails))


async def beneficiary_name(session: AsyncSession, notebook: Notebook) -> str:
    beneficiary = await session.get(Beneficiary, notebook.beneficiary_id)
    return f"{beneficiary.firstname} {beneficiary.lastname}" if beneficiary else ""


def view_of(row: RightsRequest, today: date, name: str = "") -> RightsRequestView:
    return RightsRequestView(
        request_id=row.id, notebook_id=row.notebook_id, beneficiary_name=name, kind=row.kind, field=row.field,
        text=row.text, wanted=row.wanted, created_at=row.created_at, due_on=row.due_on, state=row.state,
        overdue=rules.overdue(row.state, row.due_on, today), answer=row.answer,
        answered_by_name=row.answered_by_name, answered_at=row.answered_at)


def ordered(rows: list[RightsRequest]) -> list[RightsRequest]:
    return sorted(rows, key=lambda r: rules.order_key(r.state, r.due_on, r.created_at.isoformat()))


# --- The beneficiary asks -------------------------------------------------------------------------------------

async def create_request(request: CreateRightsRequestV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    if caller.role != Role.beneficiary:
        raise Forbidden(rules.ONLY_THE_PERSON)
    field, text, wanted = rules.checked_request(request.kind, request.field, request.text, request.wanted)
    async with deps.sessions.begin() as session:
        notebook, _ = await open_notebook(session, caller, None, Operation.view_full)
        now, today = deps.clock(), today_of(deps)
        row = RightsRequest(notebook_id=notebook.id, deployment_id=notebook.deployment_id, kind=request.kind.value,
                            field=field, text=text, wanted=wanted, created_at=now, due_on=rules.due_on(today),
                            state=RightsRequestState.open.value, answer="", answered_by_name="")
        session.add(row)
        await session.flush()
        label = rules.KIND_LABELS[request.kind]
        await record(session, deps, notebook, caller, "rights_request",
                     f"{label}{f' : {field}' if field else ''} (réponse attendue avant le {row.due_on:%d/%m/%Y})",
                     subject_id=row.id)
        await deps.outbox.add(session, RightsRequestCreatedV1(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
            request_id=row.id, kind=request.kind, due_on=row.due_on,
            beneficiary_name=await beneficiary_name(session, notebook),
            recipients=await recipients_of(session, notebook, request.kind.value)))
    return VersionReply(id=row.id)


# --- Reading --------------------------------------------------------------------------------------------------

async def list_requests(request: ListRightsRequestsV1, ctx, deps: Deps) -> RightsRequestsReply:
    """A notebook's requests (hers when she omits the id), or a manager's territory's, or those of the notebooks a
    professional is the référent of."""
    caller = await caller_of(ctx, deps)
    today = today_of(deps)
    async with deps.sessions() as session:
        query = select(RightsRequest, Notebook).join(Notebook, Notebook.id == RightsRequest.notebook_id)
        may_answer = False
        if request.notebook_id is not None or caller.role == Role.beneficiary:
            notebook, relations = await open_notebook(session, caller, request.notebook_id, Operation.view_public)
            referent = await is_referent(session, caller, notebook.id)
            if not rules.may_see(caller.role, relations, referent):
                raise Forbidden("Seuls le référent et les gestionnaires du territoire voient ces demandes.")
            may_answer = rules.may_answer(caller.role, relations, referent, RightsRequestKind.rectification)
            query = query.where(RightsRequest.notebook_id == notebook.id)
        elif caller.role == Role.manager and caller.deployment_id:
            query = query.where(RightsRequest.deployment_id == caller.deployment_id)
            may_answer = True
        elif caller.role in (Role.professional, Role.orientation_manager) and caller.profile_id:
            query = query.join(Member, Member.notebook_id == RightsRequest.notebook_id).where(
                Member.person_id == caller.profile_id, Member.member_type == MemberType.referent.value,
                Member.ended_at.is_(None), RightsRequest.kind == RightsRequestKind.rectification.value)
            may_answer = True
        else:
            return RightsRequestsReply()
        if request.open_only:
            query = query.where(RightsRequest.state == RightsRequestState.open.value)
        pairs = (await session.execute(query)).all()
        names = {}
        for _, notebook in pairs:
            if notebook.id not in names:
                names[notebook.id] = await beneficiary_name(session, notebook)
        rows = ordered([row for row, _ in pairs])
        return RightsRequestsReply(requests=[view_of(r, today, names.get(r.notebook_id, "")) for r in rows],
                                   may_answer=may_answer)


# --- Answering ------------------------------------------------------------------------------------------------

async def answer_request(request: AnswerRightsRequestV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    answer = rules.checked_answer(request.answer)
    async with deps.sessions.begin() as session:
        row = await session.get(RightsRequest, request.request_id, with_for_update=True)
        if row is None:
            raise NotFound(REQUEST_NOT_FOUND)
        notebook = await session.get(Notebook, row.notebook_id)
        relations = await relations_to(session, caller, notebook)
        referent = await is_referent(session, caller, notebook.id)
        if not rules.may_see(caller.role, relations, referent) or caller.role == Role.beneficiary:
            raise NotFound(REQUEST_NOT_FOUND)  # out of reach: the same answer as an unknown id
        kind = RightsRequestKind(row.kind)
        if not rules.may_answer(caller.role, relations, referent, kind):
            raise Forbidden("Une opposition au traitement est examinée par les gestionnaires du territoire.")
        if row.state != RightsRequestState.open.value:
            raise Invalid(rules.ALREADY_ANSWERED)
        author = await name_of(session, caller)
        state = RightsRequestState.accepted if request.accepted else RightsRequestState.refused
        row.state, row.answer, row.answered_by, row.answered_by_name, row.answered_at = (
            state.value, answer, caller.profile_id, author, deps.clock())
        await record(session, deps, notebook, caller, "rights_request",
                     f"{rules.KIND_LABELS[kind]} {rules.STATE_LABELS[state]}", subject_id=row.id,
                     author_name=author)
        people = await parties(session, notebook)
        await deps.outbox.add(session, RightsRequestAnsweredV1(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
            request_id=row.id, kind=kind, due_on=row.due_on, accepted=request.accepted,
            beneficiary_name=await beneficiary_name(session, notebook),
            beneficiary_email=people["beneficiary_email"], beneficiary_firstname=people["beneficiary_firstname"]))
    return VersionReply(id=row.id)


# --- The nightly reminder -------------------------------------------------------------------------------------

async def remind_due(deps: Deps) -> int:
    """One reminder event per open request due within a week or late, once a day whatever the replicas: each claims
    its request with a conditional update of ``reminded_on``, and only the one that changed the row tells."""
    today = today_of(deps)
    async with deps.sessions() as session:
        candidates = (await session.execute(select(RightsRequest.id, RightsRequest.due_on, RightsRequest.reminded_on)
                                            .where(RightsRequest.state == RightsRequestState.open.value))).all()
    sent = 0
    for request_id, due, reminded_on in candidates:
        if not rules.to_remind(RightsRequestState.open.value, due, today, reminded_on):
            continue
        async with deps.sessions.begin() as session:
            claimed = await session.execute(update(RightsRequest).where(
                RightsRequest.id == request_id, RightsRequest.state == RightsRequestState.open.value,
                (RightsRequest.reminded_on.is_(None)) | (RightsRequest.reminded_on != today))
                .values(reminded_on=today))
            if claimed.rowcount != 1:
                continue
            row = await session.get(RightsRequest, request_id)
            notebook = await session.get(Notebook, row.notebook_id)
            await deps.outbox.add(session, RightsRequestsDueV1(
                notebook_id=notebook.id, deployment_id=notebook.deployment_id,
                beneficiary_id=notebook.beneficiary_id, request_id=row.id, kind=RightsRequestKind(row.kind),
                due_on=row.due_on, overdue=rules.overdue(row.state, row.due_on, today),
                beneficiary_name=await beneficiary_name(session, notebook),
                recipients=await recipients_of(session, notebook, row.kind)))
            sent += 1
    return sent


async def run_reminders(deps: Deps) -> None:
    """Checked every hour: a request is reminded once per Paris day (the first check of the day)."""
    await repeat(partial(remind_due, deps), CHECK_EVERY_S, "rights_reminders_failed", log)
