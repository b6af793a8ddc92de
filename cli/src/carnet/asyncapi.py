"""The AsyncAPI document of the whole bus, for partners: FastStream documents each service's broker as its bootstrap
wires it, and the documents are merged into one, served by the gateway at ``/api/asyncapi.json`` and ``/api/asyncapi``.

One channel per subject. An RPC's operation has its ``reply`` (FastStream documents the request only): the reply
model, or the error envelope with its ``Carnet-Error`` header. An event has its owner's ``send`` operation and one
``receive`` per durable consumer (``x-durable``); every operation is tagged with its service. ``secret.*`` channels
are tagged ``internal``.

Regenerate with ``make schemas`` (``python -m carnet.asyncapi``) after a change of contracts or wiring: a test fails
until the committed document matches.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import tempfile
import typing
from pathlib import Path
from urllib.parse import unquote

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI

from contracts.base import ERROR_HEADER, ErrorEnvelope, IntegrationEvent
from contracts.partners import PartnerMessageRejectedV1
from contracts.registry import load_all
from servicekit.app import Service
from servicekit.bus_access import PARTNER_SENDER, publisher_of
from servicekit.topology import SERVICES

# In the gateway's package, which serves it without importing any service.
DOCUMENT = Path(importlib.util.find_spec("gateway").origin).parent / "static" / "asyncapi.json"
INFO = {
    "title": "Carnet de bord – bus NATS",
    "version": "1",
    "description": (
        "Les événements et les requêtes du bus NATS de Carnet de bord. Un événement est publié dans JetStream par "
        "le service qui le possède (<service>.<objet>.<fait>.v<N>) et lu par des consommateurs durables. Une "
        "requête (rpc.<service>.<opération>.v<N>) reçoit sa réponse sur la boîte de réception du demandeur : le "
        f"modèle de réponse, ou une erreur (ErrorEnvelope, avec l'en-tête {ERROR_HEADER}). Les canaux secret.* "
        "sont internes : aucun partenaire ne peut les lire."),
}
NATS_URL = "nats://127.0.0.1:4222"  # the server named in the document; each deployment has its own
INTERNAL = {"name": "internal", "description": "Interne : secret à usage unique, réservé aux services du système."}
ERROR_MESSAGE = "rpc.error"


def ref(*path: str) -> dict:
    return {"$ref": "#/" + "/".join(path)}


def resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        # FastStream writes references as URI fragments: a partner's ``*`` comes as ``%2A``.
        node = functools.reduce(lambda at, key: at[unquote(key)], node["$ref"].removeprefix("#/").split("/"), document)
    return node


def wired_service(package: str, name: str, workdir: Path) -> Service:
    """A service as its bootstrap wires it, every handler registered; nothing connects (the database engine is
    lazy)."""
    bootstrap = importlib.import_module(f"{package}.bootstrap")
    hint = typing.get_type_hints(bootstrap.build)["settings"]
    settings_type = next(kind for kind in typing.get_args(hint) if kind is not type(None))
    return bootstrap.build(settings_type(env="dev", nats_url=NATS_URL, database_url=f"sqlite:///{workdir}/{name}.db"))


def service_document(package: str, name: str, workdir: Path) -> dict:
    """FastStream's document of one service's broker, with the events the service owns: the outbox relay
    publishes them, not a FastStream publisher, so they are declared here, for the document only."""
    service = wired_service(package, name, workdir)
    for subject, cls in load_all():
        if issubclass(cls, IntegrationEvent) and publisher_of(subject) == name:
            service.bus.broker.publisher(subject, schema=cls, title=f"{name}:{subject}",
                                         description=(cls.__doc__ or "").strip() or None)
    specification = AsyncAPI(service.bus.broker, title=name, version=INFO["version"], schema_version="3.0.0")
    return json.loads(specification.to_specification().to_json())


def partner_document() -> dict:
    """What partner software does on the bus, with its own user: publish its messages on ``partner.<partner>.>``
    (``*`` stands for its name), and read the refusals of them."""
    broker = NatsBroker(NATS_URL)
    for subject, cls in load_all():
        if issubclass(cls, IntegrationEvent) and publisher_of(subject) == PARTNER_SENDER:
            broker.publisher(subject, schema=cls, title=f"{PARTNER_SENDER}:{subject}",
                             description=(cls.__doc__ or "").strip() or None)

    async def rejected(message: PartnerMessageRejectedV1) -> None:
        """Le refus d'un message du partenaire, avec sa raison en français."""

    broker.subscriber(PartnerMessageRejectedV1.subject,
                      title=f"{PARTNER_SENDER}:{PartnerMessageRejectedV1.subject}")(rejected)
    specification = AsyncAPI(broker, title=PARTNER_SENDER, version=INFO["version"], schema_version="3.0.0")
    return json.loads(specification.to_specification().to_json())


class Merged:
    def __init__(self) -> None:
        self.servers: dict = {}
        self.channels: dict = {}
        self.operations: dict = {}
        self.schemas: dict = {}
        self.messages: dict = {ERROR_MESSAGE: {
            "name": "ErrorEnvelope", "title": "Erreur d'une requête", "payload": self.model(ErrorEnvelope),
            "headers": {"type": "object", "properties": {ERROR_HEADER: ref("components", "schemas", "ErrorCode")},
                        "required": [ERROR_HEADER]}}}

    def add_schemas(self, schemas: dict) -> None:
        for name, schema in schemas.items():
            if self.schemas.setdefault(name, schema) != schema:
                raise ValueError(f"two wire models are named {name}: the document needs one name per model")

    def model(self, cls) -> dict:
        schema = cls.model_json_schema(ref_template="#/components/schemas/{model}")
        self.add_schemas({**schema.pop("$defs", {}), cls.__name__: schema})
        return ref("components", "schemas", cls.__name__)

    def add(self, service: str, document: dict) -> None:
        self.servers.update(document["servers"])
        self.add_schemas(document.get("components", {}).get("schemas", {}))
        for key, operation in document.get("operations", {}).items():
            channel = resolve(document, operation["channel"])
            subject = channel["address"]
            message = resolve(document, operation["messages"][0])
            if subject not in self.channels:
                payload = message["payload"]["$ref"].rsplit("/", 1)[-1]
                self.messages[subject] = {**message, "name": payload, "title": subject}
                self.channels[subject] = {**channel, "messages": {"payload": ref("components", "messages", subject)},
                                          **({"tags": [INTERNAL]} if subject.startswith("secret.") else {})}
            merged = {"action": operation["action"], "channel": ref("channels", subject),
                      "messages": [ref("channels", subject, "messages", "payload")], "tags": [{"name": service}]}
            if subject.startswith("rpc."):
                merged["reply"] = self.reply(subject)
            elif operation["action"] == "receive":
                merged["x-durable"] = key.split(":", 1)[0]  # subscribers are titled <durable>:<subject>
            if key in self.operations:
                raise ValueError(f"two operations are titled {key}")
            self.operations[key] = merged

    def reply(self, subject: str) -> dict:
        """The reply to a request arrives on the requester's own inbox: a channel without a fixed address."""
        reply_model = load_all()[subject].reply_model
        channel = f"{subject}.reply"
        self.messages[channel] = {"name": reply_model.__name__, "title": channel, "payload": self.model(reply_model)}
        self.channels[channel] = {
            "address": None, "description": "La boîte de réception du demandeur (sujet de réponse NATS).",
            "messages": {"reply": ref("components", "messages", channel),
                         "error": ref("components", "messages", ERROR_MESSAGE)}}
        return {"channel": ref("channels", channel),
                "messages": [ref("channels", channel, "messages", "reply"),
                             ref("channels", channel, "messages", "error")]}

    def document(self) -> dict:
        return {"asyncapi": "3.0.0", "info": INFO, "defaultContentType": "application/json",
                "servers": self.servers, "channels": self.channels, "operations": self.operations,
                "components": {"messages": self.messages, "schemas": self.schemas}}


def system_document() -> dict:
    merged = Merged()
    # First: a partner's channels take their message from the partner's publishing, not from the bytes the import
    # service reads them as.
    merged.add(PARTNER_SENDER, partner_document())
    with tempfile.TemporaryDirectory() as workdir:
        for info in SERVICES:
            merged.add(info.name, service_document(info.package, info.name, Path(workdir)))
    return merged.document()


def render(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    DOCUMENT.write_text(render(system_document()), encoding="utf-8")
