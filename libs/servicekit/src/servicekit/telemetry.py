"""OpenTelemetry tracing; the W3C ``traceparent`` travels in NATS headers and in outbox rows.

One ``TracerProvider`` per process, configured by the standard variables: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) adds a batching OTLP/HTTP exporter, whose headers, timeout and compression
come from the other ``OTEL_EXPORTER_OTLP_*`` variables; ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` name
the resource, ``OTEL_TRACES_SAMPLER`` picks the sampler (all read by the SDK itself). Spans are also written as
JSON lines to ``CARNET_TRACE_FILE`` when set: tests read them to follow one trace across processes.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from opentelemetry import context, metrics, trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from sqlalchemy.engine import Engine

# The SDK's names of the standard variables (opentelemetry.sdk.environment_variables), spelt here so that a process
# that exports nothing does not import the SDK.
OTEL_EXPORTER_OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
CARNET_TRACE_FILE = "CARNET_TRACE_FILE"  # ServiceSettings.trace_file

_propagator = TraceContextTextMapPropagator()
SQLALCHEMY_INSTRUMENTATION = "opentelemetry.instrumentation.sqlalchemy"  # the scope of database spans


def otlp_configured() -> bool:
    return bool(os.environ.get(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or os.environ.get(OTEL_EXPORTER_OTLP_ENDPOINT))


def configure_tracing(service: str, trace_file: Path | None) -> TracerProvider | None:
    """Installs this process's tracer provider and returns it, when its spans go somewhere (``trace_file``, an OTLP
    endpoint). ``service`` names the resource unless ``OTEL_SERVICE_NAME`` (or ``service.name`` in
    ``OTEL_RESOURCE_ATTRIBUTES``) does.

    With nowhere to send them, nothing is installed: every span is then OpenTelemetry's non-recording one, and the
    SDK is not even imported — building spans that nobody exports cost a few per cent of each page and each
    imported row (one span per SQL statement), and the SDK ~3 MB per process.

    OpenTelemetry allows one global provider per process: a second call (tests running several services in one
    process) returns a provider that ``tracer()`` and the instrumentations do not use."""
    if trace_file is None and not otlp_configured():
        return None
    from servicekit.trace_export import tracer_provider_for

    provider = tracer_provider_for(service, trace_file, otlp=otlp_configured())
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
    made inside a trace, when spans go somewhere: a provider is installed, or will be at the service's start
    (``CARNET_TRACE_FILE``, an OTLP endpoint: a service makes its engine before ``configure_tracing``). Otherwise
    the instrumentation is not even imported (with wrapt and the semantic conventions, ~1 MB of an idle service,
    issue 19 item 4).

    ``EngineTracer`` is what ``SQLAlchemyInstrumentor`` attaches to each engine; used directly because the
    instrumentor instruments once per process, and a process (a test) may open several engines. Imported here:
    the gateway has no database, and SQLAlchemy costs a process ~20 MB."""
    if not spans_go_somewhere():
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    EngineTracer(
        _InTraceOnly(trace.get_tracer(SQLALCHEMY_INSTRUMENTATION)),
        engine,
        metrics.get_meter(SQLALCHEMY_INSTRUMENTATION).create_up_down_counter("db.client.connections.usage"),
    )


def spans_go_somewhere() -> bool:
    """Whether this process's spans are kept: a provider is installed, or will be at the start of the service or
    the gateway (``CARNET_TRACE_FILE``, an OTLP endpoint: engines and the gateway's app are made before
    ``configure_tracing``)."""
    installed = not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    return installed or bool(os.environ.get(CARNET_TRACE_FILE)) or otlp_configured()


def instrument_fastapi(app, trace_file: Path | None = None) -> None:
    """A SERVER span per request, named by its route (``POST /api/v1/notebooks/{notebook_id}/appointments``), when
    spans go somewhere. Otherwise nothing: the instrumentation's middleware finds each request's route again, over
    every route of the gateway, to name a span that goes nowhere (a tenth of the gateway's time on a notebook page,
    issue 19)."""
    if not (trace_file or spans_go_somewhere()):
        return
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
