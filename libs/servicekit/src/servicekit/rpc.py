"""Request/reply over core NATS, on FastStream: one subject per operation, a queue group per service.

Replies carry either the reply model or, with header ``Carnet-Error: <code>``, an ``ErrorEnvelope``. FastStream
parses the request into its contract model and publishes what the endpoint returns; ``RpcReplies``, a middleware
of the RPC subscribers only, turns every failure (a bad request, a ``ServiceError``, a bug) into that envelope.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from faststream import BaseMiddleware
from faststream.nats import NatsMessage, NatsResponse
from pydantic import ValidationError

from contracts.base import ERROR_HEADER, ErrorCode, ErrorEnvelope, RpcReply, RpcRequest
from servicekit.errors import Invalid, RpcTimeout, ServiceError
from servicekit.metrics import RPC_ERRORS, RPC_SECONDS

if TYPE_CHECKING:
    from faststream.nats import NatsBroker

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


def rpc_endpoint(request_type: type[Req], handler: Callable[[Req, RpcContext], Awaitable[RpcReply]]):
    """The FastStream handler of one RPC: its annotations give FastStream the request model to parse and
    AsyncAPI the request and reply schemas."""
    # Only services answer RPCs; imported here, the gateway (a caller only) never loads SQLAlchemy.
    from servicekit.concurrency import once_more_if_stale

    async def endpoint(request, message):
        return await once_more_if_stale(handler, request, RpcContext(message.headers or {}))

    endpoint.__annotations__ = {"request": request_type, "message": NatsMessage, "return": request_type.reply_model}
    endpoint.__name__ = endpoint.__qualname__ = request_type.__name__
    endpoint.__doc__ = request_type.__doc__
    return endpoint


class RpcWorkers:
    """At most ``limit`` requests handled at once by a replica, all its RPCs together.

    Each RPC keeps its FastStream subscriber (its subject and queue group, its AsyncAPI entry, the parsing, the
    middlewares and the reply) and its NATS subscription; only what the subscription does with a message changes:
    nats-py awaits a subscription's callback before handing over its next message, so the callback starts the
    subscriber's work as a task and returns, once a worker is free. FastStream's ``max_workers`` does the same with
    a pool for each subscriber (a task group, a memory stream and a semaphore): 1.6 MB of the notebook's idle memory
    for its ~86 RPCs (issue 19 item 4), and no bound for the service as a whole."""

    def __init__(self, limit: int) -> None:
        self._free = asyncio.Semaphore(limit)
        self._running: set[asyncio.Task] = set()

    def serve(self, subscriber) -> None:
        """``subscriber`` (a FastStream NATS core subscriber, not yet started) subscribes with this pool's callback:
        its ``_create_subscription``, FastStream's but for ``cb``, replaced on this instance only."""

        async def hand_over(message) -> None:
            await self._free.acquire()
            task = asyncio.create_task(subscriber.consume(message))
            self._running.add(task)
            task.add_done_callback(self._done)

        async def create_subscription() -> None:
            if subscriber.subscription:
                return
            subscriber.subscription = await subscriber.connection.subscribe(
                subject=subscriber.subject.broker_address, queue=subscriber.queue, cb=hand_over,
                **subscriber.extra_options)

        subscriber._create_subscription = create_subscription

    def _done(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        self._free.release()


class RpcReplies(BaseMiddleware):
    """Every outcome of an RPC is a reply: the caller never waits for a timeout because a handler failed."""

    async def consume_scope(self, call_next, msg):
        headers = msg.headers or {}
        subject = msg.raw_message.subject
        request_id = headers.get("X-Request-Id", "")
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(subject=subject, request_id=request_id or None):
            try:
                try:
                    return await call_next(msg)
                except ValidationError as exc:
                    raise invalid_request(exc) from None
            except ServiceError as exc:
                RPC_ERRORS.labels(subject, exc.code).inc()
                return error_reply(exc.envelope())
            except Exception:
                # A bug, not a passing outage: 500 (503 would invite a retry that can never succeed),
                # with the request id that finds the traceback in the logs.
                log.exception("rpc_handler_failed")
                RPC_ERRORS.labels(subject, ErrorCode.internal).inc()
                return error_reply(internal_error(request_id))
            finally:
                RPC_SECONDS.labels(subject).observe(time.perf_counter() - started)


def invalid_request(exc: ValidationError) -> Exception:
    """The request's own errors (FastStream parses it as the endpoint's ``request`` argument) are the caller's:
    422 naming its fields. Any other validation error is a bug of the handler, left to become a 500."""
    errors = exc.errors()
    if not all(error["loc"][:1] == ("request",) for error in errors):
        return exc
    return Invalid.of_fields([{**error, "loc": error["loc"][1:]} for error in errors])


def error_reply(envelope: ErrorEnvelope) -> NatsResponse:
    return NatsResponse(body=envelope.model_dump_json().encode(), headers={ERROR_HEADER: envelope.code.value})


class RpcClient:
    """Calls an RPC with ``broker.request``."""

    def __init__(self, broker: NatsBroker, *, timeout_s: float = 5.0) -> None:
        self.broker = broker
        self.timeout_s = timeout_s

    async def call(
        self,
        request: RpcRequest,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        """Returns the request's reply model or raises ``ServiceError`` (``RpcTimeout`` when nobody answers)."""
        return request.reply_model.model_validate_json(await self.call_json(request, headers=headers,
                                                                            timeout_s=timeout_s))

    async def call_json(
        self,
        request: RpcRequest,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
    ) -> bytes:
        """The reply's JSON as the service sent it, unparsed: for a caller that only passes it on (the gateway's
        JSON API), parsing a large reply into models only to serialise it again is most of the work. Errors are
        raised as ``call`` raises them."""
        all_headers = {"X-Request-Id": str(uuid.uuid4()), **(headers or {})}
        try:
            answer = await self.broker.request(
                request.model_dump_json().encode(), request.subject,
                headers=all_headers, timeout=timeout_s or self.timeout_s,
            )
        except Exception as exc:  # no responder, a timeout, the connection lost: the same to the user
            log.info("rpc_unanswered", subject=request.subject, error=type(exc).__name__)
            raise RpcTimeout("Le service ne répond pas pour le moment. Réessayez dans un instant.") from None
        if ERROR_HEADER in (answer.headers or {}):
            raise ServiceError.from_envelope(ErrorEnvelope.model_validate_json(answer.body))
        return answer.body
