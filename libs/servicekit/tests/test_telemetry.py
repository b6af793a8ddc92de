"""Tracing by the standard variables: the OTLP exporter, the JSON-lines file, SQLAlchemy and FastAPI spans.

OpenTelemetry allows one tracer provider per process, so each case configures tracing in a child process, as a
service does at start-up.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

OTEL_VARIABLES = [name for name in os.environ if name.startswith("OTEL_")]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {name: value for name, value in os.environ.items() if name not in OTEL_VARIABLES}
    answer = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**clean, **env},
                            capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    return answer


class OtlpCollector:
    """A local OTLP/HTTP receiver: keeps each protobuf POST to /v1/traces."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/v1/traces" and self.headers["Content-Type"] == "application/x-protobuf":
                    collector.requests.append(ExportTraceServiceRequest.FromString(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[tuple[dict, str]]:
        """(resource attributes, span name) of every span received."""
        return [
            ({a.key: a.value.string_value for a in resource_spans.resource.attributes}, span.name)
            for request in self.requests
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]


@pytest.fixture
def collector():
    receiver = OtlpCollector()
    yield receiver
    receiver.server.shutdown()


MAKE_ONE_SPAN = """
    from pathlib import Path
    from servicekit import telemetry

    telemetry.configure_tracing("probe", TRACE_FILE)
    with telemetry.tracer().start_as_current_span("probe-work"):
        pass
    telemetry.tracer_provider().force_flush()
"""


def make_one_span(trace_file=None, **env: str) -> None:
    run_python(MAKE_ONE_SPAN.replace("TRACE_FILE", f"Path({str(trace_file)!r})" if trace_file else "None"), **env)


def test_otlp_exporter_is_chosen_by_the_standard_endpoint_variable(collector):
    make_one_span(OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
               OTEL_RESOURCE_ATTRIBUTES="deployment.environment=test")
    [(resource, name)] = collector.spans()
    assert name == "probe-work"
    assert resource["service.name"] == "probe"
    assert resource["deployment.environment"] == "test"


def test_the_sdk_reads_the_service_name_the_traces_endpoint_and_the_sampler(collector):
    make_one_span(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"{collector.url}/v1/traces",
               OTEL_SERVICE_NAME="carnet-probe")
    [(resource, _)] = collector.spans()
    assert resource["service.name"] == "carnet-probe"

    make_one_span(OTEL_EXPORTER_OTLP_ENDPOINT=collector.url, OTEL_TRACES_SAMPLER="always_off")
    assert len(collector.spans()) == 1  # sampled out: nothing more sent


def test_without_an_endpoint_nothing_is_sent_and_spans_go_to_the_file_only(collector, tmp_path):
    trace_file = tmp_path / "spans.jsonl"
    make_one_span(trace_file)
    assert collector.requests == []
    [span] = [json.loads(line) for line in trace_file.read_text().splitlines()]
    assert span["service"] == "probe" and span["name"] == "probe-work" and span["kind"] == "INTERNAL"
    assert span["parent_id"] is None and span["attributes"] == {} and span["status"] == "UNSET"


def test_with_nowhere_to_send_spans_no_provider_is_installed_and_the_sdk_not_imported():
    answer = run_python("""
        import asyncio, sys
        from opentelemetry import trace
        from sqlalchemy import text
        from servicekit import telemetry
        from servicekit.db import create_engine

        assert telemetry.configure_tracing("probe", None) is None

        async def main():
            engine = create_engine("sqlite+aiosqlite://")
            with telemetry.tracer().start_as_current_span("handle request") as span:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 42"))
            await engine.dispose()
            return span

        span = asyncio.run(main())
        print(span.is_recording(), "opentelemetry.sdk.trace" in sys.modules)
    """)
    assert answer.stdout.split() == ["False", "False"]


async def test_every_query_of_an_engine_in_a_trace_is_a_database_span_of_that_trace(databases, tmp_path):
    url = await databases.create("probe", None)
    trace_file = tmp_path / "spans.jsonl"
    run_python(f"""
        import asyncio
        from pathlib import Path
        from sqlalchemy import text
        from servicekit import telemetry
        from servicekit.db import create_engine

        telemetry.configure_tracing("probe", Path({str(trace_file)!r}))

        async def main():
            engine = create_engine({url!r})
            with telemetry.tracer().start_as_current_span("handle request"):
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 42"))
            async with engine.connect() as connection:  # a background loop's poll, outside any trace
                await connection.execute(text("SELECT 43"))
            await engine.dispose()

        asyncio.run(main())
    """)
    spans = [json.loads(line) for line in trace_file.read_text().splitlines()]
    [request] = [s for s in spans if s["name"] == "handle request"]
    [query] = [s for s in spans if s["attributes"].get("db.statement") == "SELECT 42"]
    assert query["kind"] == "CLIENT"
    assert query["attributes"]["db.system"] == ("sqlite" if url.startswith("sqlite") else "postgresql")
    assert (query["trace_id"], query["parent_id"]) == (request["trace_id"], request["span_id"])
    assert all(s["trace_id"] == request["trace_id"] for s in spans)  # a query outside any trace makes no span


def test_gateway_requests_are_server_spans_and_metrics_named_by_route_never_by_secret_path(tmp_path):
    """A login link carries its token in the path, an OIDC callback its code in the query string: neither may
    reach a span (which leaves for a collector) nor a metric label."""
    trace_file = tmp_path / "spans.jsonl"
    answer = run_python(f"""
        from pathlib import Path
        from fastapi import FastAPI
        from fastapi.testclient import TestClient
        from prometheus_client import generate_latest
        from servicekit import telemetry
        from servicekit.metrics import HttpMetrics

        telemetry.configure_tracing("gateway", Path({str(trace_file)!r}))
        app = FastAPI()
        telemetry.instrument_fastapi(app)
        app.add_middleware(HttpMetrics)

        @app.get("/auth/magic/{{token}}")
        async def magic(token: str):
            return {{}}

        with TestClient(app) as client:
            assert client.get("/auth/magic/SECRET-TOKEN?code=SECRET-CODE").status_code == 200
            assert client.get("/nowhere/SECRET-PATH").status_code == 404
            assert client.get("/healthz").status_code == 404  # a probe: no span
        print(generate_latest().decode())
    """)
    text = trace_file.read_text()
    assert "SECRET" not in text
    spans = [json.loads(line) for line in text.splitlines()]
    [link] = [s for s in spans if s["name"] == "GET /auth/magic/{token}"]
    assert link["kind"] == "SERVER" and link["attributes"]["http.route"] == "/auth/magic/{token}"
    assert link["attributes"]["http.status_code"] == 200
    assert len(spans) == 2  # one span per request: no "http send"/"http receive" noise

    metrics = answer.stdout
    assert "SECRET" not in metrics
    assert 'carnet_http_request_seconds_count{method="GET",route="/auth/magic/{token}",status="200"} 1.0' in metrics
    assert 'carnet_http_request_seconds_count{method="GET",route="unmatched",status="404"} 2.0' in metrics


def test_without_spans_to_keep_the_gateway_app_gets_no_tracing_middleware():
    """No trace file, no OTLP endpoint: the instrumentation would find each request's route again to name a span
    that goes nowhere. With a trace file given by the settings, it is there."""
    answer = run_python("""
        from pathlib import Path
        from fastapi import FastAPI
        from servicekit import telemetry

        plain, traced = FastAPI(), FastAPI()
        telemetry.instrument_fastapi(plain)
        telemetry.instrument_fastapi(traced, Path("spans.jsonl"))
        print(getattr(plain, "_is_instrumented_by_opentelemetry", False),
              getattr(traced, "_is_instrumented_by_opentelemetry", False))
    """, CARNET_TRACE_FILE="")
    assert answer.stdout.split() == ["False", "True"]
