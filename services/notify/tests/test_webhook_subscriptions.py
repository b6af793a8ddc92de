"""The admins' webhook RPCs through notify's broker: admin_cdb only, the secret shown once and kept encrypted,
https and public addresses outside dev, "contract validated" not yet available, pause and resume, deliveries."""
from __future__ import annotations

import uuid
from contextlib import asynccontextmanager

import pytest

from contracts.identity import AccountDeactivatedV1, AccountProfileChangedV1, GetMeV1, MeReply, Role
from contracts.notebook import OrientationChangedV1
from contracts.webhooks import (
    CreateWebhookSubscriptionV1,
    ListWebhookDeliveriesV1,
    ListWebhookSubscriptionsV1,
    PauseWebhookSubscriptionV1,
    ReplayWebhookDeliveryV1,
    ResumeWebhookSubscriptionV1,
    RotateWebhookSecretV1,
    WebhookEventType,
)
from notify.adapters.orm import WebhookAdmin, WebhookSubscription
from notify.domain.webhooks import HTTPS_REQUIRED, PRIVATE_ADDRESS, SecretBox
from testkit.handlers import answer_jwks, build_service, in_memory, refused

pytestmark = pytest.mark.integration
PRODUCTION = {"env": "prod", "public_url": "https://carnet.example.fr", "secret_key": "cle-de-production-de-test"}


def creation(url: str = "https://rdv.example.fr/carnet", *types: WebhookEventType,
             territory: uuid.UUID | None = None) -> CreateWebhookSubscriptionV1:
    return CreateWebhookSubscriptionV1(label="Logiciel RDV", url=url, deployment_ids=[territory or uuid.uuid4()],
                                       event_types=list(types or [WebhookEventType.orientation_changed]))


@asynccontextmanager
async def notify_answered_for_identity(handler_databases, token_mint, email: str):
    """notify in memory, with identity's keys and ``GetMeV1`` (the admin's email) answered in identity's stead."""
    service = build_service("notify", await handler_databases.url("notify"), **PRODUCTION)
    answer_jwks(service, token_mint)

    async def me(_request: GetMeV1, _ctx):
        return MeReply(account_id=uuid.uuid4(), email=email, phone=None, role=Role.admin_cdb, deployment_id=None,
                       profile_id=None)

    service.bus.handle(GetMeV1, me)
    async with in_memory(service) as (notify,):
        yield notify


async def test_only_national_admins_manage_webhooks(service_under_test, token_mint):
    notify = await service_under_test("notify", **PRODUCTION)
    for role in (Role.manager, Role.professional, Role.admin_structure, Role.beneficiary, Role.partner):
        token = token_mint.token(role, deployment_id=uuid.uuid4())
        for request in (creation(), ListWebhookSubscriptionsV1(),
                        RotateWebhookSecretV1(subscription_id=uuid.uuid4()),
                        ListWebhookDeliveriesV1(subscription_id=uuid.uuid4()),
                        ReplayWebhookDeliveryV1(delivery_id=uuid.uuid4())):
            assert (await refused(notify.call(request, token))).code == "forbidden"
    assert (await refused(notify.call(ListWebhookSubscriptionsV1()))).code == "unauthenticated"


async def test_the_secret_is_shown_once_kept_encrypted_and_a_rotation_replaces_it(service_under_test, token_mint):
    notify = await service_under_test("notify", **PRODUCTION)
    admin = token_mint.token(Role.admin_cdb)
    created = await notify.call(creation(), admin)
    assert created.secret.startswith("whsec_") and created.subscription.status == "active"
    listed = await notify.call(ListWebhookSubscriptionsV1(), admin)
    assert created.subscription in listed.subscriptions
    assert created.secret not in listed.model_dump_json()
    async with notify.sessions() as session:
        stored = await session.get(WebhookSubscription, created.subscription.subscription_id)
    assert created.secret not in stored.secret_sealed
    assert SecretBox(PRODUCTION["secret_key"].encode()).open(stored.secret_sealed) == created.secret

    rotated = await notify.call(RotateWebhookSecretV1(subscription_id=created.subscription.subscription_id), admin)
    assert rotated.secret != created.secret and rotated.subscription.secret_rotated_at is not None
    async with notify.sessions() as session:
        stored = await session.get(WebhookSubscription, created.subscription.subscription_id)
    assert SecretBox(PRODUCTION["secret_key"].encode()).open(stored.secret_sealed) == rotated.secret
    assert (await refused(notify.call(RotateWebhookSecretV1(subscription_id=uuid.uuid4()), admin))).code == "not_found"


@pytest.mark.parametrize(("url", "problem"), [("http://rdv.example.fr/carnet", HTTPS_REQUIRED),
                                              ("https://127.0.0.1:8443/carnet", PRIVATE_ADDRESS),
                                              ("https://169.254.169.254/latest", PRIVATE_ADDRESS),
                                              ("https://10.0.0.7/carnet", PRIVATE_ADDRESS)])
async def test_outside_dev_a_plain_http_or_private_address_is_refused_and_nothing_is_created(
        service_under_test, token_mint, url, problem):
    notify = await service_under_test("notify", **PRODUCTION)
    admin = token_mint.token(Role.admin_cdb)
    before = await notify.call(ListWebhookSubscriptionsV1(), admin)
    error = await refused(notify.call(creation(url), admin))
    assert error.code == "invalid" and error.message == problem
    assert await notify.call(ListWebhookSubscriptionsV1(), admin) == before


async def test_in_dev_a_local_receiver_may_subscribe(service_under_test, token_mint):
    notify = await service_under_test("notify", env="dev")
    created = await notify.call(creation("http://127.0.0.1:8765/hook"), token_mint.token(Role.admin_cdb))
    assert created.subscription.url == "http://127.0.0.1:8765/hook"


async def test_every_event_type_may_be_chosen_once_and_an_unknown_one_is_refused(service_under_test, token_mint):
    notify = await service_under_test("notify", **PRODUCTION)
    admin = token_mint.token(Role.admin_cdb)
    created = await notify.call(creation("https://rdv.example.fr/carnet", *WebhookEventType,
                                         WebhookEventType.contract_validated), admin)
    assert created.subscription.event_types == list(WebhookEventType)
    error = await refused(notify.service.rpc.call(CreateWebhookSubscriptionV1.model_construct(
        label="Logiciel", url="https://rdv.example.fr/carnet", deployment_ids=[uuid.uuid4()],
        event_types=["contract.signed"]), headers={"Authorization": f"Bearer {admin}"}))
    assert error.code == "invalid"


async def test_paused_by_hand_then_resumed_and_its_deliveries_listed(handler_databases, token_mint):
    async with notify_answered_for_identity(handler_databases, token_mint, "admin.webhooks@carnet.test") as notify:
        await pause_resume_and_list(notify, token_mint)


async def pause_resume_and_list(notify, token_mint):
    admin_id = uuid.uuid4()
    admin = token_mint.token(Role.admin_cdb, account_id=admin_id)
    territory = uuid.uuid4()
    created = (await notify.call(creation(territory=territory), admin)).subscription
    subscription_id = created.subscription_id
    paused = await notify.call(PauseWebhookSubscriptionV1(subscription_id=subscription_id), admin)
    assert (paused.status, paused.paused_for_failures) == ("paused", False) and paused.paused_at
    assert (await refused(notify.call(PauseWebhookSubscriptionV1(subscription_id=subscription_id),
                                                admin))).code == "conflict"

    event = OrientationChangedV1(notebook_id=uuid.uuid4(), deployment_id=territory, beneficiary_id=uuid.uuid4(),
                                 reorientation=False, orientation_system_id=uuid.uuid4(), structure_id=uuid.uuid4())
    await notify.deliver(event)
    listed = await notify.call(ListWebhookDeliveriesV1(subscription_id=subscription_id), admin)
    [delivery] = listed.deliveries
    assert (listed.total, delivery.event_id, delivery.event_type, delivery.status) == (
        1, event.event_id, WebhookEventType.orientation_changed, "pending")
    replay = ReplayWebhookDeliveryV1(delivery_id=delivery.delivery_id)
    assert (await refused(notify.call(replay, admin))).code == "conflict"

    resumed = await notify.call(ResumeWebhookSubscriptionV1(subscription_id=subscription_id), admin)
    assert (resumed.status, resumed.paused_at) == ("active", None)
    unknown = ListWebhookDeliveriesV1(subscription_id=uuid.uuid4())
    assert (await refused(notify.call(unknown, admin))).code == "not_found"
    # The admin who acted is the one told if the subscription pauses itself one day.
    async with notify.sessions() as session:
        admin_row = await session.get(WebhookAdmin, admin_id)
    assert admin_row.email == "admin.webhooks@carnet.test"
    # Their email changes: followed; deactivated: forgotten.
    state = {"account_id": admin_id, "role": Role.admin_cdb, "deployment_id": None, "profile_id": None}
    await notify.deliver(AccountProfileChangedV1(**state, email="alice.admin@carnet.test"))
    async with notify.sessions() as session:
        assert (await session.get(WebhookAdmin, admin_id)).email == "alice.admin@carnet.test"
    await notify.deliver(AccountDeactivatedV1(**state, email="alice.admin@carnet.test"))
    async with notify.sessions() as session:
        assert await session.get(WebhookAdmin, admin_id) is None
