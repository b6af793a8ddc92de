"""The small HTTP side of each service: liveness, readiness and Prometheus metrics."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ReadinessCheck = Callable[[], Awaitable[bool]]


def health_app(service: str, checks: dict[str, ReadinessCheck]) -> Starlette:
    async def healthz(_: Request) -> Response:
        return JSONResponse({"service": service, "status": "ok"})

    async def readyz(_: Request) -> Response:
        results = {}
        for name, check in checks.items():
            try:
                results[name] = await check()
            except Exception:
                results[name] = False
        ready = all(results.values())
        return JSONResponse({"service": service, "ready": ready, "checks": results}, status_code=200 if ready else 503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)])


class EmbeddedServer(uvicorn.Server):
    """Uvicorn inside a process that already owns its signals and event loop."""

    def capture_signals(self):  # the service process handles SIGTERM/SIGINT itself
        import contextlib

        return contextlib.nullcontext()


def embedded_server(app, host: str, port: int) -> EmbeddedServer:
    return EmbeddedServer(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", access_log=False))
