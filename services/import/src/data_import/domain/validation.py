"""A batch of rows of a file validated, as the import service stores and sends them: a function of its arguments
only, so that it runs in another process (the service's pool of parsers) as well as in this one."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_jsonable_python

from contracts.imports import ReviewStatus
from data_import.domain.kinds import HeaderMap, InvalidRow, validate_row


@dataclass
class Parsed:
    """One row of the file once validated: ``status`` None while the owner has yet to review it."""

    row: int
    cells: list[str]
    status: str | None
    values: dict[str, Any] | None  # JSON-ready: dates as ISO strings, lists of strings, booleans, None if empty
    messages: list[str]
    match: dict | None = None


def validate_rows(kind: str, header_map: HeaderMap, rows: Sequence[tuple[int, list[str]]]) -> list[Parsed]:
    batch = []
    for number, cells in rows:
        result = validate_row(kind, header_map, cells)
        if isinstance(result, InvalidRow):
            batch.append(Parsed(number, cells, ReviewStatus.invalid.value, None,
                                [error.message for error in result.errors]))
        else:
            batch.append(Parsed(number, cells, None, to_jsonable_python(result.values),
                                [warning.message for warning in result.warnings]))
    return batch
