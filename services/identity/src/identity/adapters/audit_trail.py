"""Identity's lines of the audit trail (issue 21): logins and their refusals, sessions ended, accounts confirmed,
deactivated, reactivated or invited again. Written into the outbox in the transaction of the action; ids and codes
only (never an email, a phone or an IP address: the login attempts keep those, for their own shorter life).

``record_attempt`` is synchronous (its callers do not await it): its lines are collected on the session and
written just before the commit, by a listener of that session, in the same transaction.
"""
from __future__ import annotations

import uuid
from functools import partial

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from contracts.audit import IdentityAuditRecordedV1
from identity.adapters.orm import Account
from servicekit.messaging import outbox_table
from servicekit.outbox import Outbox, outbox_rows

KEY = "audit_attempts"
# Attempts that are not an account action: asking for a link (anyone may, for any address), refreshing a session.
NOT_AUDITED = frozenset({"link_requested", "refreshed"})


def line(action: str, account: Account, *, actor_account_id: uuid.UUID | None = None, actor_role: str = "",
         **details: str) -> IdentityAuditRecordedV1:
    return IdentityAuditRecordedV1(
        deployment_id=account.deployment_id, actor_account_id=actor_account_id or account.id,
        actor_role=actor_role or account.role, action=action, target_type="account", target_id=str(account.id),
        details={k: str(v) for k, v in details.items()})


def attempt(session: AsyncSession, outbox: Outbox, kind: str, account_id: uuid.UUID | None, success: bool) -> None:
    """A login attempt of a known account, audited at the commit (``record_attempt``)."""
    if account_id is None or kind in NOT_AUDITED:
        return
    sync = session.sync_session
    pending = sync.info.setdefault(KEY, [])
    pending.append((kind, account_id, success))
    if len(pending) == 1:
        sa_event.listen(sync, "before_commit", partial(_write_attempts, outbox=outbox), once=True)
        outbox.wake_on_commit(sync)
        sa_event.listen(sync, "after_soft_rollback", lambda s, _t: s.info.pop(KEY, None), once=True)


def _write_attempts(session: Session, outbox: Outbox) -> None:
    pending = session.info.pop(KEY, None)
    if not pending:
        return
    with session.no_autoflush:
        accounts = {a.id: a for a in session.execute(select(Account).where(
            Account.id.in_({account_id for _, account_id, _ in pending}))).scalars()}
    events = [line(f"account.{kind}", accounts[account_id], success="oui" if success else "non")
              for kind, account_id, success in pending if account_id in accounts]
    if events:
        session.execute(insert(outbox_table), outbox_rows(events))
        outbox.wake_replicas(session)  # the other replicas' relays, as Outbox.add does
