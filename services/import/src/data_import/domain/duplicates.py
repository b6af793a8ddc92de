"""Rows of one file that describe the same person twice (spec §4.1): the later one is a ``conflict``, naming the
first, so that a file never creates two people from one nor applies two contradicting updates in one go.

Beneficiaries are the same by their identifier in the SI, their NIR, or their name and birth date (case and
accents aside); professionals and orientation managers by their email. Other kinds repeat rows on purpose
(a structure once per admin) and are left to their owner.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from servicekit.contact import search_key


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value)
    # search_key's decomposition is for accents: plain ASCII only needs case and spaces (most cells, faster).
    return " ".join(text.casefold().split()) if text.isascii() else search_key(text)


def _name_and_birth(values: dict[str, Any]) -> str | None:
    parts = (_text(values.get("lastname")), _text(values.get("firstname")), values.get("date_of_birth"))
    return "|".join(str(p) for p in parts) if all(parts) else None


Key = tuple[str, Callable[[dict[str, Any]], str | None]]  # (the field whose header names it, the key of a row)

KEYS: dict[str, tuple[Key, ...]] = {
    "beneficiaries": (
        ("external_id", lambda v: _text(v.get("external_id"))),
        ("nir", lambda v: v.get("nir") or None),
        ("", _name_and_birth),
    ),
    "professionals": (("email", lambda v: _text(v.get("email"))),),
    "orientation-managers": (("email", lambda v: _text(v.get("email"))),),
}
NAME_AND_BIRTH = "nom, prénom et date de naissance"


class Duplicates:
    """Remembers each key of the rows seen; ``first_of`` says which earlier row a new one repeats."""

    def __init__(self, kind: str, headers: dict[str, str]) -> None:
        self.keys = KEYS.get(kind, ())
        self.headers = headers  # field → header as written
        self.seen: list[dict[str, int]] = [{} for _ in self.keys]

    def message_for(self, row: int, values: dict[str, Any]) -> str | None:
        """None for a row seen first (its keys remembered), else the French sentence naming the first row."""
        keys = [key_of(values) for _field, key_of in self.keys]
        for (field, _key_of), seen, key in zip(self.keys, self.seen, keys):
            first = seen.get(key) if key is not None else None
            if first is not None:
                what = f"« {self.headers.get(field, field)} »" if field else NAME_AND_BIRTH
                return f"Ligne en double : même {what} que la ligne {first}."
        for seen, key in zip(self.seen, keys):
            if key is not None:
                seen[key] = row
        return None
