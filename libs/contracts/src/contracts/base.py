"""Base classes of every message on the bus.

Subjects are class variables, never derived from ``__name__``: renaming a class must not change the wire.
"""
from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from functools import cache
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer


class WireModel(BaseModel):
    # Consumers ignore unknown fields so that producers can add optional fields freely. Each model's validator is
    # built at its first use: a service imports every owner's contracts but uses a few (~4 MB less per idle
    # process, issue 19); the schemas are the same.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


Model = TypeVar("Model", bound=BaseModel)
# Defaults shared as they are (pydantic's ``model_construct`` copies the others).
IMMUTABLE = (type(None), bool, int, float, str, bytes, Decimal, uuid.UUID, date, Enum, tuple, frozenset)


@cache
def _defaults(model: type[BaseModel]) -> tuple[tuple[str, Any, Any], ...]:
    """Each field of ``model`` with a default: its name, its default value and its default factory. Read once per
    class. A factory taking the validated data is left to pydantic."""
    return tuple((name, info.default, info.default_factory) for name, info in model.model_fields.items()
                 if not info.is_required() and not info.default_factory_takes_validated_data)


def construct_validated(model: type[Model], **values: Any) -> Model:
    """``model.model_construct(**values)``: a message of values already validated (ids made here, fields cleaned
    through the model that holds the same constraints), not validated again. Its defaults are filled here:
    ``model_construct`` inspects the signature of each default factory (``list``, ``uuid4``) at every call,
    which cost more than the rest of an imported row's events (issue 15 item 8). Same message, same JSON."""
    given = set(values)
    for name, default, factory in _defaults(model):
        if name not in given:
            values[name] = factory() if factory is not None else (
                default if isinstance(default, IMMUTABLE) else copy.deepcopy(default))
    return model.model_construct(_fields_set=given, **values)


class Withholding(WireModel):
    """A view some callers may not see whole: the fields named in ``withheld`` are left out of the JSON,
    rather than sent with a plausible value (``false``, ``""``) that a client would take for the truth."""

    withheld: list[str] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _leave_out_withheld(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        for name in self.withheld:
            data.pop(name, None)
        return data


class IntegrationEvent(WireModel):
    """A fact published by its owner service on ``<owner>.<aggregate>.<past_tense>.v<N>``."""

    subject: ClassVar[str]
    version: ClassVar[int] = 1

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class RpcReply(WireModel):
    """Answer of an RPC; each request class names its reply class."""


class RpcRequest(WireModel):
    """A request on ``rpc.<service>.<operation>.v<N>``, answered by one replica of the service."""

    subject: ClassVar[str]
    reply_model: ClassVar[type[RpcReply]]


class ErrorCode(StrEnum):
    invalid = "invalid"
    unauthenticated = "unauthenticated"
    forbidden = "forbidden"
    not_found = "not_found"
    conflict = "conflict"
    too_large = "too_large"
    rate_limited = "rate_limited"
    unavailable = "unavailable"
    timeout = "timeout"
    # An unexpected failure (a bug): retrying will not help, unlike ``unavailable``.
    internal = "internal"


HTTP_STATUS_BY_ERROR: dict[ErrorCode, int] = {
    ErrorCode.invalid: 422,
    ErrorCode.unauthenticated: 401,
    ErrorCode.forbidden: 403,
    ErrorCode.not_found: 404,
    ErrorCode.conflict: 409,
    ErrorCode.too_large: 413,
    ErrorCode.rate_limited: 429,
    ErrorCode.unavailable: 503,
    ErrorCode.timeout: 504,
    ErrorCode.internal: 500,
}

ERROR_HEADER = "Carnet-Error"


class ErrorEnvelope(WireModel):
    """Body of an RPC error reply, sent with the ``Carnet-Error: <code>`` header."""

    code: ErrorCode
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
