"""The bus's AsyncAPI document for partners: ``/api/asyncapi.json`` as generated (``make schemas``, from every
service's FastStream broker), and ``/api/asyncapi``, the same rendered by a template, with no script nor asset from
elsewhere. The gateway reads the committed file; it imports no service."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from gateway.web.common import templates

DOCUMENT = Path(__file__).resolve().parents[1] / "static" / "asyncapi.json"

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Field:
    name: str
    type: list[str]  # tokens: the names of documented types become links on the page
    required: bool
    description: str


@dataclass
class Channel:
    subject: str
    description: str
    internal: bool
    payload: str
    fields: list[Field]
    reply: str = ""
    reply_fields: list[Field] = field(default_factory=list)
    consumers: list[tuple[str, str]] = field(default_factory=list)  # (service, durable)


@dataclass(frozen=True)
class Type:
    name: str
    description: str
    values: list | None  # an enumeration's
    fields: list[Field]


@dataclass
class Service:
    name: str
    events: list[Channel] = field(default_factory=list)
    requests: list[Channel] = field(default_factory=list)


def name_of(ref: dict) -> str:
    return ref["$ref"].rsplit("/", 1)[-1]


def type_tokens(schema: dict) -> list[str]:
    if "$ref" in schema:
        return [name_of(schema)]
    if "anyOf" in schema:
        tokens = type_tokens(schema["anyOf"][0])
        for choice in schema["anyOf"][1:]:
            tokens += [" | ", *type_tokens(choice)]
        return tokens
    kind = schema.get("type", "any")
    if kind == "array":
        return ["array[", *type_tokens(schema.get("items", {})), "]"]
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return ["object[string, ", *type_tokens(schema["additionalProperties"]), "]"]
    return [f"{kind} ({schema['format']})" if "format" in schema else kind]


def fields_of(schema: dict) -> list[Field]:
    required = set(schema.get("required", ()))
    return [Field(name, type_tokens(prop), name in required, prop.get("description", ""))
            for name, prop in schema.get("properties", {}).items()]


@cache
def document_bytes() -> bytes:
    return DOCUMENT.read_bytes()


@cache
def page_context() -> dict:
    """Channels grouped by service: an event under its publisher, with its consumers; a request under the service
    that answers it, with its reply. Then the types that the payloads name."""
    doc = json.loads(document_bytes())
    schemas, messages = doc["components"]["schemas"], doc["components"]["messages"]

    def channel(subject: str) -> Channel:
        found = doc["channels"][subject]
        payload = name_of(messages[subject]["payload"])
        internal = any(tag["name"] == "internal" for tag in found.get("tags", ()))
        return Channel(subject, found.get("description", ""), internal, payload, fields_of(schemas[payload]))

    services: dict[str, Service] = {}
    channels: dict[str, Channel] = {}
    for operation in sorted(doc["operations"].values(), key=lambda op: op["action"] != "send"):
        subject = name_of(operation["channel"])
        service = services.setdefault(operation["tags"][0]["name"], Service(operation["tags"][0]["name"]))
        if subject not in channels:
            channels[subject] = channel(subject)
            if "reply" in operation:
                reply = name_of(messages[f"{subject}.reply"]["payload"])
                channels[subject].reply, channels[subject].reply_fields = reply, fields_of(schemas[reply])
                service.requests.append(channels[subject])
            else:
                service.events.append(channels[subject])
        if "x-durable" in operation:
            channels[subject].consumers.append((service.name, operation["x-durable"]))
    # The types that fields name, and the error envelope of every reply.
    named = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(schemas)))
    named.add(name_of(messages["rpc.error"]["payload"]))
    types = {name: schema for name, schema in sorted(schemas.items()) if name in named}
    for service in services.values():
        service.events.sort(key=lambda c: c.subject)
        service.requests.sort(key=lambda c: c.subject)
        for event in service.events:
            event.consumers.sort()
    return {"info": doc["info"],
            "services": [s for s in sorted(services.values(), key=lambda s: s.name) if s.events or s.requests],
            "types": {name: Type(name, schema.get("description", ""), schema.get("enum"), fields_of(schema))
                      for name, schema in types.items()}}


@router.get("/api/asyncapi.json")
async def asyncapi_json() -> Response:
    return Response(document_bytes(), media_type="application/json")


@router.get("/api/asyncapi", response_class=HTMLResponse)
async def asyncapi_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "asyncapi.html.j2", page_context())
