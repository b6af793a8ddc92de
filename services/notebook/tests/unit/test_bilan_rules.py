"""Bilans d'accompagnement, free of storage: the bilan's date, the progress of each objective and action since the
previous bilan (pre-filled from the statuses and their history), and who may write or read one."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from contracts.identity import Role
from notebook.domain import bilans as rules
from notebook.domain.bilans import Item, StatusChange
from notebook.domain.habilitation import Operation as O
from notebook.domain.habilitation import Relation as R
from notebook.domain.habilitation import may
from servicekit.errors import Invalid

pytestmark = pytest.mark.unit
TODAY = date(2026, 11, 28)
ALL = frozenset
LABELS = {"planned": "en projet", "in_progress": "en cours", "done": "réalisée"}


def test_a_bilan_is_dated_today_or_before_and_after_the_latest_one():
    rules.check_bilan_date(TODAY, TODAY, None)
    rules.check_bilan_date(date(2026, 11, 2), TODAY, date(2026, 11, 1))
    with pytest.raises(Invalid, match="futur"):
        rules.check_bilan_date(date(2026, 11, 29), TODAY, None)
    with pytest.raises(Invalid, match="01/11/2026") as same_day:
        rules.check_bilan_date(date(2026, 11, 1), TODAY, date(2026, 11, 1))
    assert same_day.value.details == {"field": "bilan_date"}
    with pytest.raises(Invalid, match="après"):
        rules.check_bilan_date(date(2026, 10, 1), TODAY, date(2026, 11, 1))
    with pytest.raises(Invalid, match="plausible"):
        rules.check_bilan_date(date(1026, 11, 1), TODAY, None)


def test_the_assessment_is_required():
    assert rules.check_assessment("  Bonne dynamique ") == "Bonne dynamique"
    with pytest.raises(Invalid, match="appréciation"):
        rules.check_assessment("  ")


def test_the_previous_bilan_is_the_latest_one_before():
    days = [date(2026, 3, 1), date(2026, 9, 1), date(2026, 6, 1)]
    assert rules.previous_date(days, TODAY) == date(2026, 9, 1)
    assert rules.previous_date(days, date(2026, 7, 1)) == date(2026, 6, 1)
    assert rules.previous_date(days, date(2026, 3, 1)) is None
    assert rules.previous_date([], TODAY) is None


def action(created: date, status: str, *changes: StatusChange, deleted: date | None = None) -> Item:
    return Item(uuid.uuid4(), status, created, deleted, tuple(changes))


def test_the_status_on_a_day_walks_the_changes_back():
    item = action(date(2026, 1, 1), "done", StatusChange(date(2026, 5, 1), "planned", "in_progress"),
                  StatusChange(date(2026, 10, 1), "in_progress", "done"))
    assert rules.status_on(item, date(2026, 2, 1)) == "planned"
    assert rules.status_on(item, date(2026, 5, 1)) == "in_progress"  # a day includes its own changes
    assert rules.status_on(item, date(2026, 9, 30)) == "in_progress"
    assert rules.status_on(item, TODAY) == "done"


def test_progress_since_the_previous_bilan():
    since, until = date(2026, 6, 1), date(2026, 11, 1)
    moved = action(date(2026, 1, 1), "done", StatusChange(date(2026, 5, 1), "planned", "in_progress"),
                   StatusChange(date(2026, 10, 1), "in_progress", "done"))
    result = rules.progress(moved, since, until)
    # Its status at the previous bilan and at this one; only the changes of the period.
    assert (result.previous_status, result.status, result.new) == ("in_progress", "done", False)
    assert result.changes == (StatusChange(date(2026, 10, 1), "in_progress", "done"),)
    assert rules.progress_label(result, LABELS, first=False) == "en cours → réalisée"

    still = rules.progress(action(date(2026, 1, 1), "in_progress"), since, until)
    assert (still.changed, rules.progress_label(still, LABELS, first=False)) == (False, rules.UNCHANGED)

    fresh = rules.progress(action(date(2026, 7, 1), "planned"), since, until)
    assert fresh.new and fresh.previous_status is None
    assert rules.progress_label(fresh, LABELS, first=False) == rules.NEW


def test_a_change_after_the_bilans_date_is_not_in_it():
    later = action(date(2026, 1, 1), "done", StatusChange(date(2026, 11, 20), "in_progress", "done"))
    result = rules.progress(later, date(2026, 6, 1), date(2026, 11, 1))
    assert (result.previous_status, result.status, result.changes) == ("in_progress", "in_progress", ())


def test_what_did_not_exist_at_the_bilans_date_is_left_out():
    since, until = date(2026, 6, 1), date(2026, 11, 1)
    assert rules.progress(action(date(2026, 11, 2), "planned"), since, until) is None  # created after
    assert rules.progress(action(date(2026, 1, 1), "planned", deleted=date(2026, 10, 1)), since, until) is None
    # Deleted after the bilan's date: it was there.
    assert rules.progress(action(date(2026, 1, 1), "planned", deleted=date(2026, 11, 5)), since, until) is not None


def test_the_first_bilan_covers_everything_since_the_beginning():
    item = action(date(2026, 1, 1), "done", StatusChange(date(2026, 5, 1), "planned", "done"))
    result = rules.progress(item, None, TODAY)
    assert result.new and result.status == "done" and len(result.changes) == 1
    assert rules.progress_label(result, LABELS, first=True) == rules.NEW_FIRST


BILAN_ROWS = [
    # The notebook's members write and read; the territory's managers read; the beneficiary reads her own.
    (Role.professional, ALL({R.territory, R.member}), O.write_bilan, True),
    (Role.professional, ALL({R.territory, R.member}), O.view_bilans, True),
    (Role.orientation_manager, ALL({R.territory, R.member}), O.write_bilan, True),
    (Role.professional, ALL({R.territory}), O.view_bilans, False),
    (Role.professional, ALL({R.territory}), O.write_bilan, False),
    (Role.manager, ALL({R.territory}), O.view_bilans, True),
    (Role.manager, ALL({R.territory}), O.write_bilan, False),
    (Role.manager, ALL({R.elsewhere}), O.view_bilans, False),
    (Role.orientation_manager, ALL({R.territory}), O.view_bilans, True),
    (Role.orientation_manager, ALL({R.territory}), O.write_bilan, False),
    (Role.admin_structure, ALL({R.territory, R.structure}), O.view_bilans, False),
    (Role.admin_cdb, ALL({R.territory}), O.view_bilans, False),
    (Role.beneficiary, ALL({R.own}), O.view_bilans, True),
    (Role.beneficiary, ALL({R.own}), O.write_bilan, False),
    (Role.beneficiary, ALL(), O.view_bilans, False),
]


@pytest.mark.parametrize("role, relations, operation, allowed", BILAN_ROWS)
def test_habilitation_of_bilans(role, relations, operation, allowed):
    assert may(role, relations, operation) is allowed
