"""Bilans d'accompagnement, free of storage: which date a bilan may have, and the progress of each objective and
action over its period — from the day after the previous bilan (or the notebook's beginning) to the bilan's date.

Days are whole days in Paris time: a bilan dated D covers everything that happened up to the end of D. The status of
an item on a day is its status now, walked back through the status changes made after that day.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from servicekit.errors import Invalid

DATE_IN_FUTURE = "La date du bilan ne peut pas être dans le futur."
DATE_OUT_OF_RANGE = "Cette date n'est pas plausible : vérifiez l'année."
NOT_AFTER_PREVIOUS = ("Un bilan existe déjà à cette date ou après : la date d'un nouveau bilan suit celle du dernier "
                      "({}).")
ASSESSMENT_REQUIRED = "Rédigez votre appréciation du parcours : c'est l'objet du bilan."
PLAUSIBLE_YEARS = (2000, 2100)
NEW = "Nouveau depuis le dernier bilan"
NEW_FIRST = "Nouveau"
UNCHANGED = "Sans changement"


def french_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def check_bilan_date(bilan_date: date, today: date, latest: date | None) -> None:
    """Not in the future, plausible, and after the latest bilan (one bilan a day, in order)."""
    if not PLAUSIBLE_YEARS[0] <= bilan_date.year <= PLAUSIBLE_YEARS[1]:
        raise Invalid(DATE_OUT_OF_RANGE, details={"field": "bilan_date"})
    if bilan_date > today:
        raise Invalid(DATE_IN_FUTURE, details={"field": "bilan_date"})
    if latest is not None and bilan_date <= latest:
        raise Invalid(NOT_AFTER_PREVIOUS.format(french_day(latest)), details={"field": "bilan_date"})


def check_assessment(assessment: str) -> str:
    if not assessment.strip():
        raise Invalid(ASSESSMENT_REQUIRED, details={"field": "assessment"})
    return assessment.strip()


def previous_date(bilan_dates: list[date], bilan_date: date) -> date | None:
    """The date of the bilan before one at ``bilan_date``: the latest one strictly earlier."""
    earlier = [day for day in bilan_dates if day < bilan_date]
    return max(earlier) if earlier else None


@dataclass(frozen=True)
class StatusChange:
    day: date
    before: str
    after: str


@dataclass(frozen=True)
class Item:
    """An objective or an action as the notebook holds it now, with its status changes, oldest first."""

    id: uuid.UUID
    status: str
    created_on: date
    deleted_on: date | None = None
    changes: tuple[StatusChange, ...] = ()


@dataclass(frozen=True)
class Progress:
    status: str  # on the bilan's date
    previous_status: str | None  # on the previous bilan's date; None when the item is new since
    new: bool
    changes: tuple[StatusChange, ...] = field(default_factory=tuple)  # those of the period

    @property
    def changed(self) -> bool:
        return self.new or self.previous_status != self.status


def exists_on(item: Item, day: date) -> bool:
    return item.created_on <= day and (item.deleted_on is None or item.deleted_on > day)


def status_on(item: Item, day: date) -> str:
    """The status at the end of ``day``: the one before the first change made after it, else the current one."""
    later = [change for change in item.changes if change.day > day]
    return later[0].before if later else item.status


def progress(item: Item, since: date | None, until: date) -> Progress | None:
    """The item's progress from the end of ``since`` (None: from its beginning) to the end of ``until``; None when
    it did not exist at ``until`` (created later, or deleted by then)."""
    if not exists_on(item, until):
        return None
    new = since is None or not exists_on(item, since)
    return Progress(status=status_on(item, until), previous_status=None if new else status_on(item, since),
                    new=new, changes=tuple(c for c in item.changes
                                           if (since is None or c.day > since) and c.day <= until))


def progress_label(result: Progress, labels: dict[str, str], *, first: bool) -> str:
    """In French: new, unchanged, or "before → after"."""
    if result.new:
        return NEW_FIRST if first else NEW
    if result.previous_status == result.status:
        return UNCHANGED
    before = labels.get(result.previous_status or "", result.previous_status or "")
    return f"{before} → {labels.get(result.status, result.status)}"
