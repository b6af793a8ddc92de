"""Who may act on whose account. Pure rules over explicit scopes; anything not allowed here is denied.

- admin_cdb: every account.
- manager: accounts of their own deployment (not admin_cdb ones).
- admin_structure: professionals of a structure they administer.
- nobody deactivates their own account (one would lock oneself out with no way back).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from contracts.identity import AccountStatus, Role


class AccountOperation(StrEnum):
    view = "view"  # the account in a list and its login history
    create = "create"
    confirm = "confirm"
    deactivate = "deactivate"
    reactivate = "reactivate"
    resend_invitation = "resend_invitation"


@dataclass(frozen=True)
class Actor:
    account_id: uuid.UUID
    role: Role
    deployment_id: uuid.UUID | None
    structure_ids: frozenset[uuid.UUID] = frozenset()


@dataclass(frozen=True)
class TargetAccount:
    account_id: uuid.UUID | None  # None while the account is being created
    role: Role
    deployment_id: uuid.UUID | None
    structure_ids: frozenset[uuid.UUID] = frozenset()
    status: AccountStatus = AccountStatus.active


def in_scope(actor: Actor, target: TargetAccount) -> bool:
    if actor.role == Role.admin_cdb:
        return True
    if actor.role == Role.manager:
        return (actor.deployment_id is not None and target.deployment_id == actor.deployment_id
                and target.role not in (Role.admin_cdb, Role.partner))
    if actor.role == Role.admin_structure:
        return (target.role == Role.professional and target.deployment_id == actor.deployment_id
                and bool(actor.structure_ids & target.structure_ids))
    return False


# Which state each operation starts from: confirming an active account or reactivating a pending one is refused.
STATUS_BEFORE = {
    AccountOperation.confirm: {AccountStatus.pending},
    AccountOperation.deactivate: {AccountStatus.active, AccountStatus.pending},
    AccountOperation.reactivate: {AccountStatus.deactivated},
    AccountOperation.resend_invitation: {AccountStatus.active},
}


def may(actor: Actor, operation: AccountOperation, target: TargetAccount) -> bool:
    if not in_scope(actor, target):
        return False
    if operation == AccountOperation.deactivate and target.account_id == actor.account_id:
        return False
    return True


def allowed_operations(actor: Actor, target: TargetAccount) -> list[AccountOperation]:
    """Operations to offer on a page: allowed for the actor and meaningful in the account's state."""
    return [op for op, before in STATUS_BEFORE.items() if target.status in before and may(actor, op, target)]
