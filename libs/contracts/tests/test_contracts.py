from typing import ClassVar

import pytest

from contracts.base import IntegrationEvent
from contracts.registry import DuplicateSubjectError, Registry, load_all
from contracts.snapshots import SCHEMA_DIR, current_snapshots
from contracts.streams import ALL_STREAMS, SECRETS, stream_for_subject

pytestmark = pytest.mark.unit


def test_every_wire_model_matches_its_committed_schema_snapshot():
    committed = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_DIR.glob("*.json")}
    current = current_snapshots()
    assert sorted(committed) == sorted(current), "run `python -m contracts.snapshots` and commit the schemas"
    for name, text in current.items():
        assert committed[name] == text, f"{name} changed: run `python -m contracts.snapshots` and review"


def test_registry_refuses_a_second_class_on_the_same_subject():
    registry = Registry()

    class First(IntegrationEvent):
        subject: ClassVar[str] = "identity.thing.happened.v1"

    class Second(IntegrationEvent):
        subject: ClassVar[str] = "identity.thing.happened.v1"

    registry.add(First)
    registry.add(First)  # registering the same class twice is harmless
    with pytest.raises(DuplicateSubjectError):
        registry.add(Second)


def test_every_event_subject_is_captured_by_exactly_one_stream_and_rpc_by_none():
    for subject, cls in load_all():
        if subject.startswith("rpc."):
            with pytest.raises(KeyError):
                stream_for_subject(subject)
        else:
            assert stream_for_subject(subject) in ALL_STREAMS


def test_secret_events_expire_with_the_secret():
    assert stream_for_subject("secret.identity.login_link.issued.v1") is SECRETS
    assert SECRETS.max_age_s == 15 * 60


def test_events_ignore_unknown_fields_so_producers_can_add_optional_ones():
    from contracts.notify import MessageSentV1

    event = MessageSentV1(
        message_id="6f1c1f5e-6d5c-4b5e-9d0a-4d1f5e0b7a11",
        channel="email",
        template="login_link",
        source_event_id="6f1c1f5e-6d5c-4b5e-9d0a-4d1f5e0b7a12",
    )
    payload = event.model_dump(mode="json") | {"added_later": 1}
    assert MessageSentV1.model_validate(payload) == event
