"""What a partner reads before writing a line (issue 16 item 7): the partners' route in the OpenAPI document with
an example of its body and of every answer (each one the contracts accept), and the partners' channels in the
AsyncAPI document the gateway serves — who sends, who receives, with their payloads."""
from __future__ import annotations

import httpx
import pytest

from contracts.base import ErrorEnvelope
from contracts.partners import (CreatePartnerNotebook, PartnerAppointmentUpsertV1, PartnerNotebookCreated,
                                PartnerNotebookUpsertV1)
from gateway.config import GatewaySettings
from gateway.main import create_app

pytestmark = pytest.mark.unit

ROUTE = "/api/v1/partners/{partner}/notebooks"


@pytest.fixture(scope="module")
def app():
    return create_app(GatewaySettings(env="test"))  # lifespan (NATS) not started: the documents need no bus


def test_the_partners_route_has_an_example_of_its_body_and_of_every_answer(app):
    operation = app.openapi()["paths"][ROUTE]["post"]
    assert operation["tags"] == ["partenaires"] and operation["security"] == [{"partnerBasic": []}]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert examples
    for example in examples.values():
        CreatePartnerNotebook.model_validate(example["value"])
    answers = operation["responses"]
    assert set(answers) >= {"201", "400", "401", "403", "409", "422"}
    PartnerNotebookCreated.model_validate(answers["201"]["content"]["application/json"]["example"])
    for code in ("400", "401", "403", "409", "422"):
        example = answers[code]["content"]["application/json"]["example"]
        assert ErrorEnvelope.model_validate(example).message, code
    assert answers["409"]["content"]["application/json"]["example"]["notebookId"]


async def test_the_served_asyncapi_document_says_who_sends_and_receives_the_partners_channels(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        document = (await client.get("/api/asyncapi.json")).json()
    operations = {}
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        operations.setdefault(channel, set()).add((operation["action"], operation["tags"][0]["name"]))
    schemas = document["components"]["schemas"]
    for subject, cls in (("partner.*.notebook.upsert.v1", PartnerNotebookUpsertV1),
                         ("partner.*.appointment.upsert.v1", PartnerAppointmentUpsertV1)):
        assert document["channels"][subject]["address"] == subject
        assert operations[subject] == {("send", "partner"), ("receive", "data_import")}
        assert document["components"]["messages"][subject]["payload"] == {
            "$ref": f"#/components/schemas/{cls.__name__}"}
        assert "event_id" in schemas[cls.__name__]["properties"]
    rejected = "partner.*.rejected.v1"
    assert operations[rejected] == {("send", "data_import"), ("receive", "partner")}
    payload = document["components"]["messages"][rejected]["payload"]["$ref"].rsplit("/", 1)[-1]
    assert {"reason", "rejected_event_id", "rejected_subject"} <= set(schemas[payload]["properties"])
