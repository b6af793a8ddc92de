"""What a history entry's ``changes`` (field → [before, after], as stored) may show to its readers."""
from __future__ import annotations

# Secret identifiers are encrypted at rest; their history says that they changed, never what they were or became.
# Older entries stored them as "•••": the same rule hides those too.
SECRET_FIELDS = frozenset({"nir", "caf_number", "pe_number"})


def shown_changes(changes: dict | None) -> list[tuple[str, str | None, str | None]]:
    """(field, before, after) in field order; (field, None, None) for a secret one. Anything not stored as a
    pair (a redacted entry's {}, an odd row) is left out rather than shown half."""
    shown = []
    for field, values in sorted((changes or {}).items()):
        if not isinstance(values, list | tuple) or len(values) != 2:
            continue
        if field in SECRET_FIELDS:
            shown.append((field, None, None))
        else:
            shown.append((field, str(values[0] or ""), str(values[1] or "")))
    return shown
