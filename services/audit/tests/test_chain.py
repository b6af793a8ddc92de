"""The hash chain alone: an intact log verifies; one line changed, removed, or two swapped is named."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from audit.domain.chain import GENESIS, line_hash, verify

pytestmark = pytest.mark.unit


def chain(count: int, first_seq: int = 1, prev: str = GENESIS) -> list[dict]:
    lines, start = [], datetime(2026, 1, 5, 9, tzinfo=UTC)
    for seq in range(first_seq, first_seq + count):
        line = dict(seq=seq, event_id=uuid.uuid4(), recorded_at=start + timedelta(minutes=seq),
                    occurred_at=start + timedelta(minutes=seq), deployment_id=uuid.uuid4(),
                    actor_account_id=uuid.uuid4(), actor_role="professional", action="notebook.read",
                    target_type="notebook", target_id=str(uuid.uuid4()), notebook_id=uuid.uuid4(),
                    details={"rpc": "rpc.notebook.get_page.v1"})
        line.update(prev_hash=prev, hash=line_hash(prev, line))
        prev = line["hash"]
        lines.append(line)
    return lines


def test_an_intact_chain_verifies_every_line():
    lines = chain(5)
    verdict = verify(lines, head_seq=5, head_hash=lines[-1]["hash"])
    assert verdict.intact and verdict.checked == 5


def test_an_empty_log_is_intact():
    assert verify([], head_seq=0, head_hash=GENESIS).intact


def test_one_field_changed_names_its_line():
    lines = chain(5)
    lines[2]["actor_role"] = "manager"
    assert verify(lines).problem.message == "ligne 3 modifiée"


def test_a_line_rewritten_with_its_hash_recomputed_is_still_caught_by_the_next_one():
    lines = chain(5)
    lines[2]["action"] = "notebook.changed"
    lines[2]["hash"] = line_hash(lines[2]["prev_hash"], lines[2])
    assert verify(lines).problem.message == "ligne 3 modifiée"


def test_the_last_line_rewritten_with_its_hash_is_caught_by_the_head():
    lines = chain(3)
    head = lines[-1]["hash"]
    lines[-1]["target_id"] = "autre"
    lines[-1]["hash"] = line_hash(lines[-1]["prev_hash"], lines[-1])
    assert verify(lines, head_seq=3, head_hash=head).problem.message == "ligne 3 modifiée"


def test_a_line_removed_leaves_a_gap():
    lines = chain(5)
    del lines[2]
    assert verify(lines).problem.message == "ligne manquante après 2"


def test_the_last_lines_removed_are_missing_from_the_head():
    lines = chain(5)
    assert verify(lines[:3], head_seq=5, head_hash=lines[-1]["hash"]).problem.message == "ligne manquante après 3"


def test_two_lines_swapped_break_the_order():
    lines = chain(5)
    # Their contents swapped in place, each keeping the seq of its slot (what reading by seq shows).
    second, third = dict(lines[1]), dict(lines[2])
    lines[1] = {**third, "seq": 2}
    lines[2] = {**second, "seq": 3}
    problem = verify(lines).problem
    assert problem.seq == 2 and "ordre changé" in problem.message


def test_verification_starts_from_the_anchor_after_a_purge():
    lines = chain(6)
    anchor = lines[2]
    assert verify(lines[3:], anchor_seq=3, anchor_hash=anchor["hash"]).intact
    assert not verify(lines[3:]).intact  # without the anchor, the first kept line follows nothing
