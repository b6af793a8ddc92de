"""Habilitation (who may manage whose account), onboarding steps, phone numbers and SMS codes."""
import uuid
from datetime import UTC, datetime

import pytest

from contracts.identity import AccountStatus, PendingStep, Role
from identity.domain.habilitation import AccountOperation, Actor, TargetAccount, allowed_operations, may
from identity.domain.onboarding import pending_steps
from identity.domain.secrets import hash_sms_code, is_mobile, new_sms_code, normalise_phone

pytestmark = pytest.mark.unit

D93, D51 = uuid.uuid4(), uuid.uuid4()
S1, S2 = uuid.uuid4(), uuid.uuid4()
ADMIN = Actor(uuid.uuid4(), Role.admin_cdb, None)
MANAGER_93 = Actor(uuid.uuid4(), Role.manager, D93)
ADMIN_S1 = Actor(uuid.uuid4(), Role.admin_structure, D93, frozenset({S1}))
PRO_93 = Actor(uuid.uuid4(), Role.professional, D93, frozenset({S1}))
ORIENTATION_93 = Actor(uuid.uuid4(), Role.orientation_manager, D93)
BENEFICIARY_93 = Actor(uuid.uuid4(), Role.beneficiary, D93)


def target(role, deployment, structures=(), status=AccountStatus.active):
    return TargetAccount(uuid.uuid4(), role, deployment, frozenset(structures), status)


PRO_IN_S1 = target(Role.professional, D93, {S1})
PRO_IN_S2 = target(Role.professional, D93, {S2})
PRO_IN_51 = target(Role.professional, D51, {S1})
MANAGER_OF_93 = target(Role.manager, D93)
MANAGER_OF_51 = target(Role.manager, D51)
ADMIN_STRUCTURE_S1 = target(Role.admin_structure, D93, {S1})
ADMIN_CDB = target(Role.admin_cdb, None)

CASES = [
    # actor, target, allowed for every operation (create, confirm, deactivate, reactivate, resend, view)
    (ADMIN, PRO_IN_S1, True), (ADMIN, MANAGER_OF_51, True), (ADMIN, ADMIN_CDB, True),
    (MANAGER_93, PRO_IN_S1, True), (MANAGER_93, PRO_IN_S2, True), (MANAGER_93, MANAGER_OF_93, True),
    (MANAGER_93, ADMIN_STRUCTURE_S1, True),
    (MANAGER_93, PRO_IN_51, False), (MANAGER_93, MANAGER_OF_51, False), (MANAGER_93, ADMIN_CDB, False),
    (ADMIN_S1, PRO_IN_S1, True),
    (ADMIN_S1, PRO_IN_S2, False), (ADMIN_S1, PRO_IN_51, False), (ADMIN_S1, MANAGER_OF_93, False),
    (ADMIN_S1, ADMIN_STRUCTURE_S1, False),
    (PRO_93, PRO_IN_S1, False), (ORIENTATION_93, PRO_IN_S1, False), (BENEFICIARY_93, PRO_IN_S1, False),
]


@pytest.mark.parametrize("operation", list(AccountOperation))
@pytest.mark.parametrize(("actor", "target_account", "allowed"), CASES)
def test_who_may_manage_whose_account(actor, target_account, allowed, operation):
    assert may(actor, operation, target_account) is allowed


def test_nobody_deactivates_their_own_account_but_may_view_it():
    me = TargetAccount(MANAGER_93.account_id, Role.manager, D93)
    assert not may(MANAGER_93, AccountOperation.deactivate, me)
    assert may(MANAGER_93, AccountOperation.view, me)


def test_offered_actions_follow_the_account_state():
    pending = target(Role.professional, D93, status=AccountStatus.pending)
    deactivated = target(Role.professional, D93, {S1}, status=AccountStatus.deactivated)
    assert allowed_operations(MANAGER_93, pending) == [AccountOperation.confirm, AccountOperation.deactivate]
    assert allowed_operations(MANAGER_93, deactivated) == [AccountOperation.reactivate]
    assert allowed_operations(MANAGER_93, PRO_IN_S1) == [AccountOperation.deactivate,
                                                         AccountOperation.resend_invitation]
    assert allowed_operations(PRO_93, PRO_IN_S1) == []


@pytest.mark.parametrize(("role", "cgu", "onboarded", "expected"), [
    (Role.professional, None, None, [PendingStep.cgu, PendingStep.onboarding]),
    (Role.professional, "2024-01", None, [PendingStep.onboarding]),
    (Role.professional, "2023-06", datetime.now(UTC), [PendingStep.cgu]),  # a new version asks again
    (Role.manager, "2024-01", datetime.now(UTC), []),
    (Role.beneficiary, None, None, [PendingStep.cgu]),  # beneficiaries have no profile page to complete
    (Role.partner, None, None, []),
])
def test_pending_steps(role, cgu, onboarded, expected):
    assert pending_steps(role, cgu, onboarded, "2024-01") == expected


@pytest.mark.parametrize(("typed", "e164"), [
    ("06 12 34 56 78", "+33612345678"), ("+33 6 12 34 56 78", "+33612345678"), ("0033612345678", "+33612345678"),
    ("0692 12 34 56", "+262692123456"),  # La Réunion
    ("12", None), ("pas un numéro", None),
])
def test_phone_numbers_are_normalised_to_e164(typed, e164):
    assert normalise_phone(typed) == e164


def test_only_mobiles_receive_codes():
    assert is_mobile("+33612345678") and not is_mobile("+33148123456")


def test_sms_codes_have_six_digits_and_a_keyed_hash():
    codes = {new_sms_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 150
    assert hash_sms_code("123456", "secret", "id") != hash_sms_code("123456", "other-secret", "id")
    assert hash_sms_code("123456", "secret", "id") != hash_sms_code("123456", "secret", "other-id")
