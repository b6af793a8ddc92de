"""The tracer provider of a process whose spans go somewhere: JSON lines in a file (tests follow one trace across
processes) and/or OTLP. Imported only then (servicekit.telemetry.configure_tracing): the SDK is ~3 MB."""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter, SpanExportResult


def tracer_provider_for(service: str, trace_file: Path | None, otlp: bool) -> TracerProvider:
    # The environment's attributes override the code's default name, as the OTel specification asks.
    resource = Resource.create({SERVICE_NAME: service}).merge(OTELResourceDetector().detect())
    provider = TracerProvider(resource=resource)  # the sampler comes from OTEL_TRACES_SAMPLER(_ARG)
    if trace_file is not None:
        # Written at the end of each span, so a test reads a request's spans as soon as it has the answer.
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(trace_file)))
    if otlp:
        # Imported only when an endpoint is set: the exporter and protobuf hold ~6 MB that most runs never use.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


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
