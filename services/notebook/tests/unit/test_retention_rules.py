"""Retention rules (issue 21): the months a territory may choose, when a notebook becomes due, what an extension
needs."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from notebook.domain import retention as rules
from servicekit.errors import Invalid

pytestmark = pytest.mark.unit
TODAY = date(2026, 3, 31)


@pytest.mark.parametrize("months", [1, 24, 36])
def test_a_territory_keeps_notebooks_1_to_36_months(months):
    assert rules.check_months(months) == months


@pytest.mark.parametrize("months", [0, -1, 37, 120])
def test_other_durations_are_refused_in_french(months):
    with pytest.raises(Invalid) as refused:
        rules.check_months(months)
    assert refused.value.message == "La durée de conservation doit être un nombre entier de mois entre 1 et 36."


def test_the_default_is_24_months():
    assert rules.months_or_default(None) == 24 and rules.months_or_default(3) == 3


def test_a_month_back_from_the_31st_is_the_last_day_of_a_shorter_month():
    assert rules.cutoff(TODAY, 1) == date(2026, 2, 28)
    assert rules.cutoff(TODAY, 24) == date(2024, 3, 31)
    assert rules.cutoff(date(2026, 1, 15), 1) == date(2025, 12, 15)


def test_a_notebook_is_due_its_months_after_its_last_activity():
    assert rules.due_since(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert rules.due_since(date(2024, 11, 10), 2) == date(2025, 1, 10)


def test_an_extension_needs_a_reason_and_a_future_date_within_36_months():
    assert rules.check_extension(TODAY, TODAY + timedelta(days=1), "  Contentieux  ") == "Contentieux"
    for until, reason, message in ((TODAY + timedelta(days=30), " ", rules.REASON_REQUIRED),
                                   (TODAY, "Contentieux", rules.UNTIL_IN_PAST),
                                   (date(2029, 4, 1), "Contentieux", rules.UNTIL_TOO_FAR)):
        with pytest.raises(Invalid) as refused:
            rules.check_extension(TODAY, until, reason)
        assert refused.value.message == message
