"""The gateway process: authenticates, maps each route to one RPC, maps replies and errors to HTTP."""
from __future__ import annotations

import asyncio
import socket
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
import swagger_ui_bundle
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts.base import HTTP_STATUS_BY_ERROR, ErrorCode, ErrorEnvelope
from gateway.api import accounts, asyncapi, auth, deliveries, dev, directory, imports, me, notebooks, partners
from gateway.api import bulk_orientation as bulk_orientation_api
from gateway.api import bilans as bilan_api
from gateway.api import contracts as contract_api
from gateway.api import exchanges as exchange_api
from gateway.api import transfers as transfer_api
from gateway.api import retention as retention_api
from gateway.web import retention_pages
from gateway.api import webhooks as webhook_api
from gateway.api import exports as export_api
from gateway.api import pilotage_queries as pilotage_query_api
from gateway.api import audit as audit_api
from gateway.web import audit_pages
from gateway.config import GatewaySettings
from gateway.web import account_pages, import_pages, notebook_pages, pages, partner_pages, territory_pages
from gateway.web import contract_pages, webhook_pages
from gateway.web import bilan_pages
from gateway.web import bulk_orientation_pages
from gateway.web import exchange_pages
from gateway.web import transfer_pages
from gateway.web import export_pages
from gateway.web import dashboard_pages
from gateway.web import query_pages
from gateway.web import footer_pages
from gateway.api import rights as rights_api
from gateway.web import rights_pages
from gateway.web import orientation_request_pages
from gateway.web.common import LeavePage, error_page
from servicekit import telemetry
from servicekit.bus import Bus
from servicekit.streams import ensure_streams
from gateway.web.structure_offers import StructureOffers, follow_structure_events
from gateway.auth.me_cache import MeCache, follow_account_events
from servicekit.errors import Invalid, NotFound, ServiceError
from servicekit.health import HealthServer, health_answers
from servicekit.startup import freeze_startup_objects
from servicekit.logging import configure_logging
from servicekit.metrics import HttpMetrics
from servicekit.rpc import internal_error as rpc_internal_error

log = structlog.get_logger("gateway")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Swagger UI initialises itself with an inline script: allowed on that page only.
DOCS_CSP = "default-src 'self'; img-src 'self' data:; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'"


class RequestContext:
    """Each request's id (``X-Request-Id``, given or made) in its logs and its answer, and the security headers on
    every answer. A plain ASGI middleware: as ``@app.middleware("http")`` (Starlette's ``BaseHTTPMiddleware``) it
    ran each request in a task of its own and passed its answer through a stream, some 0.5 ms a request."""

    def __init__(self, app, secure_cookies: bool) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = (Headers(scope=scope).get("x-request-id") or str(uuid.uuid4()))[:100]
        scope.setdefault("state", {})["request_id"] = request_id  # request.state.request_id
        docs = scope["path"].startswith("/api/docs")

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if docs:
                    headers["Content-Security-Policy"] = DOCS_CSP
                if self.secure_cookies:
                    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_headers)


def error_response(envelope: ErrorEnvelope) -> JSONResponse:
    return JSONResponse(envelope.model_dump(mode="json"), status_code=HTTP_STATUS_BY_ERROR[envelope.code])


def invalid_fields(request: Request, errors: list[dict]) -> Response:
    """422 naming each field in French: in the message and ``details.fields`` for the API, on the error page
    for a page (a form field longer than allowed)."""
    invalid = Invalid.of_fields(errors)
    if not request.url.path.startswith("/api/"):
        return error_page(request, invalid)
    return error_response(invalid.envelope())


def bad_body() -> JSONResponse:
    envelope = ErrorEnvelope(code=ErrorCode.invalid,
                             message="Le corps de la demande n'est pas du JSON valide encodé en UTF-8.")
    return JSONResponse(envelope.model_dump(mode="json"), status_code=400)


async def nats_ready(app: FastAPI) -> bool:
    return bool(getattr(app.state, "bus", None) and app.state.bus.connected)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging("gateway", settings.log_level)
        telemetry.configure_tracing("gateway", settings.trace_file)
        # The gateway makes requests, and follows only the events that drop what it holds (structure_offers,
        # me_cache).
        app.state.bus = Bus("gateway", settings.nats_url, rpc_timeout_s=settings.rpc_timeout_s)
        app.state.structure_offers = StructureOffers()
        follow_structure_events(app.state.bus.broker, app.state.structure_offers)
        app.state.me_cache = MeCache(settings.me_cache_s, settings.me_cache_size)
        follow_account_events(app.state.bus.broker, app.state.me_cache)
        # Their stream must exist before the gateway follows it: a gateway started before any service creates it.
        await app.state.bus.connect()
        await ensure_streams(app.state.bus.stream_context)
        await app.state.bus.start()
        app.state.rpc = app.state.bus.client
        # /metrics lives on the health port, like the services': never on the public site.
        health = None
        if settings.health_port:
            health = HealthServer(health_answers("gateway", {"nats": lambda: nats_ready(app)}),
                                  settings.health_host, settings.health_port)
            app.state.health_task = asyncio.create_task(health.serve(), name="gateway-health")
        freeze_startup_objects()  # as the services do
        yield
        if health:
            health.stop()
            await app.state.health_task
        await app.state.bus.stop()

    app = FastAPI(
        title="Carnet de bord",
        version="1",
        description="API du Carnet de bord. Les messages d'erreur sont en français.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    telemetry.instrument_fastapi(app, settings.trace_file)  # the request's SERVER span, around every middleware
    app.add_middleware(HttpMetrics)  # served on the health port's /metrics
    app.add_middleware(RequestContext, secure_cookies=settings.secure_cookies)

    @app.exception_handler(ServiceError)
    async def service_error(_request: Request, exc: ServiceError):
        return error_response(exc.envelope())

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return bad_body()
        return invalid_fields(request, exc.errors())

    @app.exception_handler(ValidationError)
    async def invalid_contract(request: Request, exc: ValidationError):
        # A contract built by a route from checked parts (the path id and the body) that breaks a rule.
        return invalid_fields(request, exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # FastAPI answers a body it cannot decode (not UTF-8) with an English 400: say it in French.
        if exc.status_code == 400 and request.url.path.startswith("/api/"):
            return bad_body()
        if exc.status_code == 404 and not request.url.path.startswith(("/api/", "/static/")):
            # An address no page answers, typed or out of date: a page in French, not FastAPI's JSON.
            return error_page(request, NotFound("Cette page n'existe pas ou plus. Vérifiez son adresse."))
        return await http_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, _exc: Exception):
        # A bug: 500 with the id that finds the traceback in the logs, never 503, which invites a vain retry.
        request_id = getattr(request.state, "request_id", "")
        response = error_response(rpc_internal_error(request_id))
        response.headers["X-Request-Id"] = request_id
        return response

    @app.exception_handler(LeavePage)
    async def leave_page(_request: Request, exc: LeavePage):
        return exc.response

    for router in (auth.router, me.router, accounts.router, deliveries.router, directory.router, notebooks.router,
                   imports.router, partners.router, partners.admin, dev.router,
                   pages.router, account_pages.router, territory_pages.router, notebook_pages.router,
                   import_pages.router, partner_pages.router):
        app.include_router(router)
    app.include_router(bulk_orientation_api.router)
    app.include_router(bulk_orientation_pages.router)
    app.include_router(bilan_api.router)
    app.include_router(bilan_pages.router)
    app.include_router(contract_api.router)
    app.include_router(contract_pages.router)
    app.include_router(exchange_api.router)
    app.include_router(exchange_pages.router)
    app.include_router(transfer_api.router)
    app.include_router(transfer_pages.router)
    app.include_router(retention_api.router)  # retention (issue 21): « Conservation des données »
    app.include_router(retention_pages.router)
    app.include_router(webhook_api.router)
    app.include_router(webhook_pages.router)
    app.include_router(export_api.router)
    app.include_router(export_pages.router)
    app.include_router(dashboard_pages.api)
    app.include_router(dashboard_pages.router)
    app.include_router(pilotage_query_api.router)
    app.include_router(query_pages.router)
    app.include_router(audit_api.router)  # the audit trail (issue 21): « Journal d'audit »
    app.include_router(audit_pages.router)
    app.include_router(asyncapi.router)  # the bus's AsyncAPI document, as JSON and as a page
    app.include_router(rights_api.router)  # the beneficiary's rights (issue 21): her data, her requests
    app.include_router(rights_pages.router)
    app.include_router(footer_pages.router)
    app.include_router(orientation_request_pages.router)  # « Demandes de réorientation à traiter »
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.mount("/api/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/api/docs", include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="Carnet de bord – API",
            swagger_js_url="/api/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/api/docs-assets/swagger-ui.css",
            swagger_favicon_url="/api/docs-assets/favicon-32x32.png",
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"service": "gateway", "status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request):
        ready = await nats_ready(request.app)
        return JSONResponse({"service": "gateway", "ready": ready}, status_code=200 if ready else 503)

    return app


def main() -> None:
    settings = GatewaySettings()
    config = uvicorn.Config(create_app(settings), host=settings.host, port=settings.port, log_level="warning",
                            proxy_headers=False)
    # Replicas on one machine share the public port (`carnet up --replicas N`): the kernel spreads connections.
    uvicorn.Server(config).run(sockets=[shared_socket(settings.host, settings.port)] if settings.reuse_port else None)


def shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other processes may bind too (SO_REUSEPORT, Linux and BSDs): only asked for replicas,
    since it would also let a second, unrelated run share the port silently instead of failing."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
