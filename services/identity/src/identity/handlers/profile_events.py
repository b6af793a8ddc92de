"""Accounts follow the profiles owned by directory (people of structures) and notebook (beneficiaries).

A new profile with an email gets an account and, for people of structures, an invitation by email.
Beneficiaries are not invited (thousands arrive by import): they log in by SMS code or email link when
they wish. Every handler claims the event in the inbox first: a redelivered event has one effect.
"""
from __future__ import annotations

import uuid

import structlog
from sqlalchemy import Select, insert, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import AccountDeactivatedV1, AccountStatus, LinkPurpose, Role
from contracts.profiles import DeploymentCreatedV1, ProfileDeactivated, ProfileState
from identity.adapters.orm import Account, Deployment
from identity.adapters.retention_orm import PurgedProfile
from identity.domain.secrets import normalise_email, normalise_phone
from identity.handlers.accounts import revoke_sessions, state_of
from identity.handlers.deps import Deps
from identity.handlers.request_login_link import issue_link
from servicekit.db import one_of
from servicekit.errors import RejectMessage
from servicekit.inbox import exactly_once

CONSUMER = "identity-profiles"
log = structlog.get_logger("identity.profiles")


def is_stale(account: Account, event: ProfileState | ProfileDeactivated) -> bool:
    return account.profile_synced_at is not None and event.occurred_at < account.profile_synced_at


def contact_of(event: ProfileState) -> tuple[str | None, str | None]:
    return (normalise_email(event.email) if event.email else None,
            normalise_phone(event.phone) if event.phone else None)


def wanted(event: ProfileState, email: str | None, phone: str | None) -> list:
    """The accounts an event must know of: the profile's, the holder of its email, the beneficiary holding its
    phone (the same one, mostly)."""
    conditions = [(Account.role == event.role) & (Account.profile_id == event.profile_id)]
    if email:
        conditions.append(Account.email == email)
    if phone and event.role == Role.beneficiary:
        conditions.append((Account.phone == phone) & (Account.role == Role.beneficiary))
    return conditions


BATCH = "identity.profiles.batch"  # what ``read_for_batch`` read, in the batch's session
ACCOUNTS = f"{BATCH}.accounts"  # the batch's accounts by key (``keys_of``), kept up to date by ``remember``
NEW = f"{BATCH}.new"  # the batch's new beneficiaries' accounts, inserted together by ``insert_new``


def keys_of(role: str, profile_id, email: str | None, phone: str | None) -> list[tuple]:
    """Where an account is found in a batch's index: its profile, its email, a beneficiary's phone."""
    role = getattr(role, "value", role)
    keys: list[tuple] = [("profile", role, profile_id)]
    if email:
        keys.append(("email", email))
    if phone and role == Role.beneficiary.value:
        keys.append(("phone", phone))
    return keys


def remember(session: AsyncSession, account: Account) -> None:
    """``account`` read, added or changed in the batch: found again under its keys as they are now (those it
    had before stay, checked again when looked up)."""
    index = session.info[ACCOUNTS]
    for key in keys_of(account.role, account.profile_id, account.email, account.phone):
        held = index.setdefault(key, [])
        if not any(a is account for a in held):
            held.append(account)


async def read_for_batch(events: list[ProfileState], session: AsyncSession, _deps: Deps) -> None:
    """A batch of profile events (an import's) reads the purged profiles and the accounts its events need in two
    queries instead of two per event: each event then finds them in an index of the batch's accounts. The
    query asks for the profiles, emails and phones as three lists (a statement compiled once, whatever the
    batch), not as a condition per event."""
    contacts = [contact_of(event) for event in events]
    profile_ids = {event.profile_id for event in events}
    sqlite = session.bind.dialect.name == "sqlite"
    purged = set((await session.scalars(select(PurgedProfile.profile_id).where(
        one_of(PurgedProfile.profile_id, profile_ids, sqlite=sqlite)))).all()) if events else set()
    accounts = (await session.scalars(accounts_wanted(events, contacts, sqlite))).all() if events else []
    session.info[BATCH] = purged
    session.info[ACCOUNTS] = {}  # also holds them: the session's identity map only holds its objects weakly
    session.info[NEW] = []
    for account in accounts:
        remember(session, account)


def accounts_wanted(events: list[ProfileState], contacts: list[tuple[str | None, str | None]],
                    sqlite: bool) -> Select:
    """The accounts a batch of profile events may match: by profile, email or beneficiary's phone.

    Each branch of the OR has its index, so that PostgreSQL ORs three index scans: a branch without one made the
    query read every account, a batch's lookup growing with the territory (an import of 100,000 beneficiaries
    became quadratic). The profiles with their roles (``uq_account_profile``), the emails, the beneficiaries'
    phones with the role written in the statement as the partial index's condition is (a parameter matches it
    in no generic plan)."""
    roles = sorted({event.role.value for event in events})
    profile_ids = {event.profile_id for event in events}
    emails = sorted({email for email, _ in contacts if email})
    phones = sorted({phone for event, (_, phone) in zip(events, contacts, strict=True)
                     if phone and event.role == Role.beneficiary})
    return select(Account).where(or_(
        one_of(Account.role, roles, sqlite=sqlite) & one_of(Account.profile_id, profile_ids, sqlite=sqlite),
        one_of(Account.email, emails, sqlite=sqlite),
        one_of(Account.phone, phones, sqlite=sqlite) & (Account.role == literal_column(f"'{Role.beneficiary.value}'")),
    ))


def accounts_in_session(session: AsyncSession, event: ProfileState, email: str | None,
                        phone: str | None) -> list[Account]:
    """What the query of ``wanted`` would return, from the batch's accounts: every account it could match was
    read by ``read_for_batch`` or added or changed by an earlier event of the batch (``remember``). (A miss would
    break a unique index at the commit, and the batch would be handled again event by event, by the query.)"""
    index = session.info[ACCOUNTS]
    beneficiary = event.role == Role.beneficiary
    candidates = {id(a): a for key in keys_of(event.role, event.profile_id, email, phone) for a in index.get(key, ())}
    return [a for a in candidates.values() if (
        (a.role == event.role and a.profile_id == event.profile_id) or (email and a.email == email)
        or (phone and beneficiary and a.role == Role.beneficiary and a.phone == phone))]


def _column_defaults() -> list[tuple[str, object]]:
    defaults = []
    for column in Account.__table__.columns:
        default = column.default
        defaults.append((column.key, None if default is None else default.arg if default.is_scalar else
                         (lambda arg=default.arg: arg(None))))
    return defaults


ACCOUNT_DEFAULTS = _column_defaults()


def account_row(account: Account) -> dict:
    """The account's columns as the ORM would insert them: a value left unset (None) takes the column's default."""
    row = {}
    for key, default in ACCOUNT_DEFAULTS:
        value = account.__dict__.get(key)
        row[key] = value if value is not None else default() if callable(default) else default
    return row


async def insert_new(session: AsyncSession, _deps: Deps) -> None:
    """The batch's new beneficiaries' accounts, as they are after its last event, in one INSERT."""
    accounts = session.info.pop(NEW, None)
    if accounts:
        await session.execute(insert(Account.__table__), [account_row(account) for account in accounts])


@exactly_once(CONSUMER, prepare=read_for_batch, finish=insert_new)
async def on_profile_state(event: ProfileState, session: AsyncSession, deps: Deps) -> None:
    purged = session.info.get(BATCH)
    if (event.profile_id in purged) if purged is not None else (
            await session.get(PurgedProfile, event.profile_id) is not None):
        return  # her notebook was purged (retention, issue 21): a late event opens no account again
    role = event.role
    email, phone = contact_of(event)
    if email is None and phone is None:
        return  # no way to log in yet; a later update with contact details creates the account
    # One query (each is a round trip per event, and an import sends thousands), or none in a batch.
    if purged is not None:
        found = accounts_in_session(session, event, email, phone)
    else:
        found = (await session.execute(select(Account).where(or_(*wanted(event, email, phone))))).scalars().all()
    account = next((a for a in found if a.role == role and a.profile_id == event.profile_id), None)
    email_holder = next((a for a in found if email and a.email == email), None)  # email is unique
    superseded = False
    if account is None and email_holder is not None:
        # A confirmed sign-up request (or an earlier account) now gets its profile.
        account = email_holder
        if account.status == AccountStatus.pending and account.profile_id is None:
            # A sign-up request nobody confirmed, for an address an administrator has now given a profile: the
            # profile wins (its role, its territory) and the person is invited as any new one. Anyone may file a
            # request: it would otherwise block a manager's account to come, or keep a professional's pending.
            account.role, account.status, account.requested_structure = role, AccountStatus.active, ""
            superseded = True
        elif account.role != role:
            raise RejectMessage(f"email already used by a {account.role} account")
    if account is not None and is_stale(account, event):
        return  # created, updated and deactivated travel on separate consumers: a late older state loses
    is_new = account is None
    if is_new:
        account = Account(role=role, created_at=deps.clock(), status=AccountStatus.active)
        if purged is not None and role == Role.beneficiary:
            # In a batch (an import's thousands), a beneficiary's new account is a row of one INSERT with the
            # others (``insert_new``): the ORM's flush of one object each was most of what identity spent. Nothing
            # reads its id before (no invitation for beneficiaries), later events of the batch find it indexed.
            account.id = uuid.uuid4()
            session.info[NEW].append(account)
        else:
            session.add(account)
    if email_holder is not None and email_holder is not account:
        raise RejectMessage("email already used by another account")
    if phone and role == Role.beneficiary and any(
            a is not account and a.role == Role.beneficiary and a.phone == phone for a in found):
        log.warning("phone_shared_by_two_profiles", profile_id=str(event.profile_id))
        phone = account.phone  # two people on one number (a couple): SMS login stays with the first
    recreated = event.subject.endswith(".created.v1") and account.status == AccountStatus.deactivated
    if recreated:  # the person was deactivated, then created again: their account opens again
        account.status = AccountStatus.active
    account.profile_id, account.deployment_id = event.profile_id, event.deployment_id
    account.email, account.phone = email, phone
    account.firstname, account.lastname = event.firstname or account.firstname, event.lastname or account.lastname
    account.position = event.position or account.position
    account.structure_ids = [str(s) for s in event.structure_ids]
    account.updated_at, account.profile_synced_at = deps.clock(), event.occurred_at
    if purged is not None:
        remember(session, account)
    if (is_new or recreated or superseded) and email and role != Role.beneficiary:
        await session.flush()
        await issue_link(session, deps, account, LinkPurpose.invitation, event.created_by_name)


@exactly_once(CONSUMER)
async def on_profile_deactivated(event: ProfileDeactivated, session: AsyncSession, deps: Deps) -> None:
    account = (await session.execute(select(Account).where(
        Account.role == event.role, Account.profile_id == event.profile_id))).scalar_one_or_none()
    if account is None or account.status == AccountStatus.deactivated or is_stale(account, event):
        return
    account.status, account.updated_at = AccountStatus.deactivated, deps.clock()
    account.profile_synced_at = event.occurred_at
    await revoke_sessions(session, deps, account.id)
    await deps.outbox.add(session, AccountDeactivatedV1(**state_of(account)))


@exactly_once(CONSUMER)
async def on_deployment_created(event: DeploymentCreatedV1, session: AsyncSession, _deps: Deps) -> None:
    deployment = await session.get(Deployment, event.deployment_id) or Deployment(id=event.deployment_id)
    deployment.label, deployment.department_code = event.label, event.department_code
    session.add(deployment)
