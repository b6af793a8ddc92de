"""French server-rendered pages: login, magic-link landing, home, dev mailbox."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from contracts.base import HTTP_STATUS_BY_ERROR
from contracts.identity import ExchangeLoginLinkV1, GetMeV1, LogoutV1, RequestLoginLinkV1, Role
from contracts.notify import ReadDevMailboxV1
from gateway.api.auth import LINK_SENT
from gateway.auth.session import (
    REFRESH_COOKIE,
    access_token_for,
    clear_session_cookies,
    client_info,
    set_session_cookies,
)
from gateway.bus import call
from gateway.web.csrf import check_csrf, csrf_token
from servicekit.errors import ServiceError, Unauthenticated

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")

ROLE_LABELS = {
    Role.admin_cdb: "Administrateur Carnet de bord",
    Role.manager: "Gestionnaire du territoire",
    Role.admin_structure: "Administrateur de structure",
    Role.orientation_manager: "Chargé d'orientation",
    Role.professional: "Professionnel",
    Role.beneficiary: "Bénéficiaire",
    Role.partner: "Partenaire",
}


def page(request: Request, name: str, context: dict | None = None, status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code)


def error_page(request: Request, error: ServiceError) -> HTMLResponse:
    return page(request, "error.html.j2", {"message": error.message}, HTTP_STATUS_BY_ERROR[error.code])


def with_cookies_of(source: Response, target: Response) -> Response:
    for name, value in source.raw_headers:
        if name == b"set-cookie":
            target.raw_headers.append((name, value))
    return target


@router.get("/")
async def home(request: Request):
    renewed = Response()
    try:
        token = await access_token_for(request, renewed)
        me = await call(request, GetMeV1(), access_token=token)
    except Unauthenticated:
        return RedirectResponse("/connexion", status_code=303)
    form = Response()
    response = page(request, "home.html.j2", {"me": me, "role_label": ROLE_LABELS[me.role],
                                               "csrf": csrf_token(request, form)})
    return with_cookies_of(form, with_cookies_of(renewed, response))


@router.get("/connexion")
async def login_form(request: Request):
    cookies = Response()
    return with_cookies_of(cookies, page(request, "login.html.j2", {"csrf": csrf_token(request, cookies)}))


@router.post("/connexion")
async def login_submit(request: Request, email: str = Form("", max_length=320), csrf: str = Form("")):
    cookies = Response()
    try:
        check_csrf(request, csrf)
        await call(request, RequestLoginLinkV1(email=email, client=client_info(request)))
    except ServiceError as error:
        context = {"csrf": csrf_token(request, cookies), "error": error.message, "email": email}
        return with_cookies_of(cookies, page(request, "login.html.j2", context, HTTP_STATUS_BY_ERROR[error.code]))
    return page(request, "link_sent.html.j2", {"message": LINK_SENT, "email": email})


@router.get("/auth/magic/{token}")
async def magic_link_landing(token: str, request: Request):
    try:
        tokens = await call(request, ExchangeLoginLinkV1(token=token[:200], client=client_info(request)))
    except ServiceError as error:
        return error_page(request, error)
    response = RedirectResponse("/", status_code=303)
    set_session_cookies(request, response, tokens)
    return response


@router.post("/deconnexion")
async def logout(request: Request, csrf: str = Form("")):
    try:
        check_csrf(request, csrf)
    except ServiceError as error:
        return error_page(request, error)
    if refresh := request.cookies.get(REFRESH_COOKIE):
        await call(request, LogoutV1(refresh_token=refresh))
    response = RedirectResponse("/connexion", status_code=303)
    clear_session_cookies(response)
    return response


@router.get("/dev/mailbox")
async def dev_mailbox(request: Request, to: str | None = None):
    try:
        reply = await call(request, ReadDevMailboxV1(to=to or None))
    except ServiceError as error:
        return error_page(request, error)
    return page(request, "dev_mailbox.html.j2", {"messages": reply.messages, "to": to or ""})
