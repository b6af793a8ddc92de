"""The webhooks page of the national admins: partners' subscriptions to notebook events of territories, the
signing secret shown once (at creation or rotation, never stored by the page nor put in a URL), pause and
resume, each subscription's deliveries with their attempts, and their replay by hand."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import ValidationError

from contracts.directory import ListDeploymentsV1
from contracts.webhooks import (
    CreateWebhookSubscriptionV1,
    ListWebhookDeliveriesV1,
    ListWebhookSubscriptionsV1,
    PauseWebhookSubscriptionV1,
    ReplayWebhookDeliveryV1,
    ResumeWebhookSubscriptionV1,
    RotateWebhookSecretV1,
    WebhookEventType,
    WebhookSecretReply,
)
from gateway.bus import call
from gateway.web.common import FormVisitorDep, Visitor, VisitorDep, call_or_leave, redirect, refusal, render
from gateway.web.forms import form_values, parse_form
from servicekit.errors import ServiceError

router = APIRouter(include_in_schema=False)
PAGE = "/webhooks"
EVENT_LABELS = {
    WebhookEventType.orientation_changed: "Orientation décidée ou changée",
    WebhookEventType.referent_changed: "Changement de référent",
    WebhookEventType.appointment_booked: "Rendez-vous pris",
    WebhookEventType.contract_validated: "Contrat d'engagement validé",
}
DELIVERY_STATUSES = {"pending": "En attente", "sending": "En cours d'envoi", "delivered": "Remis",
                     "failed": "Refusé par le partenaire", "uncertain": "Interrompu (peut-être reçu)"}
NOTICES = {"paused": "L'abonnement est en pause : les évènements sont gardés et partiront à sa reprise.",
           "resumed": "L'abonnement a repris : les envois en attente partent maintenant.",
           "replayed": "L'envoi est rejoué : son nouveau statut s'affiche ci-dessous."}
NO_STORE = {"Cache-Control": "no-store"}


async def list_page(request: Request, visitor: Visitor, *, form: dict | None = None, error: str | None = None,
                    created: WebhookSecretReply | None = None, notice: str = "", status_code: int = 200):
    subscriptions = await call_or_leave(request, visitor, ListWebhookSubscriptionsV1())
    territories = (await call_or_leave(request, visitor, ListDeploymentsV1())).deployments
    response = render(request, "webhooks.html.j2", {
        "subscriptions": subscriptions.subscriptions, "territories": territories,
        "territory_labels": {str(t.deployment_id): f"{t.label} ({t.department_code})" for t in territories},
        "event_labels": EVENT_LABELS, "form": form or {}, "error": error,
        "created": created, "notice": NOTICES.get(notice)}, visitor=visitor, status_code=status_code)
    if created:
        response.headers.update(NO_STORE)  # the secret, this once: kept by no cache
    return response


@router.get(PAGE)
async def webhooks(request: Request, visitor: VisitorDep, notice: str = ""):
    return await list_page(request, visitor, notice=notice)


@router.post(PAGE)
async def webhook_create(request: Request, visitor: FormVisitorDep):
    form = await request.form()
    typed = form_values(form, CreateWebhookSubscriptionV1)  # shown again if refused, as the model reads it
    try:  # the body of POST /api/v1/webhooks
        created = await call(request, parse_form(form, CreateWebhookSubscriptionV1), access_token=visitor.token)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        return await list_page(request, visitor, form=typed, error=error.message, status_code=error.http_status)
    return await list_page(request, visitor, created=created)


@router.post(PAGE + "/{subscription_id}/secret")
async def webhook_rotate(subscription_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    rotated = await call_or_leave(request, visitor, RotateWebhookSecretV1(subscription_id=subscription_id))
    return await list_page(request, visitor, created=rotated)


@router.post(PAGE + "/{subscription_id}/pause")
async def webhook_pause(subscription_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    await call_or_leave(request, visitor, PauseWebhookSubscriptionV1(subscription_id=subscription_id))
    return redirect(f"{PAGE}?notice=paused", visitor)


@router.post(PAGE + "/{subscription_id}/reprendre")
async def webhook_resume(subscription_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    await call_or_leave(request, visitor, ResumeWebhookSubscriptionV1(subscription_id=subscription_id))
    return redirect(f"{PAGE}?notice=resumed", visitor)


@router.get(PAGE + "/{subscription_id}")
async def webhook_deliveries(subscription_id: uuid.UUID, request: Request, visitor: VisitorDep, offset: int = 0,
                             notice: str = ""):
    """One subscription's deliveries, newest first, each with its attempts."""
    offset = max(offset, 0)
    subscriptions = (await call_or_leave(request, visitor, ListWebhookSubscriptionsV1())).subscriptions
    deliveries = await call_or_leave(request, visitor, ListWebhookDeliveriesV1(subscription_id=subscription_id,
                                                                               offset=offset))
    [subscription] = [s for s in subscriptions if s.subscription_id == subscription_id]
    return render(request, "webhook_deliveries.html.j2", {
        "subscription": subscription, "reply": deliveries, "offset": offset, "statuses": DELIVERY_STATUSES,
        "event_labels": EVENT_LABELS, "notice": NOTICES.get(notice)}, visitor=visitor)


@router.post(PAGE + "/envois/{delivery_id}/rejouer")
async def webhook_replay(delivery_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    replayed = await call_or_leave(request, visitor, ReplayWebhookDeliveryV1(delivery_id=delivery_id))
    return redirect(f"{PAGE}/{replayed.subscription_id}?notice=replayed", visitor)
