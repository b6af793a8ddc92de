"""What every server-rendered page needs: templates, the signed-in visitor, CSRF, cookies, leaving early."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from pydantic import ValidationError

from contracts.base import HTTP_STATUS_BY_ERROR, ErrorCode
from contracts.identity import MeReply, PendingStep, Role
from contracts.labels import browser
from gateway.auth.session import ACCESS_COOKIE, REFRESH_COOKIE, access_token_for, clear_session_cookies
from gateway.bus import call, me_of
from gateway.web import formatting, history
from gateway.web.csrf import check_csrf, csrf_token
from gateway.web.menu import main_menu
from servicekit.errors import Invalid, ServiceError

# Every template is an HTML page or part of one, named ``*.html.j2``: Jinja2Templates' own environment escapes
# only ``.html``/``.htm``/``.xml`` names, so escaping is switched on here for all of them, whatever the name.
# Markup belongs in the templates; nothing built in Python is marked safe, and no template uses ``|safe``.
# Templates ship with the code and change with a release, which restarts the gateway: each is compiled once and never
# checked again (``auto_reload``), where the notebook page stat'ed its twenty included and imported templates on
# every view, a tenth of its rendering (issue 19).
templates = Jinja2Templates(env=Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"), autoescape=True, auto_reload=False))

ROLE_LABELS = {
    Role.admin_cdb: "Administrateur Carnet de bord",
    Role.manager: "Gestionnaire du territoire",
    Role.admin_structure: "Administrateur de structure",
    Role.orientation_manager: "Chargé d'orientation",
    Role.professional: "Professionnel",
    Role.beneficiary: "Bénéficiaire",
    Role.partner: "Partenaire",
}
STEP_PAGES = {PendingStep.cgu: "/cgu", PendingStep.onboarding: "/bienvenue"}
# Said on the step's page when another page sent the person back to it (« ?etape=requise »), instead of a refusal.
STEP_REQUIRED = "requise"
STEP_NOTICES = {
    PendingStep.cgu: "Pour ouvrir cette page, acceptez d'abord les conditions générales d'utilisation ci-dessous.",
    PendingStep.onboarding: "Pour ouvrir cette page, terminez d'abord la création de votre compte : vérifiez vos "
                            "informations puis cliquez sur « Créer mon compte ». Vous pourrez ensuite aller où vous "
                            "voulez.",
}
templates.env.globals["ROLE_LABELS"] = ROLE_LABELS
templates.env.globals["main_menu"] = main_menu
templates.env.filters["heure"] = formatting.local_time
templates.env.filters["telephone"] = formatting.phone
templates.env.filters["euros"] = formatting.euros
templates.env.filters["navigateur"] = browser  # the words of the « Mes données » PDF too
templates.env.globals["history_changes"] = history.changes_of


class LeavePage(Exception):
    """Raised by a page that cannot go on (not signed in, a step pending, a bad form): the response to send."""

    def __init__(self, response: Response):
        self.response = response


@dataclass
class Visitor:
    me: MeReply
    token: str
    cookies: Response  # renewed session cookies, to copy onto whatever the page answers

    @property
    def manages_accounts(self) -> bool:
        return self.me.role in (Role.admin_cdb, Role.manager, Role.admin_structure)


def with_cookies_of(source: Response, target: Response) -> Response:
    for name, value in source.raw_headers:
        if name == b"set-cookie":
            target.raw_headers.append((name, value))
    return target


def render(request: Request, name: str, context: dict | None = None, *, visitor: Visitor | None = None,
           status_code: int = 200) -> HTMLResponse:
    cookies = visitor.cookies if visitor else Response()
    context = {"csrf": csrf_token(request, cookies), "visitor": visitor, **(context or {})}
    return with_cookies_of(cookies, templates.TemplateResponse(request, name, context, status_code=status_code))


def error_page(request: Request, error: ServiceError, *, visitor: Visitor | None = None) -> Response:
    steps = error.details.get("pending_steps") if error.code == ErrorCode.forbidden else None
    if steps and steps[0] in STEP_PAGES:  # a service still sees a step to complete: go and complete it
        return step_page_redirect(PendingStep(steps[0]), visitor)
    return render(request, "error.html.j2", {"message": error.message}, visitor=visitor,
                  status_code=HTTP_STATUS_BY_ERROR[error.code])


def refusal(failure: Exception) -> ServiceError:
    """What a form's handler shows: a service's refusal as is, a contract's input rule broken by a field
    (a NUL byte, a postal code of 4 digits) as that field's French message, never an error page."""
    if isinstance(failure, ValidationError):
        return Invalid.of_fields(failure.errors())
    return failure


def redirect(location: str, visitor: Visitor | None = None) -> Response:
    response = RedirectResponse(location, status_code=303)
    return with_cookies_of(visitor.cookies, response) if visitor else response


def next_step_page(pending_steps: list[PendingStep], done: PendingStep | None = None) -> str:
    remaining = [step for step in pending_steps if step != done]
    return STEP_PAGES[remaining[0]] if remaining else "/"


async def signed_in(request: Request, *, allow_pending: bool = False) -> Visitor:
    """The visitor, or a ``LeavePage`` to the login page, to the step they must complete, or to why they can't."""
    cookies = Response()
    try:
        token = await access_token_for(request, cookies)
        me = await me_of(request, token)
    except ServiceError as error:
        if error.code != ErrorCode.unauthenticated:
            raise
        if not ({ACCESS_COOKIE, REFRESH_COOKIE} & set(request.cookies)):
            raise LeavePage(redirect("/connexion")) from None
        response = error_page(request, error)  # expired, revoked or deactivated: say so, and forget the session
        clear_session_cookies(response)
        raise LeavePage(response) from None
    visitor = Visitor(me, token, cookies)
    if me.pending_steps and not allow_pending:
        # The home page is where a login lands: no need to say why; any other page was left early.
        raise LeavePage(step_page_redirect(me.pending_steps[0], visitor, explain=request.url.path != "/"))
    return visitor


def check_address(request: Request) -> None:
    """A page's address that cannot be right (« /carnets/pas-un-identifiant ») is answered as such (422, in French)
    before the visitor is asked to sign in, as when the route checked its parameters before calling ``signed_in``:
    FastAPI solves dependencies before it validates the path."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not dependant.path_params:
        return
    _, errors = request_params_to_args(dependant.path_params, request.path_params)
    if errors:
        raise RequestValidationError(errors)


async def signed_in_visitor(request: Request) -> Visitor:
    check_address(request)
    return await signed_in(request)


async def signed_in_with_steps_pending(request: Request) -> Visitor:
    check_address(request)
    return await signed_in(request, allow_pending=True)


# A page route's signed-in visitor: ``visitor: VisitorDep``. Not signed in, a step pending (except for the steps'
# own pages, ``PendingVisitorDep``), a session expired: ``LeavePage``, answered by the app's handler.
VisitorDep = Annotated[Visitor, Depends(signed_in_visitor)]
PendingVisitorDep = Annotated[Visitor, Depends(signed_in_with_steps_pending)]


def posting(visitor_of=signed_in_visitor):
    """The visitor of a page's form post, signed in by ``visitor_of`` (``signed_in_visitor`` or a narrower check),
    the form's CSRF token checked: a stale or forged form leaves with the error page before the route runs."""

    async def form_posted(request: Request, visitor: Visitor = Depends(visitor_of)) -> Visitor:
        # The token is read raw: it is no field of any API body (the API checks the request's origin instead).
        require_csrf(request, form_text(await request.form(), "csrf"), visitor)
        return visitor

    return Annotated[Visitor, Depends(form_posted)]


async def anonymous_form_posted(request: Request) -> None:
    """The CSRF check of a form posted before signing in (login, sign-up, a link's landing page). Such a form takes
    no file: Starlette would write any file part to disk, whatever its size, for anyone who posts one (a part is
    refused, 400, as soon as its headers arrive). The route reads the same parsed form after this."""
    require_csrf(request, form_text(await request.form(max_files=0), "csrf"))


FormVisitorDep = posting()
PendingFormVisitorDep = posting(signed_in_with_steps_pending)
CSRF_CHECKED = [Depends(anonymous_form_posted)]  # ``dependencies=`` of an anonymous form's route


def step_page_redirect(step: PendingStep, visitor: Visitor | None, *, explain: bool = True) -> Response:
    """Back to the step the person must complete, told why (``STEP_NOTICES``) rather than refused."""
    return redirect(STEP_PAGES[step] + (f"?etape={STEP_REQUIRED}" if explain else ""), visitor)


def step_notice(request: Request, step: PendingStep) -> str:
    return STEP_NOTICES[step] if request.query_params.get("etape") == STEP_REQUIRED else ""


def form_text(form, name: str, limit: int = 300) -> str:
    """A form field as text: trimmed, at most ``limit`` characters (longer input is cut, never an error page)."""
    return str(form.get(name, "")).strip()[:limit]


def require_csrf(request: Request, submitted: str, visitor: Visitor | None = None) -> None:
    try:
        check_csrf(request, submitted)
    except ServiceError as error:
        raise LeavePage(error_page(request, error, visitor=visitor)) from None


async def call_or_leave(request: Request, visitor: Visitor | None, message):
    """An RPC for a page that cannot go on without its answer: a refusal becomes the error page.
    ``visitor`` None calls anonymously (public pages)."""
    try:
        return await call(request, message, access_token=visitor.token if visitor else None)
    except ServiceError as error:
        raise LeavePage(error_page(request, error, visitor=visitor)) from None
