"""The hash chain of the audit log, pure Python.

Each line's hash is ``sha256(prev_hash || canonical JSON of the line)``, its ``prev_hash`` the hash of the line
before it (or the anchor: ``GENESIS`` at first, then the hash of the last line purged). Changing one line changes
its hash, which no longer matches what it stored and what the next line holds as ``prev_hash``; removing a line
leaves a gap in ``seq``; swapping two breaks both their links. ``verify`` says which line is wrong first.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# The fields a line's hash covers, in this order (its own hash and prev_hash apart: prev_hash is chained in front).
HASHED_FIELDS = ("seq", "event_id", "recorded_at", "occurred_at", "deployment_id", "actor_account_id", "actor_role",
                 "action", "target_type", "target_id", "notebook_id", "details")


def _plain(value: Any) -> Any:
    """One text form per value whatever the database hands back (a UUID or its string, an aware datetime)."""
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def canonical(line: dict[str, Any]) -> bytes:
    """The line's canonical JSON: its hashed fields only, keys sorted, no spaces, UTF-8."""
    return json.dumps({name: _plain(line.get(name)) for name in HASHED_FIELDS}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode()


def line_hash(prev_hash: str, line: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(line)).hexdigest()


@dataclass(frozen=True)
class Problem:
    seq: int
    message: str  # French: read by whoever runs ``carnet audit verify``


@dataclass(frozen=True)
class Verdict:
    checked: int
    problem: Problem | None

    @property
    def intact(self) -> bool:
        return self.problem is None


class ChainCheck:
    """Checks lines fed one by one in ``seq`` order (the log is read as a stream, never whole in memory): the first
    must follow the anchor (``anchor_seq``, the last line purged, or 0), each next one its predecessor, the last
    one be the chain's head (kept apart: removing the last lines is seen too). ``known_hashes``: every hash the log
    holds, which tells a moved line (its link names another line) from a rewritten one."""

    def __init__(self, anchor_seq: int = 0, anchor_hash: str = GENESIS, known_hashes: set[str] | None = None):
        self.expected_seq, self.prev_hash, self.checked = anchor_seq + 1, anchor_hash, 0
        self.known_hashes = known_hashes or set()

    def feed(self, line: dict[str, Any]) -> Problem | None:
        seq, expected = line["seq"], self.expected_seq
        if seq < expected:
            return Problem(seq, f"ordre changé : ligne {seq} après la ligne {expected - 1}")
        if seq > expected:
            return Problem(expected, f"ligne manquante après {expected - 1}")
        if line["prev_hash"] != self.prev_hash:
            # The link is broken. It names another line of the log: lines were moved. Otherwise the line before
            # was rewritten with its hash recomputed (its hash then matches its content, not this line's link).
            if line["prev_hash"] in self.known_hashes:
                return Problem(seq, f"ordre changé : la ligne {seq} ne suit pas la ligne {seq - 1}")
            return Problem(seq - 1, f"ligne {seq - 1} modifiée")
        if line_hash(self.prev_hash, line) != line["hash"]:
            return Problem(seq, f"ligne {seq} modifiée")
        self.prev_hash, self.expected_seq, self.checked = line["hash"], seq + 1, self.checked + 1
        return None

    def finish(self, head_seq: int | None = None, head_hash: str | None = None) -> Problem | None:
        last = self.expected_seq - 1
        if head_seq is None or (head_seq == last and head_hash in (None, self.prev_hash)):
            return None
        if head_seq > last:
            return Problem(last + 1, f"ligne manquante après {last}")
        return Problem(last, f"ligne {last} modifiée")


def verify(lines: Iterable[dict[str, Any]], anchor_seq: int = 0, anchor_hash: str = GENESIS,
           head_seq: int | None = None, head_hash: str | None = None) -> Verdict:
    """``ChainCheck`` over lines in memory (tests, small logs)."""
    lines = list(lines)
    check = ChainCheck(anchor_seq, anchor_hash, {line["hash"] for line in lines})
    for line in lines:
        if problem := check.feed(line):
            return Verdict(check.checked, problem)
    return Verdict(check.checked, check.finish(head_seq, head_hash))
