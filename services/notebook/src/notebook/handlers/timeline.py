"""The notebook's history: every change as a readable entry (who, when, what, from where), and its redaction."""
from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import AcceptedReply
from contracts.notebook import ChangeSource, RedactTimelineEntryV1
from notebook.adapters.orm import Action, Member, Notebook, Target, TimelineEvent
from notebook.domain.habilitation import Operation
from notebook.handlers.caller import Caller, caller_of, name_of, open_notebook
from notebook.handlers.deps import Deps
from servicekit.errors import NotFound
from servicekit.rpc import RpcContext

REDACTED_TEXT = "Texte masqué par un gestionnaire"
ENTRY_NOT_FOUND = "Cette entrée de l'historique n'existe pas."


async def record(session: AsyncSession, deps: Deps, notebook: Notebook, caller: Caller | None, kind: str,
                 summary: str, *, subject_id: uuid.UUID | None = None, changes: dict | None = None,
                 source: ChangeSource = ChangeSource.person, author_name: str | None = None) -> None:
    """Adds a history entry and marks the notebook (and the author's membership) as modified now."""
    now = deps.clock()
    if author_name is None:
        author_name = await name_of(session, caller) if caller else ""
    session.add(TimelineEvent(
        notebook_id=notebook.id, occurred_at=now, kind=kind, summary=summary, changes=changes or {},
        subject_id=subject_id, author_id=caller.profile_id if caller else None, author_name=author_name,
        source=source.value))
    notebook.updated_at = now
    if caller and caller.profile_id:
        await session.execute(update(Member).where(
            Member.notebook_id == notebook.id, Member.person_id == caller.profile_id,
            Member.ended_at.is_(None)).values(last_modified_at=now))


async def hide_entries_of(session: AsyncSession, subject_ids: list[uuid.UUID]) -> None:
    """What was deleted leaves the history everyone sees; the rows stay for the audit trail."""
    if subject_ids:
        await session.execute(update(TimelineEvent).where(TimelineEvent.subject_id.in_(subject_ids))
                              .values(hidden=True))


async def redact(request: RedactTimelineEntryV1, ctx: RpcContext, deps: Deps) -> AcceptedReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        entry = await session.get(TimelineEvent, request.entry_id)
        if entry is None:
            raise NotFound(ENTRY_NOT_FOUND)
        await open_notebook(session, caller, entry.notebook_id, Operation.redact)
        if entry.redacted_at is None:
            entry.summary, entry.changes = REDACTED_TEXT, {}
            entry.redacted_at = deps.clock()
            entry.redacted_by_name = await name_of(session, caller)
            entry.redaction_reason = request.reason.strip()
            # A free-text action or objective holds the same words as its entry.
            for table, column in ((Action, Action.action), (Target, Target.target)):
                await session.execute(update(table).where(table.id == entry.subject_id)
                                      .values({column: REDACTED_TEXT}))
    return AcceptedReply()
