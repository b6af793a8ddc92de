"""Rows of one file that describe the same person twice (spec §4.1): the later one is a ``conflict``, naming the
first, so that a file never creates two people from one nor applies two contradicting updates in one go.

Beneficiaries are the same by their identifier in the SI, their NIR, or their name and birth date (case and
accents aside); professionals and orientation managers by their email. Other kinds repeat rows on purpose
(a structure once per admin) and are left to their owner.

Each key of each row is remembered for the whole parse (a repeat may come at the file's last line): as a 64-bit
digest in an open-addressing table of two arrays (12 bytes a slot, 17 to 34 a key), not as a string in a dict
(about 320 bytes a row for a beneficiary's three keys, 32 Mio for 100,000 rows: most of the service's growth
during an import).
"""
from __future__ import annotations

from array import array
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


class Seen:
    """Digest → the first row that had it. Linear probing in a table kept 35 to 70 % full: 17 to 34 bytes a key.
    A digest is never 0 (an empty slot)."""

    def __init__(self, slots: int = 1024) -> None:
        self.size = 0
        self.digests = array("q", [0]) * slots
        self.rows = array("i", [0]) * slots  # a row number is an int column (at most 2**31 - 1)

    def _slot(self, digest: int) -> int:
        digests, mask = self.digests, len(self.digests) - 1
        slot = digest & mask
        while (found := digests[slot]) != 0 and found != digest:
            slot = (slot + 1) & mask
        return slot

    def first(self, digest: int) -> int | None:
        slot = self._slot(digest)
        return self.rows[slot] if self.digests[slot] else None

    def add(self, digest: int, row: int) -> None:
        if 10 * (self.size + 1) > 7 * len(self.digests):  # past 70 % full, probes grow long: twice the slots
            digests, rows = self.digests, self.rows
            self.digests = array("q", [0]) * (2 * len(digests))
            self.rows = array("i", [0]) * len(self.digests)
            for old_digest, old_row in zip(digests, rows):
                if old_digest:
                    slot = self._slot(old_digest)
                    self.digests[slot], self.rows[slot] = old_digest, old_row
        slot = self._slot(digest)
        if not self.digests[slot]:
            self.size += 1
            self.digests[slot], self.rows[slot] = digest, row


def digest(field: int, key: str) -> int:
    """The key's 64-bit hash, salted per process (SipHash): two different keys of a 100,000-row file (300,000
    keys) share one with odds of about 2.4e-9, and an uploader cannot forge such a pair without the salt."""
    return hash((field, key)) or 1


class Duplicates:
    """Remembers each key of the rows seen; ``message_for`` says which earlier row a new one repeats."""

    def __init__(self, kind: str, headers: dict[str, str]) -> None:
        self.keys = KEYS.get(kind, ())
        self.headers = headers  # field → header as written
        self.seen = Seen()  # one table for every key, its field in the digest

    def message_for(self, row: int, values: dict[str, Any]) -> str | None:
        """None for a row seen first (its keys remembered), else the French sentence naming the first row."""
        digests = [None if (key := key_of(values)) is None else digest(index, key)
                   for index, (_field, key_of) in enumerate(self.keys)]
        for (field, _key_of), key_digest in zip(self.keys, digests):
            first = self.seen.first(key_digest) if key_digest is not None else None
            if first is not None:
                what = f"« {self.headers.get(field, field)} »" if field else NAME_AND_BIRTH
                return f"Ligne en double : même {what} que la ligne {first}."
        for key_digest in digests:
            if key_digest is not None:
                self.seen.add(key_digest, row)
        return None
