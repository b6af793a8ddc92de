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


def verify(lines: Iterable[dict[str, Any]], anchor_seq: int = 0, anchor_hash: str = GENESIS,
           head_seq: int | None = None, head_hash: str | None = None) -> Verdict:
    """``lines`` in ``seq`` order, from the first one kept: the first one must follow the anchor (``anchor_seq``,
    the last line purged, or 0), each next one its predecessor, and the last one be the chain's head (the last
    line appended, kept apart: removing the last lines is seen too)."""
    lines = list(lines)
    stored_hashes = {line["hash"] for line in lines}
    expected_seq, prev_hash, checked = anchor_seq + 1, anchor_hash, 0
    for line in lines:
        seq = line["seq"]
        if seq < expected_seq:
            return Verdict(checked, Problem(seq, f"ordre changé : ligne {seq} après la ligne {expected_seq - 1}"))
        if seq > expected_seq:
            return Verdict(checked, Problem(expected_seq, f"ligne manquante après {expected_seq - 1}"))
        if line["prev_hash"] != prev_hash:
            # The link is broken: a line moved here from elsewhere, or the previous line was rewritten with its
            # hash recomputed (its stored hash then matches its content, but no longer what this line holds).
            # Its link names another line of the log: lines were moved. Otherwise the line before was rewritten.
            if line["prev_hash"] in stored_hashes:
                return Verdict(checked, Problem(seq, f"ordre changé : la ligne {seq} ne suit pas la ligne {seq - 1}"))
            return Verdict(checked, Problem(seq - 1, f"ligne {seq - 1} modifiée"))
        if line_hash(prev_hash, line) != line["hash"]:
            return Verdict(checked, Problem(seq, f"ligne {seq} modifiée"))
        prev_hash, expected_seq, checked = line["hash"], seq + 1, checked + 1
    if head_seq is not None and (head_seq != expected_seq - 1 or (head_hash is not None and head_hash != prev_hash)):
        if head_seq > expected_seq - 1:
            return Verdict(checked, Problem(expected_seq, f"ligne manquante après {expected_seq - 1}"))
        return Verdict(checked, Problem(expected_seq - 1, f"ligne {expected_seq - 1} modifiée"))
    return Verdict(checked, None)
