"""Bilans d'accompagnement: the progress of each objective and action since the previous bilan, gathered from the
notebook (their statuses now and the status changes its history kept: nothing typed twice), with the professional's
assessment and next steps; saved by a member, read by the members, the territory and the beneficiary, as a PDF too.
The rules are in ``notebook.domain.bilans``; this module loads, checks and stores."""
from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import date, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.bilans import (
    BilanAction,
    BilanChange,
    BilanCreatedV1,
    BilanDraft,
    BilanObjective,
    BilansReply,
    BilanView,
    CreateBilanV1,
    GetBilanPdfV1,
    GetBilanV1,
    ListBilansV1,
    PrepareBilanV1,
)
from contracts.notebook import BilanSummary, ContractPdfReply, VersionReply
from notebook.adapters.bilan_pdf import bilan_pdf
from notebook.adapters.orm import (
    Action,
    Beneficiary,
    Bilan,
    Focus,
    Notebook,
    RefTheme,
    Target,
    TerritoryRead,
    TimelineEvent,
)
from notebook.domain import bilans as rules
from notebook.domain.habilitation import Operation, may
from notebook.handlers.caller import Caller, beneficiary_name_of, caller_of, name_of, open_notebook
from notebook.handlers.contracts import PARIS, parties, today_of
from notebook.handlers.deps import Deps
from notebook.handlers.parcours import ACTION_STATUS_LABELS, TARGET_STATUS_LABELS
from notebook.handlers.timeline import record
from notebook.handlers.visits import log_read
from servicekit.errors import Invalid, NotFound

BILAN_NOT_FOUND = "Ce bilan n'existe pas."


def paris_day(moment: datetime | None) -> date | None:
    return moment.astimezone(PARIS).date() if moment else None


def first_of(*moments: datetime | None) -> date | None:
    days = [day for day in map(paris_day, moments) if day is not None]
    return min(days) if days else None


# --- What the notebook holds ----------------------------------------------------------------------------------

async def status_changes(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[rules.StatusChange]]:
    """The status changes the history kept for these objectives and actions, oldest first."""
    changes: dict[uuid.UUID, list[rules.StatusChange]] = {}
    if not ids:
        return changes
    rows = (await session.execute(select(TimelineEvent).where(
        TimelineEvent.subject_id.in_(ids), TimelineEvent.kind.in_(("target", "action")))
        .order_by(TimelineEvent.occurred_at))).scalars().all()
    for entry in rows:
        status = (entry.changes or {}).get("status")
        if isinstance(status, list) and len(status) == 2:
            changes.setdefault(entry.subject_id, []).append(
                rules.StatusChange(paris_day(entry.occurred_at), str(status[0]), str(status[1])))
    return changes


def changes_of(result: rules.Progress, labels: dict) -> list[BilanChange]:
    return [BilanChange(day=c.day, before=labels.get(c.before, c.before), after=labels.get(c.after, c.after))
            for c in result.changes]


async def gather(session: AsyncSession, notebook: Notebook, since: date | None,
                 until: date) -> list[BilanObjective]:
    """Each objective and action of the notebook on ``until``, with its progress since ``since``."""
    themes = dict((await session.execute(select(RefTheme.name, RefTheme.label))).all())
    targets = (await session.execute(
        select(Target, Focus).join(Focus, Focus.id == Target.focus_id).where(Focus.notebook_id == notebook.id)
        .order_by(Focus.created_at, Target.created_at))).all()
    actions = (await session.execute(select(Action).where(
        Action.target_id.in_([t.id for t, _ in targets])).order_by(Action.created_at))).scalars().all() \
        if targets else []
    changes = await status_changes(session, [t.id for t, _ in targets] + [a.id for a in actions])
    first = since is None
    objectives = []
    for target, focus in targets:
        item = rules.Item(target.id, target.status, paris_day(target.created_at),
                          first_of(target.deleted_at, focus.deleted_at), tuple(changes.get(target.id, ())))
        result = rules.progress(item, since, until)
        if result is None:
            continue
        bilan_actions = []
        for action in (a for a in actions if a.target_id == target.id):
            done = rules.progress(rules.Item(
                action.id, action.status, paris_day(action.created_at),
                first_of(action.deleted_at, target.deleted_at, focus.deleted_at),
                tuple(changes.get(action.id, ()))), since, until)
            if done is not None:
                bilan_actions.append(BilanAction(
                    action_id=action.id, action=action.action, status=done.status,
                    status_label=ACTION_STATUS_LABELS.get(done.status, done.status),
                    previous_status_label=ACTION_STATUS_LABELS.get(done.previous_status, done.previous_status)
                    if done.previous_status else "",
                    new=done.new, changes=changes_of(done, ACTION_STATUS_LABELS),
                    progress=rules.progress_label(done, ACTION_STATUS_LABELS, first=first)))
        objectives.append(BilanObjective(
            target_id=target.id, theme_label=themes.get(focus.theme, focus.theme), target=target.target,
            status=result.status, status_label=TARGET_STATUS_LABELS.get(result.status, result.status),
            previous_status_label=TARGET_STATUS_LABELS.get(result.previous_status, result.previous_status)
            if result.previous_status else "",
            new=result.new, changes=changes_of(result, TARGET_STATUS_LABELS),
            progress=rules.progress_label(result, TARGET_STATUS_LABELS, first=first), actions=bilan_actions))
    return objectives


async def bilan_dates(session: AsyncSession, notebook_id: uuid.UUID) -> list[date]:
    return list((await session.execute(select(Bilan.bilan_date).where(Bilan.notebook_id == notebook_id)))
                .scalars().all())


# --- Reading --------------------------------------------------------------------------------------------------

def summary_of(bilan: Bilan) -> BilanSummary:
    return BilanSummary(bilan_id=bilan.id, bilan_date=bilan.bilan_date, previous_date=bilan.previous_date,
                        created_at=bilan.created_at, created_by_name=bilan.created_by_name)


# Built once: the notebook page reads them on every view.
BILANS = select(Bilan).where(Bilan.notebook_id == bindparam("notebook_id")).order_by(Bilan.bilan_date.desc())


async def bilan_summaries(session: AsyncSession, notebook: Notebook) -> list[BilanSummary]:
    rows = (await session.execute(BILANS, {"notebook_id": notebook.id})).scalars().all()
    return [summary_of(bilan) for bilan in rows]


def bilan_operations(caller: Caller, relations) -> list[str]:
    return [Operation.write_bilan.value] if may(caller.role, relations, Operation.write_bilan) else []


async def list_bilans(request: ListBilansV1, ctx, deps: Deps) -> BilansReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        notebook, relations = await open_notebook(session, caller, request.notebook_id, Operation.view_bilans)
        return BilansReply(notebook_id=notebook.id, bilans=await bilan_summaries(session, notebook),
                           allowed=bilan_operations(caller, relations))


async def prepare_bilan(request: PrepareBilanV1, ctx, deps: Deps) -> BilanDraft:
    """The bilan at a date as it would be saved now (nothing stored)."""
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.write_bilan)
        dates = await bilan_dates(session, notebook.id)
        bilan_date = request.bilan_date or today_of(deps)
        rules.check_bilan_date(bilan_date, today_of(deps), max(dates) if dates else None)
        since = rules.previous_date(dates, bilan_date)
        return BilanDraft(notebook_id=notebook.id, beneficiary_name=await beneficiary_name_of(session, notebook),
                          bilan_date=bilan_date, previous_date=since,
                          objectives=await gather(session, notebook, since, bilan_date))


async def bilan_in_reach(session: AsyncSession, caller: Caller, bilan_id: uuid.UUID) -> tuple[Bilan, Notebook]:
    bilan = await session.get(Bilan, bilan_id)
    if bilan is None:
        raise NotFound(BILAN_NOT_FOUND)
    notebook, _ = await open_notebook(session, caller, bilan.notebook_id, Operation.view_bilans)
    return bilan, notebook


async def view_of(session: AsyncSession, bilan: Bilan, notebook: Notebook) -> BilanView:
    territory = await session.get(TerritoryRead, notebook.deployment_id)
    beneficiary = await session.get(Beneficiary, notebook.beneficiary_id)
    return BilanView(
        bilan_id=bilan.id, notebook_id=bilan.notebook_id, bilan_date=bilan.bilan_date,
        previous_date=bilan.previous_date, territory_name=territory.label if territory else "",
        beneficiary_name=f"{beneficiary.firstname} {beneficiary.lastname}" if beneficiary else "",
        objectives=[BilanObjective.model_validate(o) for o in bilan.content or []], assessment=bilan.assessment,
        next_steps=bilan.next_steps, created_at=bilan.created_at, created_by_name=bilan.created_by_name)


async def get_bilan(request: GetBilanV1, ctx, deps: Deps) -> BilanView:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        bilan, notebook = await bilan_in_reach(session, caller, request.bilan_id)
        await log_read(session, deps, caller, notebook)
        return await view_of(session, bilan, notebook)


async def get_bilan_pdf(request: GetBilanPdfV1, ctx, deps: Deps) -> ContractPdfReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        bilan, notebook = await bilan_in_reach(session, caller, request.bilan_id)
        view = await view_of(session, bilan, notebook)
        await log_read(session, deps, caller, notebook)
    pdf = await asyncio.to_thread(bilan_pdf, view)  # off the event loop, as the contracts' PDF
    return ContractPdfReply(filename=f"bilan-{view.bilan_date.isoformat()}-{view.bilan_id}.pdf",
                            pdf_base64=base64.b64encode(pdf).decode("ascii"))


# --- Writing --------------------------------------------------------------------------------------------------

async def create_bilan(request: CreateBilanV1, ctx, deps: Deps) -> VersionReply:
    """Saved by a member: the progress gathered now, for the date chosen, with what he wrote."""
    caller = await caller_of(ctx, deps)
    assessment = rules.check_assessment(request.assessment)
    try:
        async with deps.sessions.begin() as session:
            notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.write_bilan)
            await session.get(Notebook, notebook.id, with_for_update=True)  # two bilans at once: one after the other
            dates = await bilan_dates(session, notebook.id)
            today = today_of(deps)
            bilan_date = request.bilan_date or today
            rules.check_bilan_date(bilan_date, today, max(dates) if dates else None)
            since = rules.previous_date(dates, bilan_date)
            objectives = await gather(session, notebook, since, bilan_date)
            author = await name_of(session, caller)
            bilan = Bilan(notebook_id=notebook.id, bilan_date=bilan_date, previous_date=since,
                          content=[o.model_dump(mode="json") for o in objectives], assessment=assessment,
                          next_steps=request.next_steps.strip(), created_at=deps.clock(),
                          created_by=caller.profile_id, created_by_name=author)
            session.add(bilan)
            await session.flush()
            await record(session, deps, notebook, caller, "bilan",
                         f"Bilan d'accompagnement du {rules.french_day(bilan_date)}", subject_id=bilan.id,
                         author_name=author)
            await deps.outbox.add(session, BilanCreatedV1(bilan_id=bilan.id, bilan_date=bilan_date,
                                                          author_name=author, **await parties(session, notebook)))
    except IntegrityError as error:  # the same date saved twice at the same instant: the unique index keeps one
        raise Invalid(rules.NOT_AFTER_PREVIOUS.format(rules.french_day(request.bilan_date or today_of(deps))),
                      details={"field": "bilan_date"}) from error
    return VersionReply(id=bilan.id)
