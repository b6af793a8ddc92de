"""Retention rules (issue 21), pure: the months a territory may choose, when a notebook is due, and what an extension
needs. A notebook is due when its last activity is older than the territory's months and no extension covers today."""
from __future__ import annotations

from calendar import monthrange
from datetime import date

from contracts.retention import DEFAULT_MONTHS, MAX_MONTHS, MIN_MONTHS
from servicekit.errors import Invalid

MONTHS_OUT_OF_RANGE = (f"La durée de conservation doit être un nombre entier de mois entre {MIN_MONTHS} et "
                       f"{MAX_MONTHS}.")
REASON_REQUIRED = "Indiquez la raison de la prolongation."
UNTIL_IN_PAST = "La date de prolongation doit être postérieure à aujourd'hui."
UNTIL_TOO_FAR = f"Une prolongation ne peut pas dépasser {MAX_MONTHS} mois."
NOT_DUE = "Ce carnet n'arrive pas au terme de sa durée de conservation : il n'y a rien à prolonger."


def check_months(months: int) -> int:
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise Invalid(MONTHS_OUT_OF_RANGE, details={"field": "months"})
    return months


def months_or_default(months: int | None) -> int:
    return DEFAULT_MONTHS if months is None else months


def shift_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier when negative); the month's last day when it has fewer days
    (31 March - 1 month = 28 or 29 February)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, monthrange(year, month + 1)[1]))


def cutoff(today: date, months: int) -> date:
    """Notebooks whose last activity is before this day (Paris) are due."""
    return shift_months(today, -months)


def due_since(last_activity: date, months: int) -> date:
    """The day a notebook became due: its last activity's day plus the territory's months."""
    return shift_months(last_activity, months)


def check_extension(today: date, until: date, reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise Invalid(REASON_REQUIRED, details={"field": "reason"})
    if until <= today:
        raise Invalid(UNTIL_IN_PAST, details={"field": "until"})
    if until > due_since(today, MAX_MONTHS):
        raise Invalid(UNTIL_TOO_FAR, details={"field": "until"})
    return reason
