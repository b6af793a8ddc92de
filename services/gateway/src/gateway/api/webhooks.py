"""Signed webhooks to partners (admin_cdb), answered by notify. The signing secret is in the reply of a creation
or a rotation only: no route ever returns it again."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request, Response, status

from contracts.inputs import MAX_OFFSET, Line
from contracts.webhooks import (
    CreateWebhookSubscriptionV1,
    ListWebhookDeliveriesV1,
    ListWebhookSubscriptionsV1,
    PauseWebhookSubscriptionV1,
    ReplayWebhookDeliveryV1,
    ResumeWebhookSubscriptionV1,
    RotateWebhookSecretV1,
    WebhookDeliveriesReply,
    WebhookDeliveryReply,
    WebhookSecretReply,
    WebhookSubscriptionReply,
    WebhookSubscriptionsReply,
)
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], dependencies=COOKIE_ORIGIN_CHECK)


@router.get("", response_model=WebhookSubscriptionsReply)
async def list_subscriptions(request: Request, response: Response) -> WebhookSubscriptionsReply:
    return await call_as_caller(request, response, ListWebhookSubscriptionsV1())


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookSecretReply)
async def create_subscription(body: CreateWebhookSubscriptionV1, request: Request,
                              response: Response) -> WebhookSecretReply:
    """A partner's https URL told of the chosen events of the chosen territories. Keep the ``secret`` of the
    reply: it signs every delivery (``X-Carnet-Signature``) and is never shown again."""
    response.headers["Cache-Control"] = "no-store"  # the secret in clear: kept by no cache
    return await call_as_caller(request, response, body)


@router.post("/{subscription_id}/secret", response_model=WebhookSecretReply)
async def rotate_secret(subscription_id: uuid.UUID, request: Request, response: Response) -> WebhookSecretReply:
    """A new secret, shown this once; deliveries are signed with it from now on."""
    response.headers["Cache-Control"] = "no-store"
    return await call_as_caller(request, response, RotateWebhookSecretV1(subscription_id=subscription_id))


@router.post("/{subscription_id}/pause", response_model=WebhookSubscriptionReply)
async def pause(subscription_id: uuid.UUID, request: Request, response: Response) -> WebhookSubscriptionReply:
    return await call_as_caller(request, response, PauseWebhookSubscriptionV1(subscription_id=subscription_id))


@router.post("/{subscription_id}/resume", response_model=WebhookSubscriptionReply)
async def resume(subscription_id: uuid.UUID, request: Request, response: Response) -> WebhookSubscriptionReply:
    """Deliveries that waited during the pause go out at once."""
    return await call_as_caller(request, response, ResumeWebhookSubscriptionV1(subscription_id=subscription_id))


@router.get("/{subscription_id}/deliveries", response_model=WebhookDeliveriesReply)
async def list_deliveries(subscription_id: uuid.UUID, request: Request, response: Response,
                          status_: Line = Query("", alias="status", max_length=12),
                          offset: int = Query(0, ge=0, le=MAX_OFFSET),
                          limit: int = Query(50, ge=1, le=200)) -> WebhookDeliveriesReply:
    """Newest first, each with its attempts: when, and what the partner answered."""
    return await call_as_caller(request, response, ListWebhookDeliveriesV1(
        subscription_id=subscription_id, status=status_, offset=offset, limit=limit))


@router.post("/deliveries/{delivery_id}/replay", response_model=WebhookDeliveryReply)
async def replay(delivery_id: uuid.UUID, request: Request, response: Response) -> WebhookDeliveryReply:
    """Sends a delivery again, same body and ``X-Carnet-Delivery``, signed anew."""
    return await call_as_caller(request, response, ReplayWebhookDeliveryV1(delivery_id=delivery_id))
