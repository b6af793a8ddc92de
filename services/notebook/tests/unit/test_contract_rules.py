"""The CER's state machine and rules, free of storage: no validation without submission, no two active CER, dates,
who may do each step (the habilitation table's contract rows are in test_rules.py)."""
from __future__ import annotations

from datetime import date

import pytest

from contracts.identity import Role
from contracts.notebook import ContractLink
from contracts.notebook import ContractStatus as S
from notebook.domain import contracts as rules
from notebook.domain.habilitation import Operation as O
from notebook.domain.habilitation import Relation as R
from notebook.domain.habilitation import may
from servicekit.errors import Conflict, Invalid

pytestmark = pytest.mark.unit
TODAY = date(2026, 11, 28)


def test_a_draft_is_submitted_only_with_its_dates_in_order():
    assert rules.check_can_submit(S.draft, date(2026, 12, 1), date(2027, 6, 1)) == S.submitted
    with pytest.raises(Invalid) as missing:
        rules.check_can_submit(S.draft, date(2026, 12, 1), None)
    assert missing.value.details["field"] == "end_date"
    with pytest.raises(Invalid, match="postérieure"):
        rules.check_can_submit(S.draft, date(2026, 12, 1), date(2026, 12, 1))
    with pytest.raises(Conflict):
        rules.check_can_submit(S.submitted, date(2026, 12, 1), date(2027, 6, 1))
    with pytest.raises(Invalid, match="plausible"):
        rules.check_dates(date(1900, 1, 1), None)


@pytest.mark.parametrize("status", [S.draft, S.validated, S.signed, S.ended])
def test_nothing_is_validated_or_returned_without_being_submitted(status):
    with pytest.raises(Conflict, match="soumis"):
        rules.decide(status, True, "")


def test_a_submitted_cer_is_validated_or_returned_to_draft_with_a_reason():
    assert rules.decide(S.submitted, True, "") == S.validated
    assert rules.decide(S.submitted, False, "Préciser les engagements") == S.draft
    with pytest.raises(Invalid, match="renvoyé"):
        rules.decide(S.submitted, False, "  ")


def test_only_a_draft_is_edited():
    rules.check_editable(S.draft)
    for status in (S.submitted, S.validated, S.signed, S.ended, S.renewed):
        with pytest.raises(Conflict, match="brouillon"):
            rules.check_editable(status)


def test_a_cer_is_signed_once_validated_and_never_in_the_future():
    assert rules.check_signature(S.validated, TODAY, TODAY) == S.signed
    with pytest.raises(Conflict, match="validé"):
        rules.check_signature(S.submitted, TODAY, TODAY)
    with pytest.raises(Invalid, match="futur"):
        rules.check_signature(S.validated, date(2026, 11, 29), TODAY)


def test_no_two_cer_are_in_force_at_the_same_time():
    signed = rules.Period(date(2026, 1, 1), date(2026, 12, 31))
    rules.check_no_other_active(rules.Period(date(2027, 1, 1), date(2027, 6, 30)), [signed])
    with pytest.raises(Conflict, match="un seul CER"):
        rules.check_no_other_active(rules.Period(date(2026, 12, 1), date(2027, 6, 30)), [signed])
    with pytest.raises(Conflict):
        rules.check_no_other_active(rules.Period(date(2027, 1, 1), date(2027, 6, 30)),
                                    [rules.Period(date(2026, 1, 1), None)])


def test_active_means_signed_and_today_within_its_dates():
    period = rules.Period(date(2026, 6, 1), date(2026, 12, 1))
    assert rules.is_active(S.signed, period, TODAY)
    assert not rules.is_active(S.validated, period, TODAY)
    assert not rules.is_active(S.signed, period, date(2026, 12, 2))
    assert not rules.is_active(S.ended, period, TODAY)


def test_the_referent_is_reminded_within_30_days_of_the_end():
    assert rules.reminder_due(date(2026, 12, 28), TODAY)
    assert not rules.reminder_due(date(2026, 12, 29), TODAY)
    assert not rules.reminder_due(date(2026, 11, 27), TODAY)
    assert not rules.reminder_due(None, TODAY)


def test_renewing_starts_the_day_after_for_as_long():
    renewed = rules.renewal_period(rules.Period(date(2026, 1, 1), date(2026, 6, 30)))
    assert renewed == rules.Period(date(2026, 7, 1), date(2026, 12, 28))
    rules.check_can_renew(ContractLink.cer, S.signed)
    with pytest.raises(Conflict):
        rules.check_can_renew(ContractLink.cer, S.draft)
    with pytest.raises(Invalid):
        rules.check_can_renew(ContractLink.ppae, S.signed)


def test_ending_needs_a_signed_contract_and_a_date_after_the_signature():
    assert rules.check_can_end(S.signed, TODAY, date(2026, 1, 1)) == S.ended
    with pytest.raises(Conflict):
        rules.check_can_end(S.validated, TODAY, None)
    with pytest.raises(Invalid):
        rules.check_can_end(S.signed, date(2025, 12, 31), date(2026, 1, 1))


def test_other_contracts_are_ppae_cej_or_pacea_with_dates_in_order():
    rules.check_other_kind(ContractLink.ppae, TODAY, TODAY, None)
    for kind in (ContractLink.cer, ContractLink.no):
        with pytest.raises(Invalid):
            rules.check_other_kind(kind, TODAY, TODAY, None)
    with pytest.raises(Invalid):
        rules.check_other_kind(ContractLink.cej, TODAY, TODAY, date(2026, 1, 1))


def test_who_may_do_each_step():
    member, territory, own = frozenset({R.territory, R.member}), frozenset({R.territory}), frozenset({R.own})
    assert may(Role.professional, member, O.prepare_contract) and may(Role.professional, member, O.edit_contract)
    assert not may(Role.professional, member, O.validate_contract)
    assert not may(Role.professional, member, O.sign_contract)  # the beneficiary signs; the référent records it
    assert may(Role.manager, territory, O.validate_contract) and not may(Role.manager, territory, O.edit_contract)
    assert may(Role.orientation_manager, territory, O.validate_contract)
    assert may(Role.beneficiary, own, O.sign_contract) and may(Role.beneficiary, own, O.edit_contract)
    assert not may(Role.beneficiary, own, O.prepare_contract) and not may(Role.beneficiary, own, O.validate_contract)
    assert not may(Role.admin_structure, frozenset({R.territory, R.structure}), O.view_contracts)
