"""The dashboards' pure computations: the period asked (default, order, five years at most), its months, medians
from per-day counts, delay and age buckets, the 15 most loaded référents and the rest."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from notebook.domain import pilotage_figures as rules
from servicekit.errors import Invalid

pytestmark = pytest.mark.unit


def test_the_period_defaults_to_the_last_twelve_months_and_is_checked():
    today = date(2026, 11, 29)
    assert rules.period_of(today, None, None) == (date(2025, 11, 30), today)
    assert rules.period_of(today, date(2026, 1, 1), date(2026, 3, 31)) == (date(2026, 1, 1), date(2026, 3, 31))
    with pytest.raises(Invalid, match="finit avant de commencer"):
        rules.period_of(today, date(2026, 3, 1), date(2026, 2, 1))
    with pytest.raises(Invalid, match="5 ans"):
        rules.period_of(today, date(2021, 11, 28), None)
    assert rules.period_of(today, date(2021, 11, 29), None)[0] == date(2021, 11, 29)  # five years exactly
    with pytest.raises(Invalid, match="futur"):
        rules.period_of(today, date(2026, 12, 1), date(2026, 12, 31))


def test_months_of_a_period_and_their_french_names():
    months = rules.month_starts(date(2025, 12, 15), date(2026, 2, 3))
    assert months == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert [rules.month_label(m) for m in months] == ["déc. 2025", "janv. 2026", "févr. 2026"]
    assert rules.month_end(date(2024, 2, 1)) == date(2024, 2, 29)
    assert rules.add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


def test_medians_from_counts_per_day_equal_medians_of_the_values():
    values = [0, 3, 3, 8, 40, 200, 12]
    counts: dict[int, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    assert rules.median_of_counts(counts) == rules.median(values) == 8
    assert rules.median_of_counts({2: 1, 10: 1}) == rules.median([2, 10]) == 6
    assert rules.median_of_counts({}) is None and rules.median([]) is None


def test_delays_fall_in_their_buckets():
    counts = {0: 2, 7: 1, 8: 1, 30: 1, 31: 1, 90: 1, 91: 1, 180: 1, 181: 4, -2: 1}
    assert rules.bucket_counts(counts, rules.DELAY_BUCKETS) == [4, 2, 2, 2, 4]
    assert [b.label for b in rules.DELAY_BUCKETS][-1] == "Plus de 180 jours"


def test_the_fifteen_most_loaded_then_the_others():
    counts = [(f"id{i}", f"Pro {i:02d}", i) for i in range(20)]
    top, rest, total = rules.top_with_others(counts)
    assert [label for _, label, _ in top][:2] == ["Pro 19", "Pro 18"] and len(top) == 15
    assert sorted(rest) == ["id0", "id1", "id2", "id3", "id4"] and total == 10


def test_numbers_and_sentences_in_french():
    assert rules.french_number(1234) == "1\u202f234" and rules.french_number(12.5) == "12,5"
    assert rules.days_sentence("Médiane", 1) == "Médiane : 1 jour"
    assert rules.days_sentence("Médiane", None) == "Médiane : aucune donnée sur la période"


def test_days_from_entry_are_whole_days_rounded_down():
    days_from = rules.days_from
    entry = datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert days_from(entry, datetime(2026, 3, 6, 10, tzinfo=UTC)) == 5
    assert days_from(entry, datetime(2026, 3, 6, 9, 59, tzinfo=UTC)) == 4
    assert days_from(entry, datetime(2026, 3, 1, 9, tzinfo=UTC)) == -1  # typed before the entry: the figures clamp
    assert days_from(entry, datetime(2026, 3, 2, 10)) == 1  # one read back naive (SQLite) is UTC
    assert days_from(entry, None) is None and days_from(None, entry) is None


def test_a_period_is_whole_months_and_its_partial_edges():
    whole, parts = rules.month_parts(date(2025, 11, 30), date(2026, 11, 29))
    assert whole == [date(2025, 12, 1), *(date(2026, m, 1) for m in range(1, 11))]
    assert parts == [(date(2025, 11, 1), date(2025, 11, 30), date(2025, 11, 30)),
                     (date(2026, 11, 1), date(2026, 11, 1), date(2026, 11, 29))]
    assert rules.month_parts(date(2026, 2, 1), date(2026, 2, 28)) == ([date(2026, 2, 1)], [])
    assert rules.month_parts(date(2026, 2, 3), date(2026, 2, 10)) == (
        [], [(date(2026, 2, 1), date(2026, 2, 3), date(2026, 2, 10))])
