"""Signed-in pages about accounts: CGU, "Bienvenue" (onboarding), "Mon compte", and administrators' accounts list."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from contracts.identity import (
    AcceptCguV1,
    AccountAction,
    AccountStatus,
    ChangeAccountV1,
    CompleteOnboardingV1,
    ListAccountsV1,
    ListLoginHistoryV1,
    ListMySessionsV1,
    PendingStep,
    ProfileFields,
    RequestEmailChangeV1,
    RevokeMySessionV1,
    UpdateMyProfileV1,
)
from contracts.notebook import (
    BeneficiaryFields,
    BeneficiaryView,
    GetNotebookPageV1,
    NotebookPage,
    UpdateBeneficiaryV1,
)
from contracts.notify import (
    GetMyNotificationPreferencesV1,
    ListDeliveriesV1,
    ResendMessageV1,
    SetMyNotificationPreferencesV1,
)
from gateway.api.me import CguBody, EmailChangeBody
from gateway.api.notebooks import BeneficiaryChange
from gateway.auth.session import set_access_cookie
from gateway.bus import call
from gateway.web import labels
from gateway.web.common import (
    FormVisitorDep, PendingFormVisitorDep, PendingVisitorDep, Visitor, VisitorDep, call_or_leave, form_text,
    next_step_page, redirect, refusal, render, step_notice, step_page_redirect,
)
from gateway.web.forms import form_body, form_values, parse_form
from servicekit.errors import ServiceError

router = APIRouter(include_in_schema=False)

CGU_REQUIRED = "Cochez la case pour accepter les conditions générales d'utilisation."
ACTION_LABELS = {
    AccountAction.confirm: "Valider la demande",
    AccountAction.deactivate: "Désactiver",
    AccountAction.reactivate: "Réactiver",
    AccountAction.resend_invitation: "Renvoyer un lien de connexion",
}
ACTION_DONE = {
    AccountAction.confirm: "La demande est validée : un lien de connexion a été envoyé à la personne.",
    AccountAction.deactivate: "Le compte est désactivé : ses sessions sont fermées et il ne peut plus se connecter.",
    AccountAction.reactivate: "Le compte est réactivé : la personne peut de nouveau se connecter.",
    AccountAction.resend_invitation: "Un nouveau lien de connexion a été envoyé.",
}
STATUS_LABELS = {AccountStatus.pending: "En attente de validation", AccountStatus.active: "Actif",
                 AccountStatus.deactivated: "Désactivé"}
LOGIN_KINDS = {
    "link_requested": "Demande de lien ou de code", "link_used": "Connexion par lien", "code_used": "Connexion par SMS",
    "oidc_login": "Connexion par fournisseur d'identité", "refreshed": "Session prolongée",
    "link_refused": "Lien ou code refusé", "refresh_replayed": "Réutilisation d'une session (bloquée)",
    "login_refused_deactivated": "Connexion refusée : compte désactivé", "oidc_refused": "Connexion refusée",
}
MANAGE_PAGE = "/comptes"
NOTIFICATIONS_SAVED = {
    "immediate": "Vous recevrez chaque notification à son arrivée.",
    "daily": "Vous recevrez un résumé quotidien de vos notifications, chaque matin.",
}


def with_token(visitor: Visitor, tokens, request: Request, location: str):
    response = redirect(location, visitor)
    set_access_cookie(request, response, tokens)
    return response


@router.get("/cgu")
async def cgu(request: Request, visitor: PendingVisitorDep):
    return render(request, "cgu.html.j2", {"step_notice": step_notice(request, PendingStep.cgu)}, visitor=visitor)


@router.post("/cgu")
async def cgu_accept(request: Request, visitor: PendingFormVisitorDep, accept: str = Form("")):
    if not accept:
        return render(request, "cgu.html.j2", {"error": CGU_REQUIRED}, visitor=visitor, status_code=422)
    try:  # the body of POST /api/v1/me/cgu
        body = await form_body(request, CguBody)
    except ValidationError as failure:
        return render(request, "cgu.html.j2", {"error": refusal(failure).message}, visitor=visitor, status_code=422)
    tokens = await call_or_leave(request, visitor, AcceptCguV1(**dict(body)))
    return with_token(visitor, tokens, request, next_step_page(visitor.me.pending_steps, PendingStep.cgu))


@router.get("/bienvenue")
async def welcome(request: Request, visitor: PendingVisitorDep):
    if PendingStep.cgu in visitor.me.pending_steps:
        return step_page_redirect(PendingStep.cgu, visitor)
    return render(request, "welcome.html.j2", {"form": visitor.me.model_dump(),
                                               "step_notice": step_notice(request, PendingStep.onboarding)},
                  visitor=visitor)


def typed_profile(form: FormData) -> dict:
    """The profile as typed, shown again with a refusal."""
    return {name: form_text(form, name) for name in ProfileFields.model_fields}


@router.post("/bienvenue")
async def welcome_submit(request: Request, visitor: PendingFormVisitorDep):
    form = await request.form()
    typed = typed_profile(form)
    try:  # the body of POST /api/v1/me/onboarding
        tokens = await call(request, CompleteOnboardingV1(profile=parse_form(form, ProfileFields)),
                            access_token=visitor.token)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        return render(request, "welcome.html.j2", {"form": typed, "error": error.message},
                      visitor=visitor, status_code=error.http_status)
    response = render(request, "welcome_done.html.j2", visitor=visitor)
    set_access_cookie(request, response, tokens)
    return response


async def account_page(request: Request, visitor: Visitor, **context):
    sessions = await call_or_leave(request, visitor, ListMySessionsV1())
    history = await call_or_leave(request, visitor, ListLoginHistoryV1(limit=20))
    context.setdefault("form", visitor.me.model_dump())
    if visitor.me.role != "beneficiary":  # beneficiaries choose their channels on their notebook
        context["frequency"] = (await call_or_leave(request, visitor, GetMyNotificationPreferencesV1())).frequency
    else:
        if "b" not in context:
            mine = await my_notebook(request, visitor)
            context["b"] = mine.beneficiary if mine else None
    return render(request, "account.html.j2", {"sessions": sessions.sessions, "history": history.events,
                                               "kinds": LOGIN_KINDS, **context},
                  visitor=visitor, status_code=context.pop("status_code", 200))


@router.get("/compte")
async def my_account(request: Request, visitor: VisitorDep):
    return await account_page(request, visitor)


@router.post("/compte/profil")
async def my_profile_submit(request: Request, visitor: FormVisitorDep):
    if visitor.me.role == "beneficiary":  # her name is her notebook's: her accompagnateur corrects it
        return redirect("/compte", visitor)
    form = await request.form()
    typed = typed_profile(form)
    try:  # the body of PUT /api/v1/me/profile
        visitor.me = await call(request, UpdateMyProfileV1(profile=parse_form(form, ProfileFields)),
                                access_token=visitor.token)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        return await account_page(request, visitor, form=typed, profile_error=error.message,
                                  status_code=error.http_status)
    return await account_page(request, visitor, notice="Vos informations sont enregistrées.")


# A beneficiary's name, phone and address are those of her notebook: « Mon compte » edits them as « Mon carnet »
# does (the notebook's UpdateBeneficiaryV1, its rules: her contact details yes, her name no), never the account.
CONTACT_FIELDS = ("mobile_number", "email", "address1", "address2", "postal_code", "city")
CONTACT_SAVED = "Vos coordonnées sont enregistrées. Elles sont aussi à jour dans votre carnet."


async def my_notebook(request: Request, visitor: Visitor) -> NotebookPage | None:
    """Her notebook (its identity and contact details); None while she has none (the page then says whom to ask)."""
    try:
        return await call(request, GetNotebookPageV1(), access_token=visitor.token)
    except ServiceError:
        return None


def contact_update(b: BeneficiaryView, form: FormData) -> dict:
    """Her notebook's fields as they are, with the contact details she typed and the channels she ticked (none
    ticked: none), read as the notebook's own form is (``BeneficiaryFields``, the body of PUT …/beneficiary)."""
    typed = form_values(form, BeneficiaryFields)
    contact = {name: typed.get(name, "") for name in CONTACT_FIELDS}
    contact["notification_channels"] = typed.get("notification_channels", [])
    return {**b.model_dump(include=set(BeneficiaryFields.model_fields)), **contact}


@router.post("/compte/coordonnees")
async def my_contact_submit(request: Request, visitor: FormVisitorDep):
    form = await request.form()
    mine = await my_notebook(request, visitor) if visitor.me.role == "beneficiary" else None
    if mine is None:
        return redirect("/compte", visitor)
    b = mine.beneficiary
    try:  # the body of PUT /api/v1/notebooks/{id}/beneficiary: the version she saw, her notebook with her contact
        change = parse_form(form, BeneficiaryChange, beneficiary=contact_update(b, form))
        await call(request, UpdateBeneficiaryV1(notebook_id=mine.notebook_id, **dict(change)),
                   access_token=visitor.token)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        typed = b.model_copy(update={**{name: form_text(form, name, 320) for name in CONTACT_FIELDS},
                                     "notification_channels": form.getlist("notification_channels")})
        return await account_page(request, visitor, b=typed, contact_error=error.message,
                                  status_code=error.http_status)
    return await account_page(request, visitor, notice=CONTACT_SAVED)


@router.post("/compte/notifications")
async def my_notifications_submit(request: Request, visitor: FormVisitorDep):
    try:  # the body of PUT /api/v1/me/notification-preferences
        chosen = await form_body(request, SetMyNotificationPreferencesV1)
    except ValidationError:
        return await account_page(request, visitor, notifications_error="Choisissez quand être prévenu.",
                                  status_code=422)
    await call_or_leave(request, visitor, chosen)
    return await account_page(request, visitor, notice=NOTIFICATIONS_SAVED[chosen.frequency])


@router.post("/compte/email")
async def my_email_submit(request: Request, visitor: FormVisitorDep):
    form = await request.form()
    new_email = form_text(form, "new_email", 320)
    try:  # the body of POST /api/v1/me/email
        await call(request, RequestEmailChangeV1(**dict(parse_form(form, EmailChangeBody))), access_token=visitor.token)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        return await account_page(request, visitor, email_error=error.message, new_email=new_email,
                                  status_code=error.http_status)
    # The same words whether or not another account has the address: nothing is sent then (identity).
    return await account_page(request, visitor, notice=f"Un lien de confirmation a été envoyé à {new_email}, "
                              "sauf si cette adresse est déjà celle d'un autre compte. Votre adresse changera quand "
                              "vous l'aurez ouvert.")


@router.post("/compte/sessions/{session_id}/revoquer")
async def my_session_revoke(session_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    await call_or_leave(request, visitor, RevokeMySessionV1(session_id=session_id))
    return redirect("/compte", visitor)


@router.get("/comptes")
async def accounts(request: Request, visitor: VisitorDep, statut: str = "", offset: int = 0, notice: str = ""):
    status = AccountStatus(statut) if statut in AccountStatus.__members__ else None
    reply = await call_or_leave(request, visitor, ListAccountsV1(status=status, offset=max(0, offset), limit=50))
    return render(request, "accounts.html.j2", {
        "accounts": reply.accounts, "total": reply.total, "status": status, "offset": max(0, offset),
        "status_labels": STATUS_LABELS, "action_labels": ACTION_LABELS,
        "notice": ACTION_DONE.get(notice) if notice in AccountAction.__members__ else None,
    }, visitor=visitor)


@router.post("/comptes/{account_id}/{action}")
async def account_change(account_id: uuid.UUID, action: AccountAction, request: Request, visitor: FormVisitorDep,
                         statut: str = Form("")):
    await call_or_leave(request, visitor, ChangeAccountV1(account_id=account_id, action=action))
    back = f"{MANAGE_PAGE}?notice={action.value}" + (f"&statut={statut}" if statut in AccountStatus.__members__ else "")
    return redirect(back, visitor)


@router.get("/comptes/{account_id}/connexions")
async def account_logins(account_id: uuid.UUID, request: Request, visitor: VisitorDep):
    history = await call_or_leave(request, visitor, ListLoginHistoryV1(account_id=account_id))
    return render(request, "account_logins.html.j2", {"history": history.events, "kinds": LOGIN_KINDS},
                  visitor=visitor)


DELIVERY_STATUSES = {"": "Tous", "failed": "En échec", "uncertain": "Interrompus", "pending": "En attente",
                     "sent": "Envoyés", "held": "Pour le résumé du jour", "digested": "Envoyés dans un résumé",
                     "kept": "Gardés (développement)"}
DELIVERY_NOTICES = {"resent": "Le message est renvoyé : son nouveau statut s'affiche dans le journal."}


@router.get("/envois")
async def deliveries(request: Request, visitor: VisitorDep, statut: str = "", offset: int = 0, notice: str = ""):
    """The delivery log (admin_cdb): what was sent, what failed and why, what waits for a retry."""
    status = statut if statut in DELIVERY_STATUSES else ""
    reply = await call_or_leave(request, visitor, ListDeliveriesV1(status=status, offset=max(offset, 0)))
    return render(request, "deliveries.html.j2", {"reply": reply, "status": status, "statuses": DELIVERY_STATUSES,
                                                  "labels": labels,
                                                  "offset": max(offset, 0), "notice": DELIVERY_NOTICES.get(notice)},
                  visitor=visitor)


@router.post("/envois/{message_id}/renvoyer")
async def delivery_resend(message_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    await call_or_leave(request, visitor, ResendMessageV1(message_id=message_id))
    return redirect("/envois?notice=resent", visitor)
