"""Exchanges between professionals: the thread of a notebook among the members of its group (texts encrypted at
rest), the messages shared with the beneficiary, mentions and questions that email the members told (through
notify: ``notebook.exchange.posted.v1`` names them, never the text), and each member's "read up to" marker behind
the unread counts of the beneficiaries' list. The rules are in ``notebook.domain.exchanges``.

The beneficiary reads the messages shared with her (notify tells her of each one) and may answer one of them: her
answer is shared with her, read by the group, and tells the message's author. For her a message not shared with her,
or of another notebook, does not exist.

The thread is the group's: anyone else (a professional of the territory outside the group, a manager, another
territory) is answered that there is no such thread, as for an unknown notebook."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.exchanges import (
    ExchangeMember,
    ExchangePostedReply,
    ExchangePostedV1,
    ExchangeRecipient,
    ExchangesReply,
    ExchangeView,
    ListExchangesV1,
    PostExchangeV1,
    ReplyExchangeV1,
)
from contracts.notebook import MemberType
from notebook.adapters.orm import (
    Beneficiary,
    ExchangeMessage,
    ExchangeRead,
    Member,
    Notebook,
    NotebookReferral,
    Person,
    StructureRead,
)
from notebook.domain import exchanges as rules
from notebook.domain.habilitation import Operation, may
from notebook.handlers.caller import NOT_FOUND, Caller, beneficiary_name_of, caller_of, name_of, open_notebook
from notebook.handlers.contracts import today_of
from notebook.handlers.deps import Deps
from notebook.handlers.visits import log_read
from servicekit.errors import Forbidden, Invalid, NotFound

THREAD_LIMIT = 500  # the newest messages a view shows
NOT_FOR_BENEFICIARY = "Les échanges entre professionnels ne s'écrivent pas depuis l'espace du bénéficiaire."
NO_SUCH_MESSAGE = "Ce message n'existe pas ou ne vous est pas destiné."
REPLY_IN_THREAD = "Les membres du groupe de suivi répondent en écrivant un message dans les échanges."
ANSWER_A_PROFESSIONAL = "On répond au message d'un professionnel, pas à sa propre réponse."


async def thread_in_reach(session: AsyncSession, caller: Caller, notebook_id: uuid.UUID | None,
                          operation: Operation) -> tuple[Notebook, frozenset]:
    """The notebook whose thread the caller may read or write; out of the group it does not exist for her."""
    try:
        return await open_notebook(session, caller, notebook_id, operation)
    except Forbidden as refused:
        raise NotFound(NOT_FOUND, details={"reason": "not_imported"}) from refused


@dataclass(frozen=True)
class InGroup:
    person: Person
    structure: str
    referent: bool = False


async def group_of(session: AsyncSession, notebook_id: uuid.UUID, today: date) -> list[InGroup]:
    """The active members, in the order they joined, then the professionals of another territory let in until a
    date (a referral), each with her first structure's name."""
    rows = (await session.execute(
        select(Member, Person).join(Person, Person.id == Member.person_id)
        .where(Member.notebook_id == notebook_id, Member.ended_at.is_(None))
        .order_by(Member.started_at, Person.lastname))).all()
    referred = (await session.execute(
        select(Person).join(NotebookReferral, NotebookReferral.person_id == Person.id)
        .where(NotebookReferral.notebook_id == notebook_id, NotebookReferral.ended_at.is_(None),
               NotebookReferral.until >= today).order_by(NotebookReferral.granted_at))).scalars().all()
    people = [(p, m.member_type == MemberType.referent.value) for m, p in rows]
    seen = {p.id for p, _ in people}
    people += [(p, False) for p in dict.fromkeys(referred) if p.id not in seen]
    structure_ids = {p.structure_id for p, _ in people if p.structure_id}
    names = dict((await session.execute(select(StructureRead.id, StructureRead.name).where(
        StructureRead.id.in_(structure_ids)))).all()) if structure_ids else {}
    return [InGroup(p, names.get(p.structure_id, ""), referent) for p, referent in people]


def full_name(person: Person) -> str:
    return f"{person.firstname} {person.lastname}".strip()


async def read_marker(session: AsyncSession, notebook_id: uuid.UUID, person_id: uuid.UUID | None):
    if person_id is None:
        return None
    row = await session.get(ExchangeRead, (notebook_id, person_id))
    return row.read_up_to if row else None


async def list_exchanges(request: ListExchangesV1, ctx, deps: Deps) -> ExchangesReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        notebook, relations = await thread_in_reach(session, caller, request.notebook_id, Operation.view_public)
        member = may(caller.role, relations, Operation.view_exchanges)
        if not member and not may(caller.role, relations, Operation.view_shared_exchanges):
            raise NotFound(NOT_FOUND, details={"reason": "not_imported"})
        await log_read(session, deps, caller, notebook)
        query = select(ExchangeMessage).where(ExchangeMessage.notebook_id == notebook.id)
        if not member:
            query = query.where(ExchangeMessage.shared_with_beneficiary.is_(True))
        rows = list(reversed((await session.execute(
            query.order_by(ExchangeMessage.created_at.desc(), ExchangeMessage.id).limit(THREAD_LIMIT))
        ).scalars().all()))
        group = await group_of(session, notebook.id, today_of(deps))
        read_up_to = await read_marker(session, notebook.id, caller.profile_id) if member else None
        name = await beneficiary_name_of(session, notebook)
    names = {g.person.id: full_name(g.person) for g in group}
    me = caller.profile_id if member else None
    # The beneficiary's id is not a member's: what she wrote is hers on her own view.
    mine_ids = {caller.profile_id} if member else {notebook.beneficiary_id}
    messages = []
    for row in rows:
        if not rules.visible(rules.Seen(row.shared_with_beneficiary), member=member):
            continue
        fresh = member and rules.unread([(row.author_id, row.created_at)], me, read_up_to) == 1
        messages.append(ExchangeView(
            exchange_id=row.id, author_name=row.author_name, author_structure=row.author_structure,
            created_at=row.created_at, text=deps.protection.decrypt(row.text_encrypted),
            shared_with_beneficiary=row.shared_with_beneficiary,
            addressed_to_name=names.get(row.addressed_to, "") if row.addressed_to else "",
            mentioned_names=[names[uuid.UUID(str(i))] for i in row.mentions if uuid.UUID(str(i)) in names],
            mine=row.author_id in mine_ids, unread=fresh,
            by_beneficiary=row.author_id == notebook.beneficiary_id, reply_to=row.reply_to))
    unread = sum(1 for m in messages if m.unread)
    if member and request.mark_read and rows:
        await mark_read(deps, notebook.id, caller.profile_id, max(r.created_at for r in rows))
    return ExchangesReply(
        notebook_id=notebook.id, beneficiary_name=name, messages=messages, unread=unread,
        members=[ExchangeMember(person_id=g.person.id, name=full_name(g.person), structure_name=g.structure,
                                referent=g.referent)
                 for g in group if member and g.person.id != caller.profile_id],
        allowed=[op.value for op in (Operation.view_exchanges, Operation.post_exchange,
                                     Operation.view_shared_exchanges, Operation.reply_shared_exchange)
                 if may(caller.role, relations, op)])


async def mark_read(deps: Deps, notebook_id: uuid.UUID, person_id: uuid.UUID | None, newest) -> None:
    """The member's marker moves forward to ``newest`` (never back: an older view arriving late changes nothing)."""
    if person_id is None:
        return
    try:
        async with deps.sessions.begin() as session:
            row = await session.get(ExchangeRead, (notebook_id, person_id), with_for_update=True)
            if row is None:
                session.add(ExchangeRead(notebook_id=notebook_id, person_id=person_id, read_up_to=newest))
            elif row.read_up_to < newest:
                row.read_up_to = newest
    except IntegrityError:
        pass  # two views at once: the other one created the marker


def checked_text(text: str) -> str:
    """A message's or an answer's text as kept (stripped), or Invalid on its field."""
    try:
        return rules.check_text(text)
    except rules.ExchangeError as error:
        raise Invalid(error.message, details={"field": error.field}) from error


async def post_exchange(request: PostExchangeV1, ctx, deps: Deps) -> ExchangePostedReply:
    caller = await caller_of(ctx, deps)
    text = checked_text(request.text)
    async with deps.sessions.begin() as session:
        notebook, relations = await thread_in_reach(session, caller, request.notebook_id, Operation.view_public)
        if not may(caller.role, relations, Operation.post_exchange):
            if may(caller.role, relations, Operation.view_shared_exchanges):
                raise Forbidden(NOT_FOR_BENEFICIARY)
            raise NotFound(NOT_FOUND, details={"reason": "not_imported"})
        group = await group_of(session, notebook.id, today_of(deps))
        members = [rules.GroupMember(g.person.id, g.person.firstname, g.person.lastname) for g in group]
        try:
            told, addressed_to = rules.recipients(caller.profile_id, members, request.mentions,
                                                  request.addressed_to, text)
        except rules.ExchangeError as error:
            raise Invalid(error.message, details={"field": error.field}) from error
        author = next((g for g in group if g.person.id == caller.profile_id), None)
        message = ExchangeMessage(
            notebook_id=notebook.id, author_id=caller.profile_id,
            author_name=full_name(author.person) if author else await name_of(session, caller),
            author_structure=author.structure if author else "",
            text_encrypted=deps.protection.encrypt(text), shared_with_beneficiary=request.shared_with_beneficiary,
            addressed_to=addressed_to, mentions=[str(i) for i in told], created_at=deps.clock())
        session.add(message)
        await session.flush()
        recipients = told_by_email(group, told, addressed_to)
        beneficiary = await session.get(Beneficiary, notebook.beneficiary_id) if message.shared_with_beneficiary \
            else None
        await deps.outbox.add(session, ExchangePostedV1(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
            exchange_id=message.id, author_name=message.author_name,
            shared_with_beneficiary=message.shared_with_beneficiary, recipients=recipients,
            beneficiary_phone=beneficiary.mobile_number or "" if beneficiary else "",
            beneficiary_email=beneficiary.email or "" if beneficiary else "",
            beneficiary_channels=beneficiary.notification_channels or [] if beneficiary else []))
    return ExchangePostedReply(exchange_id=message.id, mentioned=len(recipients))


def told_by_email(group: list[InGroup], told: list[uuid.UUID],
                  addressed_to: uuid.UUID | None) -> list[ExchangeRecipient]:
    people = {g.person.id: g.person for g in group}
    return [ExchangeRecipient(email=people[i].email, firstname=people[i].firstname, addressed=i == addressed_to)
            for i in told if i in people and people[i].email and people[i].deactivated_at is None]


async def reply_exchange(request: ReplyExchangeV1, ctx, deps: Deps) -> ExchangePostedReply:
    """The beneficiary answers a message shared with her. Default deny: only her own notebook's shared messages
    may be answered, anything else is answered 404 as if it did not exist; a member writes in the thread instead."""
    caller = await caller_of(ctx, deps)
    text = checked_text(request.text)
    async with deps.sessions.begin() as session:
        answered = await session.get(ExchangeMessage, request.exchange_id)
        if answered is None:
            raise NotFound(NO_SUCH_MESSAGE)
        try:
            notebook, relations = await thread_in_reach(session, caller, answered.notebook_id, Operation.view_public)
        except NotFound as refused:
            raise NotFound(NO_SUCH_MESSAGE) from refused
        if not may(caller.role, relations, Operation.reply_shared_exchange):
            if may(caller.role, relations, Operation.view_exchanges):
                raise Forbidden(REPLY_IN_THREAD)
            raise NotFound(NO_SUCH_MESSAGE)
        if not rules.visible(rules.Seen(answered.shared_with_beneficiary), member=False):
            raise NotFound(NO_SUCH_MESSAGE)
        if answered.author_id == notebook.beneficiary_id:
            raise Invalid(ANSWER_A_PROFESSIONAL, details={"field": "exchange_id"})
        group = await group_of(session, notebook.id, today_of(deps))
        # Her answer goes to whom she answers while still in the group, else to her référent: someone is told.
        author = next((g.person.id for g in group if g.person.id == answered.author_id),
                      next((g.person.id for g in group if g.referent), None))
        message = ExchangeMessage(
            notebook_id=notebook.id, author_id=notebook.beneficiary_id,
            author_name=await beneficiary_name_of(session, notebook) or "La personne accompagnée",
            author_structure="", text_encrypted=deps.protection.encrypt(text), shared_with_beneficiary=True,
            addressed_to=author, mentions=[str(author)] if author else [], created_at=deps.clock(),
            reply_to=answered.id)
        session.add(message)
        await session.flush()
        recipients = told_by_email(group, [author] if author else [], None)
        await deps.outbox.add(session, ExchangePostedV1(
            notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
            exchange_id=message.id, author_name=message.author_name, shared_with_beneficiary=True,
            recipients=recipients, by_beneficiary=True, reply_to=answered.id))
    return ExchangePostedReply(exchange_id=message.id, mentioned=len(recipients))


async def unread_counts(session: AsyncSession, notebook_ids: list[uuid.UUID],
                        person_id: uuid.UUID | None) -> dict[uuid.UUID, int]:
    """For the beneficiaries' list: per notebook of which the person is an active member, the messages of others
    newer than her marker (all of them if she never opened the thread)."""
    if person_id is None or not notebook_ids:
        return {}
    rows = await session.execute(
        select(ExchangeMessage.notebook_id, func.count(ExchangeMessage.id))
        .join(Member, and_(Member.notebook_id == ExchangeMessage.notebook_id, Member.person_id == person_id,
                           Member.ended_at.is_(None)))
        .outerjoin(ExchangeRead, and_(ExchangeRead.notebook_id == ExchangeMessage.notebook_id,
                                      ExchangeRead.person_id == person_id))
        .where(ExchangeMessage.notebook_id.in_(notebook_ids),
               or_(ExchangeMessage.author_id.is_(None), ExchangeMessage.author_id != person_id),
               or_(ExchangeRead.read_up_to.is_(None), ExchangeMessage.created_at > ExchangeRead.read_up_to))
        .group_by(ExchangeMessage.notebook_id))
    return {notebook_id: count for notebook_id, count in rows.all()}
