"""The bus's AsyncAPI document (services/gateway/src/gateway/static/asyncapi.json) is the one FastStream makes from
every service's broker as wired today, and it documents every subject of the contracts: an event or an RPC that
changes without ``make schemas`` fails here."""
from __future__ import annotations

import json

import pytest

from carnet.asyncapi import DOCUMENT, render, system_document
from contracts.base import IntegrationEvent, RpcRequest
from contracts.registry import load_all
from servicekit.bus_access import publisher_of

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def document() -> dict:
    return system_document()


def test_the_committed_document_is_the_one_the_services_make(document):
    committed = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
    assert committed == render(document), (
        f"{DOCUMENT} is out of date with the contracts or the services' wiring: run `make schemas` and commit it")


def test_every_subject_of_the_contracts_is_a_channel_with_its_payload(document):
    channels, messages = document["channels"], document["components"]["messages"]
    for subject, cls in load_all():
        assert channels[subject]["address"] == subject
        assert messages[subject]["payload"] == {"$ref": f"#/components/schemas/{cls.__name__}"}
        assert document["components"]["schemas"][cls.__name__]["title"] == cls.__name__


def operations_on(document: dict, subject: str) -> list[dict]:
    return [op for op in document["operations"].values() if op["channel"]["$ref"] == f"#/channels/{subject}"]


def test_every_rpc_is_answered_by_its_service_with_its_reply_or_an_error(document):
    requests = [(subject, cls) for subject, cls in load_all() if issubclass(cls, RpcRequest)]
    assert requests
    for subject, cls in requests:
        [operation] = operations_on(document, subject)
        assert operation["action"] == "receive" and operation["tags"] == [{"name": subject.split(".")[1]}]
        reply_channel = operation["reply"]["channel"]["$ref"].rsplit("/", 1)[-1]
        assert document["channels"][reply_channel]["address"] is None  # the requester's inbox
        reply = document["components"]["messages"][reply_channel]
        assert reply["payload"] == {"$ref": f"#/components/schemas/{cls.reply_model.__name__}"}
        assert [m["$ref"].rsplit("/", 1)[-1] for m in operation["reply"]["messages"]] == ["reply", "error"]


def test_every_event_is_sent_by_its_owner_and_received_by_named_durables(document):
    events = [(subject, cls) for subject, cls in load_all() if issubclass(cls, IntegrationEvent)]
    consumed = set()
    for subject, _cls in events:
        operations = operations_on(document, subject)
        senders = [op["tags"][0]["name"] for op in operations if op["action"] == "send"]
        assert senders == [publisher_of(subject)], subject
        for op in operations:
            if op["action"] == "receive":
                assert op["x-durable"].startswith(op["tags"][0]["name"].replace("_", "-"))
                consumed.add(subject)
        assert ("tags" in document["channels"][subject]) == subject.startswith("secret."), subject
    assert "secret.identity.login_link.issued.v1" in consumed and "notebook.appointment.booked.v1" in consumed


def test_the_document_is_asyncapi_3_with_the_nats_server(document):
    assert document["asyncapi"] == "3.0.0"
    assert [server["protocol"] for server in document["servers"].values()] == ["nats"]
    json.dumps(document, allow_nan=False)  # plain JSON, no NaN
