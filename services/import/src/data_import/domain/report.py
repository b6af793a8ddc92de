"""What the per-row report and the templates say: French labels, the order of rows, cells safe in a spreadsheet."""
from __future__ import annotations

import re

from contracts.imports import Outcome, ReviewStatus

STATUS_LABELS = {ReviewStatus.new: "nouveau", ReviewStatus.same: "existant", ReviewStatus.conflict: "conflit",
                 ReviewStatus.invalid: "invalide"}
OUTCOME_LABELS = {Outcome.created: "créé", Outcome.updated: "mis à jour", Outcome.unchanged: "inchangé",
                  Outcome.rejected: "refusé", Outcome.excluded: "exclu"}
REPORT_COLUMNS = ("Ligne", "Statut", "Résultat", "Messages")
# Rows listed first: what the uploader has to correct.
ERROR_STATUSES = (ReviewStatus.invalid.value, ReviewStatus.conflict.value)
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": CSV_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE}


def report_line(row: int, status: str, outcome: str | None, messages: list[str], cells: list[str]) -> list[str]:
    return [str(row), STATUS_LABELS[ReviewStatus(status)], OUTCOME_LABELS[Outcome(outcome)] if outcome else "",
            " ".join(messages), *cells]


def is_error(status: str, outcome: str | None) -> bool:
    return status in ERROR_STATUSES or outcome == Outcome.rejected.value


SIGNED_NUMBER = re.compile(r"[+-][0-9 .]*")


def inert(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (CSV injection): the report echoes cells of
    an uploaded file to whoever opens it. Phone numbers ("+33…") and signed numbers stay as they are: a sign
    followed by digits, spaces and dots only (« +1+HYPERLINK(…) » is a formula)."""
    if not cell:
        return cell
    if cell[0] in "=@\t\r" or (cell[0] in "+-" and not SIGNED_NUMBER.fullmatch(cell)):
        return "'" + cell
    return cell
