"""Accent- and case-insensitive search over a normalised text column: every typed word must appear."""
from __future__ import annotations

from servicekit.contact import search_key


def matches_words(column, typed: str) -> list:
    conditions = []
    for word in search_key(typed).split()[:8]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(column.like(f"%{escaped}%", escape="\\"))
    return conditions
