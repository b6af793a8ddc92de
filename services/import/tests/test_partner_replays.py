"""A partner's dead letter is replayed by the partner consumer's own callback, and by it only: a second responder
in the durable's queue group (the bus's generic replay, which handles a contract event) took half of the replays
and failed them (CI, tests/e2e/test_partners_nats.py)."""
from __future__ import annotations

import pytest

from contracts.partners import PARTNER_MESSAGES
from data_import.entrypoints.partner_consumer import durable_of

pytestmark = pytest.mark.unit


def test_each_partner_durable_has_the_partner_consumers_replay_only(monkeypatch, tmp_path):
    monkeypatch.setenv("CARNET_ENV", "dev")
    monkeypatch.setenv("CARNET_VAR_DIR", str(tmp_path))
    from data_import import bootstrap

    service = bootstrap.build()
    for kind in PARTNER_MESSAGES:
        assert service.bus.replays[durable_of(kind)].__qualname__.startswith("replay_partner_message")
    replay_subjects = [s.subject.broker_address for s in service.bus.broker.subscribers
                       if s.subject.broker_address.startswith("dlq.replay.")]
    assert replay_subjects == []
