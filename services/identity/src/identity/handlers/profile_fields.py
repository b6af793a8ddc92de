"""Checks and applies what a person says of themselves (onboarding, "Mon compte")."""
from __future__ import annotations

from contracts.identity import AccountProfileChangedV1, ProfileFields
from identity.adapters.orm import Account
from identity.domain.errors import INVALID_PHONE, NAME_REQUIRED, Invalid
from identity.domain.secrets import normalise_phone
from identity.handlers.accounts import state_of
from identity.handlers.deps import Deps


def apply_profile(account: Account, fields: ProfileFields, deps: Deps) -> None:
    firstname, lastname = fields.firstname.strip(), fields.lastname.strip()
    if not firstname or not lastname:
        raise Invalid(NAME_REQUIRED, details={"fields": ["firstname", "lastname"]})
    phone = None
    if fields.phone.strip():
        phone = normalise_phone(fields.phone)
        if phone is None:
            raise Invalid(INVALID_PHONE, details={"field": "phone"})
    account.firstname, account.lastname, account.position = firstname, lastname, fields.position.strip()
    # A beneficiary's phone is their login: it changes with their notebook, not from here.
    if account.role != "beneficiary":
        account.phone = phone
    account.updated_at = deps.clock()


def profile_changed(account: Account) -> AccountProfileChangedV1:
    return AccountProfileChangedV1(**state_of(account), phone=account.phone, position=account.position)
