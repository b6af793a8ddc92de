"""Public pages: login by email link, by SMS code, by single sign-on, sign-up request, logout, dev mailbox."""
from __future__ import annotations

import hmac
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from contracts.identity import (
    CompleteOidcLoginV1,
    ConfirmEmailChangeV1,
    ExchangeLoginLinkV1,
    GetLoginOptionsV1,
    LogoutV1,
    ProfileFields,
    RequestLoginLinkV1,
    RequestSignupV1,
    RequestSmsCodeV1,
    Role,
    StartOidcLoginV1,
    VerifySmsCodeV1,
)
from contracts.notify import PreviewTemplatesV1, ReadDevMailboxV1
from gateway.api.auth import (
    CODE_SENT, LINK_SENT, SIGNUP_SENT, MagicLinkBody, SignupBody, SmsCodeBody, SmsCodeVerifyBody,
)
from gateway.auth.session import REFRESH_COOKIE, clear_session_cookies, client_info, set_session_cookies
from gateway.bus import call
from gateway.web.beneficiary_home import my_home
from gateway.web.common import (
    CSRF_CHECKED, VisitorDep, call_or_leave, error_page, form_text, redirect, refusal, render,
)
from gateway.web.forms import parse_form
from gateway.web.menu import home_links
from servicekit.errors import NotFound, ServiceError, Unauthenticated

router = APIRouter(include_in_schema=False)
OIDC_STATE_COOKIE = "carnet_oidc_state"
OIDC_STATE_MAX_AGE_S = 10 * 60  # as identity's oidc_login_ttl_s: the login's state is refused after it anyway
OIDC_ELSEWHERE = ("Cette connexion n'a pas été commencée depuis ce navigateur : elle est refusée. Recommencez-la "
                  "depuis la page de connexion de Carnet de bord.")
EMAIL_PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CHOOSE_TERRITORY = "Choisissez votre territoire dans la liste."
EMAIL_CONFIRMED = "Votre nouvelle adresse e-mail est enregistrée. Utilisez-la désormais pour vous connecter."


def signed_in_redirect(request: Request, tokens) -> RedirectResponse:
    response = RedirectResponse("/", status_code=303)
    set_session_cookies(request, response, tokens)
    return response


@router.get("/")
async def home(request: Request, visitor: VisitorDep):
    mine = await my_home(request, visitor) if visitor.me.role == Role.beneficiary else None
    return render(request, "home.html.j2", {"shortcuts": home_links(visitor.me.role), "mine": mine},
                  visitor=visitor)


@router.get("/connexion")
async def login_form(request: Request):
    options = await call(request, GetLoginOptionsV1())
    return render(request, "login.html.j2", {"options": options})


@router.post("/connexion", dependencies=CSRF_CHECKED)
async def login_submit(request: Request):
    form = await request.form()
    email = form_text(form, "email", 320)
    try:  # the body of POST /api/v1/auth/magic-link
        await call(request, RequestLoginLinkV1(**dict(parse_form(form, MagicLinkBody)), client=client_info(request)))
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        options = await call(request, GetLoginOptionsV1())
        return render(request, "login.html.j2", {"options": options, "error": error.message, "email": email},
                      status_code=error.http_status)
    return render(request, "notice.html.j2", {"title": "Consultez votre messagerie", "message": LINK_SENT,
                                              "retry": "/connexion"})


@router.get("/auth/magic/{token}")
async def magic_link_landing(token: str, request: Request):
    # A button, not an automatic login: mail scanners open links, and the link serves only once.
    return render(request, "magic_landing.html.j2", {"token": token[:200]})


@router.post("/auth/magic/{token}", dependencies=CSRF_CHECKED)
async def magic_link_use(token: str, request: Request):
    tokens = await call_or_leave(request, None, ExchangeLoginLinkV1(token=token[:200], client=client_info(request)))
    return signed_in_redirect(request, tokens)


@router.get("/connexion/sms")
async def sms_form(request: Request):
    return render(request, "sms_login.html.j2")


@router.post("/connexion/sms", dependencies=CSRF_CHECKED)
async def sms_request(request: Request):
    form = await request.form()
    phone = form_text(form, "phone", 40)
    try:  # the body of POST /api/v1/auth/sms-code
        await call(request, RequestSmsCodeV1(**dict(parse_form(form, SmsCodeBody)), client=client_info(request)))
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        return render(request, "sms_login.html.j2", {"error": error.message, "phone": phone},
                      status_code=error.http_status)
    return render(request, "sms_code.html.j2", {"phone": phone, "message": CODE_SENT})


@router.post("/connexion/sms/code", dependencies=CSRF_CHECKED)
async def sms_verify(request: Request):
    form = await request.form()
    phone = form_text(form, "phone", 40)
    try:  # the body of POST /api/v1/auth/sms-code/verify
        tokens = await call(request, VerifySmsCodeV1(**dict(parse_form(form, SmsCodeVerifyBody)),
                                                     client=client_info(request)))
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        return render(request, "sms_code.html.j2", {"phone": phone, "error": error.message},
                      status_code=error.http_status)
    return signed_in_redirect(request, tokens)


@router.get("/auth/oidc")
async def oidc_start(request: Request):
    started = await call_or_leave(request, None, StartOidcLoginV1())
    response = RedirectResponse(started.authorization_url, status_code=303)
    # The login's state, kept by this browser: its callback is refused in any other (login CSRF: an attacker's
    # callback link would otherwise sign the victim in to the attacker's account).
    state = parse_qs(urlsplit(started.authorization_url).query).get("state", [""])[0]
    response.set_cookie(OIDC_STATE_COOKIE, state, max_age=OIDC_STATE_MAX_AGE_S, httponly=True, samesite="lax",
                        secure=request.app.state.settings.secure_cookies, path="/auth/oidc")
    return response


@router.get("/auth/oidc/callback")
async def oidc_callback(request: Request, code: str = "", state: str = "", error: str = ""):
    try:
        if error or not code:
            raise ServiceError(f"Le fournisseur d'identité a interrompu la connexion ({error or 'sans code'}). "
                               "Réessayez, ou recevez un lien de connexion par e-mail.")
        started_here = request.cookies.get(OIDC_STATE_COOKIE, "")
        if not (started_here and state and hmac.compare_digest(started_here.encode(), state.encode())):
            raise Unauthenticated(OIDC_ELSEWHERE)
        tokens = await call(request, CompleteOidcLoginV1(code=code[:2000], state=state[:200],
                                                         client=client_info(request)))
    except ServiceError as failure:
        response = error_page(request, failure)
    else:
        response = signed_in_redirect(request, tokens)
    response.delete_cookie(OIDC_STATE_COOKIE, path="/auth/oidc")
    return response


@router.get("/inscription")
async def signup_form(request: Request):
    return render(request, "signup.html.j2", {"options": await call(request, GetLoginOptionsV1()), "form": {}})


@router.post("/inscription", dependencies=CSRF_CHECKED)
async def signup_submit(request: Request):
    posted = await request.form()
    form = {name: form_text(posted, name, 320) for name in SignupBody.model_fields}  # shown again if refused
    try:
        try:  # the body of POST /api/v1/auth/signup-requests
            body = parse_form(posted, SignupBody)
        except ValidationError as failure:
            if any("deployment_id" in e["loc"] for e in failure.errors()):
                raise ServiceError(CHOOSE_TERRITORY) from None
            raise
        profile = ProfileFields(**body.model_dump(include=set(ProfileFields.model_fields)))
        await call(request, RequestSignupV1(email=body.email, profile=profile, deployment_id=body.deployment_id,
                                            structure_name=body.structure_name, client=client_info(request)))
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        options = await call(request, GetLoginOptionsV1())
        return render(request, "signup.html.j2", {"options": options, "form": form, "error": error.message},
                      status_code=error.http_status)
    return render(request, "notice.html.j2", {"title": "Demande envoyée", "message": SIGNUP_SENT})


@router.get("/compte/email/{token}")
async def email_change_landing(token: str, request: Request):
    return render(request, "email_confirm.html.j2", {"token": token[:200]})


@router.post("/compte/email/{token}", dependencies=CSRF_CHECKED)
async def email_change_confirm(token: str, request: Request):
    await call_or_leave(request, None, ConfirmEmailChangeV1(token=token[:200]))
    return render(request, "notice.html.j2", {"title": "Adresse e-mail confirmée", "message": EMAIL_CONFIRMED})


@router.post("/deconnexion", dependencies=CSRF_CHECKED)
async def logout(request: Request):
    if refresh := request.cookies.get(REFRESH_COOKIE):
        await call(request, LogoutV1(refresh_token=refresh))
    response = redirect("/connexion")
    clear_session_cookies(response)
    return response


@router.get("/dev/mailbox")
async def dev_mailbox(request: Request, to: str | None = None):
    reply = await call_or_leave(request, None, ReadDevMailboxV1(to=to or None))
    return render(request, "dev_mailbox.html.j2", {"messages": reply.messages, "to": to or ""})



@router.get("/dev/modeles")
async def dev_templates(request: Request):
    """Every email and SMS with sample data, to review wording and layout without triggering them."""
    reply = await call_or_leave(request, None, PreviewTemplatesV1())
    return render(request, "dev_templates.html.j2", {"previews": reply.previews})


@router.get("/dev/modeles/{template}.html")
async def dev_template_html(template: str, request: Request):
    reply = await call_or_leave(request, None, PreviewTemplatesV1())
    preview = next((p for p in reply.previews if p.template == template and p.html), None)
    if preview is None:
        return error_page(request, NotFound("Ce modèle n'existe pas."))
    # The email as a mail client shows it: its inline styles need their own CSP, on this dev page only.
    return HTMLResponse(preview.html, headers={"Content-Security-Policy": EMAIL_PREVIEW_CSP})
