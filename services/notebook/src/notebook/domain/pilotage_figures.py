"""The dashboards' pure computations (issue 18): the period asked, its months, medians, delay and age buckets.

No I/O here: the handler ``notebook.handlers.pilotage_dashboard`` counts with a few GROUP BY queries on the
pilotage read model and hands the numbers to these functions.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from servicekit.errors import Invalid

MAX_PERIOD_YEARS = 5
TOP_REFERENTS = 15
OTHERS = "Autres"
PERIOD_REVERSED = "La période finit avant de commencer : la date de début doit précéder la date de fin."
PERIOD_TOO_LONG = f"La période ne peut pas dépasser {MAX_PERIOD_YEARS} ans."
PERIOD_IN_FUTURE = "La période ne peut pas commencer dans le futur."


@dataclass(frozen=True)
class Bucket:
    """Days from ``low`` to ``high`` included (``high`` None: no upper bound)."""

    label: str
    low: int
    high: int | None

    def holds(self, days: int) -> bool:
        return days >= self.low and (self.high is None or days <= self.high)


# Time from entry to first orientation or first CER (issue 18: 0–7, 8–30, 31–90, 91–180, >180 days).
DELAY_BUCKETS = (Bucket("0 à 7 jours", 0, 7), Bucket("8 à 30 jours", 8, 30), Bucket("31 à 90 jours", 31, 90),
                 Bucket("91 à 180 jours", 91, 180), Bucket("Plus de 180 jours", 181, None))
# Age of an open reorientation request: a request waits weeks, not months, before someone decides.
AGE_BUCKETS = (Bucket("Moins de 8 jours", 0, 7), Bucket("8 à 15 jours", 8, 15), Bucket("16 à 30 jours", 16, 30),
               Bucket("31 à 90 jours", 31, 90), Bucket("Plus de 90 jours", 91, None))


def days_from(earlier: datetime | None, later: datetime | None) -> int | None:
    """Whole days from ``earlier`` to ``later`` (rounded down), None without both: the read model's delays from
    entry to first orientation and first CER, which the delay figures group."""
    if earlier is None or later is None:
        return None
    if (earlier.tzinfo is None) != (later.tzinfo is None):  # one read back naive (SQLite): both as UTC
        earlier, later = (d.astimezone(UTC).replace(tzinfo=None) if d.tzinfo else d for d in (earlier, later))
    return (later - earlier) // timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), on the month's last day when it has fewer days."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def period_of(today: date, period_from: date | None, period_to: date | None) -> tuple[date, date]:
    """The period a dashboard covers: the last twelve months by default (to today), at most five years,
    its start before its end; a French refusal otherwise, nothing computed."""
    end = period_to or today
    start = period_from or add_months(end, -12) + timedelta(days=1)
    if start > end:
        raise Invalid(PERIOD_REVERSED, details={"field": "period_from"})
    if start > today:
        raise Invalid(PERIOD_IN_FUTURE, details={"field": "period_from"})
    if start < add_months(end, -12 * MAX_PERIOD_YEARS):
        raise Invalid(PERIOD_TOO_LONG, details={"field": "period_from"})
    return start, end


def month_starts(start: date, end: date) -> list[date]:
    """The first day of every month the period touches, in order."""
    months, current = [], start.replace(day=1)
    while current <= end:
        months.append(current)
        current = add_months(current, 1)
    return months


def month_end(first: date) -> date:
    return add_months(first, 1) - timedelta(days=1)


def month_parts(start: date, end: date) -> tuple[list[date], list[tuple[date, date, date]]]:
    """The period's months it covers whole (their counts are kept by month), and those it covers in part, each
    as (first day, first day covered, last day covered): at most two, the period's edges, counted by day."""
    whole, parts = [], []
    for first in month_starts(start, end):
        low, high = max(first, start), min(month_end(first), end)
        if low == first and high == month_end(first):
            whole.append(first)
        else:
            parts.append((first, low, high))
    return whole, parts


def month_label(first: date) -> str:
    return f"{MONTHS[first.month - 1]} {first.year}"


MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")


def median(values: Iterable[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def median_of_counts(counts: dict[int, int]) -> float | None:
    """The median of values given as {value: how many}: a GROUP BY per day count, not 100,000 rows."""
    total = sum(counts.values())
    if total == 0:
        return None
    ordered = sorted(counts.items())

    def nth(rank: int) -> int:  # 0-based rank in the sorted values
        seen = 0
        for value, count in ordered:
            seen += count
            if rank < seen:
                return value
        return ordered[-1][0]

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


def bucket_counts(counts: dict[int, int], buckets: tuple[Bucket, ...]) -> list[int]:
    """How many values fall in each bucket ({days: how many}; a negative delay, a date typed before the entry,
    counts as 0 day)."""
    totals = [0] * len(buckets)
    for days, count in counts.items():
        days = max(days, 0)
        for index, bucket in enumerate(buckets):
            if bucket.holds(days):
                totals[index] += count
                break
    return totals


def top_with_others(counts: list[tuple[str, str, int]], limit: int = TOP_REFERENTS
                    ) -> tuple[list[tuple[str, str, int]], list[str], int]:
    """The ``limit`` largest (key, label, count), ties by label; then the keys and total of the rest (« Autres »)."""
    ordered = sorted(counts, key=lambda item: (-item[2], item[1].casefold(), item[0]))
    rest = ordered[limit:]
    return ordered[:limit], [key for key, _, _ in rest], sum(count for _, _, count in rest)


def french_number(value: float) -> str:
    """« 1 234 », « 12,5 »: as a French reader writes numbers (a narrow no-break space between thousands)."""
    if value == int(value):
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")


def days_sentence(label: str, value: float | None) -> str:
    if value is None:
        return f"{label} : aucune donnée sur la période"
    return f"{label} : {french_number(value)} jour{'s' if value >= 2 else ''}"


# French names of the values the figures count by (the pages print figures as they come).
SUPPORT_LABELS = {"accompanied": "Accompagné", "waiting": "En attente d'un référent",
                  "not_accompanied": "Non accompagné"}
CER_GROUPS = (("Signé ou validé", ("signed", "validated")), ("Brouillon ou soumis", ("draft", "submitted")),
              ("Terminé", ("ended",)), ("Sans CER", ("none",)))
ACTION_STATUS_LABELS = {"planned": "En projet", "in_progress": "En cours", "standby": "En attente",
                        "done": "Réalisée", "abandoned": "Abandonnée", "canceled": "Annulée"}
ORIGIN_LABELS = {"import": "Import de fichier", "cafmsa": "Flux CAF/MSA", "france_travail": "France Travail",
                 "partner": "Logiciel partenaire", "manual": "Saisie manuelle"}
# « Imports et flux »: the kinds of contracts.imports.ImportKind as the imports' page names them, and the rows'
# outcomes counted.
IMPORT_KIND_LABELS = {"beneficiaries": "Bénéficiaires", "structures": "Structures",
                      "professionals": "Professionnels", "orientation-managers": "Chargés d'orientation",
                      "referents": "Rattachements", "reorientations": "Réorientations",
                      "caf-msa": "Flux CAF/MSA", "france-travail-principal": "Flux France Travail — principal",
                      "france-travail-actions": "Flux France Travail — actions"}
IMPORT_OUTCOME_LABELS = {"created": "Créées", "updated": "Mises à jour", "rejected": "Rejetées"}
IMPORT_OUTCOME_ONE = {"created": "créée", "updated": "mise à jour", "rejected": "rejetée"}
