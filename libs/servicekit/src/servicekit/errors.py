"""Errors that cross the bus as the ``Carnet-Error`` envelope and become HTTP statuses at the gateway."""
from __future__ import annotations

from typing import Any

from contracts.base import HTTP_STATUS_BY_ERROR, ErrorCode, ErrorEnvelope
from contracts.inputs import field_errors, invalid_message


class ServiceError(Exception):
    """Raised by a handler for an expected refusal; ``message`` is French, shown to the user."""

    code: ErrorCode = ErrorCode.invalid

    def __init__(self, message: str, *, code: ErrorCode | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}

    @property
    def http_status(self) -> int:
        return HTTP_STATUS_BY_ERROR[self.code]

    def envelope(self) -> ErrorEnvelope:
        return ErrorEnvelope(code=self.code, message=self.message, details=self.details)

    @classmethod
    def from_envelope(cls, envelope: ErrorEnvelope) -> ServiceError:
        return cls(envelope.message, code=envelope.code, details=envelope.details)


class Invalid(ServiceError):
    code = ErrorCode.invalid

    @classmethod
    def of_fields(cls, errors: list[dict[str, Any]]) -> Invalid:
        """Input rules broken (pydantic's ``errors()``, or the same shape): one 422 naming each field in French,
        in the message and in ``details.fields``."""
        fields = field_errors(errors)
        return cls(invalid_message(fields), details={"fields": fields})


class Unauthenticated(ServiceError):
    code = ErrorCode.unauthenticated


class Forbidden(ServiceError):
    code = ErrorCode.forbidden


class NotFound(ServiceError):
    code = ErrorCode.not_found


class Conflict(ServiceError):
    code = ErrorCode.conflict


class RateLimited(ServiceError):
    code = ErrorCode.rate_limited


class Unavailable(ServiceError):
    code = ErrorCode.unavailable


class RpcTimeout(ServiceError):
    code = ErrorCode.timeout


class RejectMessage(Exception):
    """Raised by an event handler for a message that can never succeed: it goes to DEADLETTER at once."""
