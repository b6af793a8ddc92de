"""Request/reply over core NATS: one subject per operation, a queue group per service.

Replies carry either the reply model or, with header ``Carnet-Error: <code>``, an ``ErrorEnvelope``.
"""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from opentelemetry import trace
from pydantic import ValidationError

from contracts.base import ERROR_HEADER, ErrorCode, ErrorEnvelope, RpcReply, RpcRequest
from servicekit import telemetry
from servicekit.concurrency import once_more_if_stale
from servicekit.errors import Invalid, RpcTimeout, ServiceError
from servicekit.metrics import RPC_ERRORS, RPC_SECONDS

log = structlog.get_logger("servicekit.rpc")

Req = TypeVar("Req", bound=RpcRequest)


@dataclass
class RpcContext:
    """What a handler knows of the caller besides the request body."""

    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def bearer_token(self) -> str | None:
        value = self.headers.get("Authorization", "")
        return value[7:] if value.startswith("Bearer ") else None

    @property
    def request_id(self) -> str:
        return self.headers.get("X-Request-Id", "")


Handler = Callable[[Any, RpcContext], Awaitable[RpcReply]]


def internal_error(request_id: str) -> ErrorEnvelope:
    return ErrorEnvelope(
        code=ErrorCode.internal,
        message=f"Une erreur interne est survenue (demande {request_id or 'sans identifiant'}). "
        "Signalez-la avec cet identifiant si elle se reproduit.",
        details={"request_id": request_id},
    )


class RpcServer:
    def __init__(self, nc: NatsClient, service: str, *, max_concurrency: int = 64) -> None:
        self.nc = nc
        self.service = service
        self._limit = asyncio.Semaphore(max_concurrency)
        self._tasks: set[asyncio.Task] = set()
        self._subscriptions = []

    async def serve(self, request_type: type[Req], handler: Callable[[Req, RpcContext], Awaitable[RpcReply]]) -> None:
        async def on_message(msg: Msg) -> None:
            # nats-py runs one callback at a time per subscription: hand each request to its own task.
            task = asyncio.create_task(self._handle(request_type, handler, msg))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._subscriptions.append(await self.nc.subscribe(request_type.subject, queue=self.service, cb=on_message))

    async def _handle(self, request_type: type[RpcRequest], handler: Handler, msg: Msg) -> None:
        headers = dict(msg.headers or {})
        subject = request_type.subject
        async with self._limit:
            with (
                structlog.contextvars.bound_contextvars(subject=subject, request_id=headers.get("X-Request-Id")),
                telemetry.tracer().start_as_current_span(
                    f"rpc {subject}", context=telemetry.extract_context(headers), kind=trace.SpanKind.SERVER
                ),
                RPC_SECONDS.labels(subject).time(),
            ):
                try:
                    try:
                        request = request_type.model_validate_json(msg.data or b"{}")
                    except ValidationError as exc:
                        raise Invalid.of_fields(exc.errors()) from None
                    reply = await once_more_if_stale(handler, request, RpcContext(headers))
                    body, reply_headers = reply.model_dump_json().encode(), None
                except ServiceError as exc:
                    RPC_ERRORS.labels(subject, exc.code).inc()
                    body, reply_headers = exc.envelope().model_dump_json().encode(), {ERROR_HEADER: exc.code.value}
                except Exception:
                    # A bug, not a passing outage: 500 (503 would invite a retry that can never succeed),
                    # with the request id that finds the traceback in the logs.
                    log.exception("rpc_handler_failed")
                    RPC_ERRORS.labels(subject, ErrorCode.internal).inc()
                    envelope = internal_error(headers.get("X-Request-Id", ""))
                    body, reply_headers = envelope.model_dump_json().encode(), {ERROR_HEADER: envelope.code.value}
            if msg.reply:
                await self.nc.publish(msg.reply, body, headers=reply_headers)

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            await subscription.unsubscribe()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class RpcClient:
    def __init__(self, nc: NatsClient, *, timeout_s: float = 5.0) -> None:
        self.nc = nc
        self.timeout_s = timeout_s

    async def call(
        self,
        request: RpcRequest,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        """Returns the request's reply model or raises ``ServiceError`` (``RpcTimeout`` when nobody answers)."""
        all_headers = {"X-Request-Id": str(uuid.uuid4()), **(headers or {}), **telemetry.inject_headers()}
        try:
            msg = await self.nc.request(
                request.subject,
                request.model_dump_json().encode(),
                timeout=timeout_s or self.timeout_s,
                headers=all_headers,
            )
        except (NatsTimeoutError, NoRespondersError, asyncio.TimeoutError):
            # A stopped service and a slow one look the same to the user: the service does not answer.
            raise RpcTimeout("Le service ne répond pas pour le moment. Réessayez dans un instant.") from None
        if msg.headers and ERROR_HEADER in msg.headers:
            raise ServiceError.from_envelope(ErrorEnvelope.model_validate_json(msg.data))
        return request.reply_model.model_validate_json(msg.data)
