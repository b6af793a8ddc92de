"""Pilotage's pure rules: support status, the CER state of a notebook, its origin; the themes' text."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from contracts.notebook import SupportStatus
from contracts.pilotage import CerState, Origin
from notebook.adapters.pilotage_query import themes_of, themes_text
from notebook.domain.pilotage import CerFacts, cer_summary, origin_of, support_of

pytestmark = pytest.mark.unit


def at(day: int) -> datetime:
    return datetime(2026, 1, day, 9, tzinfo=UTC)


def test_support_follows_the_lists_rules():
    assert support_of(has_referent=True, has_structure=False) == SupportStatus.accompanied
    assert support_of(has_referent=True, has_structure=True) == SupportStatus.accompanied
    assert support_of(has_referent=False, has_structure=True) == SupportStatus.waiting
    assert support_of(has_referent=False, has_structure=False) == SupportStatus.not_accompanied


def test_no_cer_is_none():
    assert cer_summary([]).state == CerState.none
    assert cer_summary([]).first_signed_on is None


def test_the_current_cer_is_the_latest_not_renewed():
    renewed = CerFacts("renewed", at(1), end_date=date(2026, 6, 30), signed_on=date(2026, 1, 2))
    draft = CerFacts("draft", at(20), end_date=date(2027, 1, 1))
    summary = cer_summary([draft, renewed])
    assert (summary.state, summary.end_date) == (CerState.draft, date(2027, 1, 1))
    assert summary.first_signed_on == date(2026, 1, 2)  # the first entry into a contract, though renewed since


def test_a_signed_then_ended_cer():
    assert cer_summary([CerFacts("signed", at(3), date(2026, 12, 31), date(2026, 1, 5))]).state == CerState.signed
    assert cer_summary([CerFacts("ended", at(3), date(2026, 12, 31), date(2026, 1, 5))]).state == CerState.ended


def test_only_renewed_cers_still_count_as_signed():
    summary = cer_summary([CerFacts("renewed", at(1), date(2026, 6, 30), date(2026, 1, 2))])
    assert (summary.state, summary.end_date) == (CerState.signed, date(2026, 6, 30))


def test_origin_from_the_first_entry_and_the_flux_received_with_it():
    assert origin_of(None) == Origin.manual
    assert origin_of("person") == Origin.manual
    assert origin_of("partner") == Origin.partner
    assert origin_of("france_travail") == Origin.france_travail
    assert origin_of("import") == Origin.file_import
    assert origin_of("import", {"cafmsa"}) == Origin.cafmsa
    assert origin_of("import", {"france_travail"}) == Origin.france_travail


def test_themes_are_one_text_matched_by_like():
    assert themes_text(["logement", "emploi", "emploi", ""]) == "|emploi|logement|"
    assert themes_text([]) == ""
    assert themes_of("|emploi|logement|") == ["emploi", "logement"]
    assert themes_of("") == []
