"""OpenTelemetry tracing; the W3C ``traceparent`` travels in NATS headers and in outbox rows.

One ``TracerProvider`` per process, configured by the standard variables: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) adds a batching OTLP/HTTP exporter, whose headers, timeout and compression
come from the other ``OTEL_EXPORTER_OTLP_*`` variables; ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` name
the resource, ``OTEL_TRACES_SAMPLER`` picks the sampler (all read by the SDK itself). Spans are also written as
JSON lines to ``CARNET_TRACE_FILE`` when set: tests read them to follow one trace across processes.
"""
from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from opentelemetry import context, metrics, trace
from opentelemetry.sdk.environment_variables import OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

_propagator = TraceContextTextMapPropagator()
SQLALCHEMY_INSTRUMENTATION = "opentelemetry.instrumentation.sqlalchemy"  # the scope of database spans


class JsonLinesSpanExporter(SpanExporter):
    """One JSON object per finished span: ``service``, ``name``, ``trace_id``, ``span_id``, ``parent_id``, ``kind``
    (``SERVER``, ``CLIENT``, ``PRODUCER``, ``CONSUMER``, ``INTERNAL``), ``attributes`` (``http.route``,
    ``db.system``, ``messaging.destination.name``…), ``links`` (``trace_id`` and ``span_id`` of each) and
    ``status``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [json.dumps(self.line_of(span), default=str) for span in spans]
        with self._lock, self.path.open("a", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
        return SpanExportResult.SUCCESS

    @staticmethod
    def line_of(span: ReadableSpan) -> dict:
        return {
            "service": span.resource.attributes.get(SERVICE_NAME),
            "name": span.name,
            "trace_id": format(span.context.trace_id, "032x"),
            "span_id": format(span.context.span_id, "016x"),
            "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
            "kind": span.kind.name,
            "attributes": dict(span.attributes or {}),
            "links": [{"trace_id": format(link.context.trace_id, "032x"),
                       "span_id": format(link.context.span_id, "016x")} for link in span.links],
            "status": span.status.status_code.name,
        }


def otlp_configured() -> bool:
    return bool(os.environ.get(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or os.environ.get(OTEL_EXPORTER_OTLP_ENDPOINT))


def configure_tracing(service: str, trace_file: Path | None) -> TracerProvider:
    """Installs this process's tracer provider and returns it. ``service`` names the resource unless
    ``OTEL_SERVICE_NAME`` (or ``service.name`` in ``OTEL_RESOURCE_ATTRIBUTES``) does.

    OpenTelemetry allows one global provider per process: a second call (tests running several services in one
    process) returns a provider that ``tracer()`` and the instrumentations do not use."""
    # The environment's attributes override the code's default name, as the OTel specification asks.
    resource = Resource.create({SERVICE_NAME: service}).merge(OTELResourceDetector().detect())
    provider = TracerProvider(resource=resource)  # the sampler comes from OTEL_TRACES_SAMPLER(_ARG)
    if trace_file is not None:
        # Written at the end of each span, so a test reads a request's spans as soon as it has the answer.
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(trace_file)))
    if otlp_configured():
        # Imported only when an endpoint is set: the exporter and protobuf hold ~6 MB that most runs never use.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def tracer_provider() -> trace.TracerProvider:
    """The process's provider, for instrumentations that take one (FastStream's ``NatsTelemetryMiddleware``)."""
    return trace.get_tracer_provider()


@functools.cache
def tracer() -> trace.Tracer:
    """The process's tracer, made once: ``get_tracer`` builds a new one each call, which the relay and the
    consumers did for every event of an import. Before ``configure_tracing`` it is OpenTelemetry's proxy, which
    follows the provider installed later."""
    return trace.get_tracer("carnet")


def inject_headers(ctx: context.Context | None = None) -> dict[str, str]:
    """The W3C headers of ``ctx`` (default: the current span)."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=ctx)
    return carrier


def extract_context(headers: Mapping[str, str] | None) -> context.Context:
    return _propagator.extract(dict(headers or {}))


class _InTraceOnly(trace.Tracer):
    """Spans only inside a trace (a request, a message, a job that opened a span): otherwise each poll of a
    background loop (the relay, notify's schedules, a readiness check) would be a trace of its own."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start_span(self, name, context=None, *args, **kwargs) -> trace.Span:
        if not trace.get_current_span(context).get_span_context().is_valid:
            return trace.INVALID_SPAN
        return self._tracer.start_span(name, context, *args, **kwargs)

    def start_as_current_span(self, name, context=None, *args, **kwargs):
        return trace.use_span(self.start_span(name, context, *args, **kwargs), end_on_exit=True)


def instrument_engine(engine: Engine) -> None:
    """A CLIENT span (``db.system``, ``db.statement`` with its parameters left out) for every query of ``engine``
    made inside a trace.

    ``EngineTracer`` is what ``SQLAlchemyInstrumentor`` attaches to each engine; used directly because the
    instrumentor instruments once per process, and a process (a test) may open several engines. Imported here:
    the gateway has no database, and SQLAlchemy costs a process ~20 MB."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    EngineTracer(
        _InTraceOnly(trace.get_tracer(SQLALCHEMY_INSTRUMENTATION)),
        engine,
        metrics.get_meter(SQLALCHEMY_INSTRUMENTATION).create_up_down_counter("db.client.connections.usage"),
    )


def instrument_fastapi(app) -> None:
    """A SERVER span per request, named by its route (``POST /api/v1/notebooks/{notebook_id}/appointments``)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # imports FastAPI: the gateway's only

    # Probes poll these every few seconds: a trace each time would drown the requests (the variable overrides).
    excluded = os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", "/healthz,/readyz")
    FastAPIInstrumentor.instrument_app(app, server_request_hook=_hide_path_secrets, excluded_urls=excluded,
                                       exclude_spans=["receive", "send"])
    instrumented = app.build_middleware_stack
    app.build_middleware_stack = lambda: _AnswerAfterSpan(instrumented())


class _AnswerAfterSpan:
    """Holds back the last part of the answer until the request's span is written (the instrumentation ends it
    once the answer is sent): whoever got an answer finds its span, as tests reading the trace file expect."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        last = None

        async def hold_last(message) -> None:
            nonlocal last
            if message["type"] == "http.response.body" and not message.get("more_body"):
                last = message
            else:
                await send(message)

        try:
            await self.app(scope, receive, hold_last)
        finally:  # a bug's 500 is answered, then re-raised for the server's log
            if last is not None:
                await send(last)


def _hide_path_secrets(span: trace.Span, scope: dict) -> None:
    # A login or email-change link carries its token in the path, an OIDC callback its code in the query: spans
    # (which leave for a collector) keep the route template instead of the URL.
    if not span.is_recording():
        return
    route = getattr(scope.get("route"), "path", None) or span.attributes.get("http.route") or "unmatched"
    for key in ("http.target", "http.url", "url.path", "url.full", "url.query"):
        if key in span.attributes:
            span.set_attribute(key, route if key != "url.query" else "")
