"""Appends each audit event to the chain, once.

One append at a time, whatever the number of replicas and consumers: the transaction locks the chain's row first
(``FOR UPDATE`` on PostgreSQL; on SQLite a writing transaction holds the database's lock from its BEGIN), reads the
head, writes the line after it and moves the head. ``prev_hash`` is unique besides, so that a fork could never
commit. A redelivered event finds its line (``event_id`` is unique) and appends nothing.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from audit.adapters.orm import AuditChain, AuditLine
from audit.domain.chain import line_hash
from audit.handlers.deps import Deps
from contracts.audit import AUDIT_EVENTS, AuditRecorded
from servicekit.consumers import EventMeta

CONSUMERS = {event.subject.split(".", 1)[0]: f"audit-{event.subject.split('.', 1)[0]}" for event in AUDIT_EVENTS}


async def append(session: AsyncSession, event: AuditRecorded, recorded_at) -> AuditLine | None:
    """In the caller's transaction: the line appended, or None when the event is in the log already."""
    chain = await session.scalar(select(AuditChain).where(AuditChain.id == 1).with_for_update())
    if await session.scalar(select(AuditLine.seq).where(AuditLine.event_id == event.event_id)) is not None:
        return None
    fields = dict(seq=chain.head_seq + 1, event_id=event.event_id, recorded_at=recorded_at,
                  occurred_at=event.occurred_at, deployment_id=event.deployment_id,
                  actor_account_id=event.actor_account_id, actor_role=event.actor_role[:30],
                  action=event.action[:60], target_type=event.target_type[:30], target_id=event.target_id[:100],
                  notebook_id=event.notebook_id, details=dict(event.details))
    line = AuditLine(**fields, prev_hash=chain.head_hash, hash=line_hash(chain.head_hash, fields))
    session.add(line)
    chain.head_seq, chain.head_hash = line.seq, line.hash
    return line


async def on_audit_recorded(event: AuditRecorded, _meta: EventMeta, deps: Deps) -> None:
    async with deps.sessions() as session, session.begin():
        await append(session, event, deps.clock())
