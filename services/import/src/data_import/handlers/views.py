"""Rows of the import tables as the contracts show them."""
from __future__ import annotations

from sqlalchemy import Row

from contracts.imports import (ImportCounts, ImportKind, ImportRowView, ImportState, ImportView, MatchView, Outcome,
                               ReviewCounts, ReviewStatus)


def import_view(job: Row) -> ImportView:
    rows_per_s = job.rows_per_s
    eta_s = None
    if rows_per_s and job.state in (ImportState.parsing, ImportState.applying):
        eta_s = round(max(job.rows_total - job.rows_done, 0) / rows_per_s, 1)
    return ImportView(
        import_id=job.id, kind=ImportKind(job.kind), filename=job.filename, state=ImportState(job.state),
        reason=job.reason, rows_total=job.rows_total, rows_done=job.rows_done,
        counts=ImportCounts(created=job.created, updated=job.updated, unchanged=job.unchanged, rejected=job.rejected,
                            excluded=job.excluded),
        review=ReviewCounts(new=job.review_new, same=job.review_same, conflict=job.review_conflict,
                            invalid=job.review_invalid),
        rows_per_s=round(rows_per_s, 1) if rows_per_s else None, eta_s=eta_s, warnings=list(job.warnings or []),
        created_at=job.created_at, created_by_name=job.created_by_name, finished_at=job.finished_at)


def match_view(match: dict | None) -> MatchView | None:
    if not match:
        return None
    return MatchView(target_id=match.get("target_id"), label=match.get("label", ""))


def column_names(header: list[str], width: int) -> list[str]:
    """The header as written, an unnamed column (or a cell beyond the header) called by its position."""
    return [(header[i] if i < len(header) else "") or f"Colonne {i + 1}" for i in range(max(width, len(header)))]


def row_view(header: list[str], row: Row) -> ImportRowView:
    cells = list(row.cells)
    names = column_names(header, len(cells))
    return ImportRowView(row=row.row, status=ReviewStatus(row.status),
                         outcome=Outcome(row.outcome) if row.outcome else None,
                         values=dict(zip(names, cells)), match=match_view(row.match), messages=list(row.messages))
