"""Webhook deliveries against a local partner on 127.0.0.1: signed once per subscription and event, retried with
backoff, never sent twice by two senders, paused after a day of failures (the admins told), replayed by hand."""
from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select, update

from contracts.notebook import (
    AppointmentBookedV1,
    ContractLink,
    ContractValidatedV1,
    OrientationChangedV1,
    ReferentChangedV1,
)
from contracts.webhooks import ReplayWebhookDeliveryV1, ResumeWebhookSubscriptionV1, WebhookEventType
from notify.adapters.orm import OutgoingMessage, WebhookAdmin, WebhookAttempt, WebhookDelivery, WebhookSubscription
from notify.config import NotifySettings
from notify.domain.webhooks import PRIVATE_ADDRESS
from notify.handlers.deps import Deps
from notify.handlers.webhook_delivery import INTERRUPTED, deliver_due_webhooks, secret_box, tell_pauses
from notify.handlers.webhook_events import (
    on_appointment_booked,
    on_contract_validated,
    on_orientation_changed,
    on_referent_changed,
)
from notify.handlers.webhook_subscriptions import replay_delivery, resume_subscription
from servicekit.auth import Principal
from servicekit.db import create_engine, sessionmaker
from servicekit.errors import Conflict
from servicekit.outbox import Outbox
from servicekit.rpc import RpcContext
from servicekit.topology import SERVICES_BY_NAME

pytestmark = pytest.mark.integration
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "webhook_signature.py"
SECRET = "whsec_secret-de-test"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def partner_example():
    """examples/webhook_signature.py, the module partners copy: signatures are checked with their code."""
    spec = importlib.util.spec_from_file_location("webhook_signature", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Receiver:
    """A partner's endpoint on 127.0.0.1 answering the statuses it is given, in order (200 once they run out)."""

    def __init__(self, statuses: list[int] = (), delay_s: float = 0):
        self.statuses, self.requests, self.delay_s = list(statuses), [], delay_s
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                time.sleep(receiver.delay_s)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 400 else b"erreur")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/carnet/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    started = []

    def start(statuses=(), delay_s=0):
        started.append(Receiver(statuses, delay_s))
        return started[-1]

    yield start
    for fake in started:
        fake.stop()


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def notify_db(databases):
    """One migrated notify database; ``deps()`` gives a replica of notify on it (its own engine and clock)."""
    url = await databases.create("notify", SERVICES_BY_NAME["notify"].migrations_dir)
    engines = []

    def deps(clock: Clock | None = None, **settings) -> Deps:
        engines.append(create_engine(url))
        chosen = {"env": "test", "public_url": "https://carnet.example.fr", **settings}
        return Deps(sessions=sessionmaker(engines[-1]), outbox=Outbox(), settings=NotifySettings(**chosen),
                    clock=clock or Clock(T0))

    yield deps
    for engine in engines:
        await engine.dispose()


async def subscribe(deps: Deps, url: str, territory: uuid.UUID, *types: WebhookEventType,
                    secret: str = SECRET) -> uuid.UUID:
    async with deps.sessions() as session, session.begin():
        subscription = WebhookSubscription(
            label="Logiciel partenaire", url=url, deployment_ids=[str(territory)],
            event_types=[t.value for t in types], secret_sealed=secret_box(deps).seal(secret), status="active",
            paused_for_failures=False, created_at=deps.clock(), created_by=uuid.uuid4())
        session.add(subscription)
    return subscription.id


def orientation(territory: uuid.UUID, at: datetime = T0) -> OrientationChangedV1:
    return OrientationChangedV1(
        notebook_id=uuid.uuid4(), deployment_id=territory, beneficiary_id=uuid.uuid4(), occurred_at=at,
        reorientation=True, orientation_system_id=uuid.uuid4(), orientation_system_name="Social",
        structure_id=uuid.uuid4(), structure_name="CCAS de Livry-Gargan", referent_id=uuid.uuid4(),
        referent_email="referent@ccas.fr", referent_firstname="Simon")


async def rows(deps: Deps, model) -> list:
    async with deps.sessions() as session:
        return list((await session.execute(select(model))).scalars())


async def test_an_event_is_posted_signed_to_each_subscription_of_its_territory_and_type_once(notify_db, receiver):
    deps = notify_db()
    partner, elsewhere = receiver(), receiver()
    territory = uuid.uuid4()
    await subscribe(deps, partner.url, territory, WebhookEventType.orientation_changed)
    await subscribe(deps, elsewhere.url, uuid.uuid4(), WebhookEventType.orientation_changed)
    await subscribe(deps, elsewhere.url, territory, WebhookEventType.appointment_booked)
    event = orientation(territory)
    await on_orientation_changed(event, None, deps)
    await on_orientation_changed(event, None, deps)  # redelivered by JetStream: no second delivery
    await deliver_due_webhooks(deps)
    await deliver_due_webhooks(deps)

    assert elsewhere.requests == []
    [(headers, body)] = partner.requests
    assert partner_example().verify_signature(SECRET, headers["X-Carnet-Signature"], body,
                                              now=T0.timestamp() + 10)
    assert not partner_example().verify_signature("whsec_autre", headers["X-Carnet-Signature"], body,
                                                  now=T0.timestamp())
    assert headers["X-Carnet-Signature"].startswith(f"t={int(T0.timestamp())},v1=")
    assert headers["X-Carnet-Event"] == "orientation.changed" and headers["Content-Type"] == "application/json"
    [delivery] = await rows(deps, WebhookDelivery)
    assert headers["X-Carnet-Delivery"] == str(delivery.id)
    payload = json.loads(body)
    assert payload == {
        "id": str(event.event_id), "type": "orientation.changed", "occurred_at": "2026-12-01T09:00:00Z",
        "territory": str(territory), "notebook_id": str(event.notebook_id),
        "data": {"reorientation": True, "orientation_system_id": str(event.orientation_system_id),
                 "orientation_system_name": "Social", "structure_id": str(event.structure_id),
                 "structure_name": "CCAS de Livry-Gargan", "referent_id": str(event.referent_id)}}
    assert b"referent@ccas.fr" not in body and b"Simon" not in body  # what notify's own emails need, not partners
    [attempt] = await rows(deps, WebhookAttempt)
    assert (delivery.status, delivery.attempts, attempt.status_code) == ("delivered", 1, 200)


async def test_referent_appointment_and_contract_events_carry_only_their_public_fields(notify_db, receiver):
    deps = notify_db()
    partner = receiver()
    territory = uuid.uuid4()
    await subscribe(deps, partner.url, territory, WebhookEventType.referent_changed,
                    WebhookEventType.appointment_booked, WebhookEventType.contract_validated)
    common = {"notebook_id": uuid.uuid4(), "deployment_id": territory, "beneficiary_id": uuid.uuid4()}
    await on_referent_changed(ReferentChangedV1(**common, referent_id=uuid.uuid4(), referent_name="Pierre Chevalier",
                                                previous_referent_email="ancien@ccas.fr"), None, deps)
    await on_appointment_booked(AppointmentBookedV1(
        **common, appointment_id=uuid.uuid4(), person_id=uuid.uuid4(), at=T0 + timedelta(days=3),
        with_name="Pierre Chevalier", structure_name="CCAS", beneficiary_phone="+33612345678",
        beneficiary_email="beneficiaire@exemple.fr"), None, deps)
    contract = ContractValidatedV1(**common, contract_id=uuid.uuid4(), kind=ContractLink.cer,
                                   decided_on=T0.date(), referent_email="referent@ccas.fr",
                                   beneficiary_email="beneficiaire@exemple.fr", beneficiary_firstname="Sophie")
    await on_contract_validated(contract, None, deps)
    await deliver_due_webhooks(deps)
    payloads = {json.loads(body)["type"]: json.loads(body)["data"] for _headers, body in partner.requests}
    assert set(payloads["referent.changed"]) == {"referent_id", "referent_name", "previous_referent_id",
                                                 "orientation_system_id"}
    assert set(payloads["appointment.booked"]) == {"appointment_id", "at", "professional_id", "with_name",
                                                   "structure_name"}
    assert payloads["contract.validated"] == {"contract_id": str(contract.contract_id), "kind": "cer",
                                              "decided_on": "2026-12-01"}
    assert not any(b"ancien@ccas.fr" in body or b"Sophie" in body or b"+33612345678" in body or b"beneficiaire@" in body
                   for _headers, body in partner.requests)


async def test_a_failing_partner_is_tried_again_with_backoff_and_delivered_once(notify_db, receiver):
    clock = Clock(T0)
    deps = notify_db(clock)
    partner = receiver([500, 429, 200])
    territory = uuid.uuid4()
    await subscribe(deps, partner.url, territory, WebhookEventType.orientation_changed)
    await on_orientation_changed(orientation(territory), None, deps)

    await deliver_due_webhooks(deps)
    [delivery] = await rows(deps, WebhookDelivery)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == T0 + timedelta(seconds=30)
    await deliver_due_webhooks(deps)  # not due yet
    assert len(partner.requests) == 1

    clock.advance(seconds=30)
    await deliver_due_webhooks(deps)
    [delivery] = await rows(deps, WebhookDelivery)
    assert (delivery.status, delivery.last_status_code) == ("pending", 429)
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=60)  # doubled
    clock.advance(seconds=60)
    await deliver_due_webhooks(deps)
    clock.advance(hours=2)
    await deliver_due_webhooks(deps)

    [delivery] = await rows(deps, WebhookDelivery)
    delivered_at = clock.now - timedelta(hours=2)
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("delivered", 3, delivered_at)
    attempts = sorted(await rows(deps, WebhookAttempt), key=lambda a: a.attempted_at)
    assert [a.status_code for a in attempts] == [500, 429, 200]
    assert len(partner.requests) == 3 and len({body for _h, body in partner.requests}) == 1
    [subscription] = await rows(deps, WebhookSubscription)
    assert subscription.failing_since is None  # the success clears the day of failures


async def test_a_refusal_other_than_overload_is_not_tried_again(notify_db, receiver):
    clock = Clock(T0)
    deps = notify_db(clock)
    partner = receiver([410])
    territory = uuid.uuid4()
    await subscribe(deps, partner.url, territory, WebhookEventType.orientation_changed)
    await on_orientation_changed(orientation(territory), None, deps)
    await deliver_due_webhooks(deps)
    clock.advance(hours=2)
    await deliver_due_webhooks(deps)
    [delivery] = await rows(deps, WebhookDelivery)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 410)
    assert len(partner.requests) == 1


async def test_two_notify_replicas_sending_at_once_post_each_delivery_once(notify_db, receiver):
    first, second = notify_db(), notify_db()
    partner = receiver(delay_s=0.2)
    territory = uuid.uuid4()
    await subscribe(first, partner.url, territory, WebhookEventType.orientation_changed)
    for _ in range(5):
        await on_orientation_changed(orientation(territory), None, first)
    await asyncio.gather(deliver_due_webhooks(first), deliver_due_webhooks(second), deliver_due_webhooks(first))
    await asyncio.gather(deliver_due_webhooks(second), deliver_due_webhooks(first))
    deliveries = [headers["X-Carnet-Delivery"] for headers, _body in partner.requests]
    assert len(deliveries) == 5 and len(set(deliveries)) == 5
    assert {d.status for d in await rows(first, WebhookDelivery)} == {"delivered"}
    assert len(await rows(first, WebhookAttempt)) == 5


async def test_a_subscription_failing_for_a_day_pauses_the_admins_are_told_and_it_resumes_by_hand(
        notify_db, receiver):
    clock = Clock(T0)
    deps = notify_db(clock)
    partner = receiver([503] * 40)
    territory = uuid.uuid4()
    subscription_id = await subscribe(deps, partner.url, territory, WebhookEventType.orientation_changed)
    async with deps.sessions() as session, session.begin():
        session.add(WebhookAdmin(account_id=uuid.uuid4(), email="admin@carnet.test", seen_at=T0))
    await on_orientation_changed(orientation(territory), None, deps)

    await deliver_due_webhooks(deps)
    for _ in range(23):  # every hour at most (the backoff's cap) for 23 hours: still failing, not a day yet
        clock.advance(hours=1)
        await deliver_due_webhooks(deps)
    [subscription] = await rows(deps, WebhookSubscription)
    assert (subscription.status, subscription.failing_since) == ("active", T0)
    clock.advance(hours=1)
    await deliver_due_webhooks(deps)
    [subscription] = await rows(deps, WebhookSubscription)
    assert (subscription.status, subscription.paused_at, subscription.paused_for_failures) == (
        "paused", T0 + timedelta(days=1), True)
    [notice] = [m for m in await rows(deps, OutgoingMessage) if m.template == "webhook_paused"]
    assert notice.recipient == "admin@carnet.test" and "Logiciel partenaire" in notice.text
    assert notice.links == ["https://carnet.example.fr/webhooks"]
    assert await tell_pauses(deps) == 0  # told once

    # Paused: events still queue, nothing is sent.
    await on_orientation_changed(orientation(territory), None, deps)
    sent = len(partner.requests)
    clock.advance(hours=5)
    await deliver_due_webhooks(deps)
    assert len(partner.requests) == sent

    partner.statuses.clear()  # the partner fixed its endpoint; an admin resumes
    deps.verifier = AsVerified(Principal(uuid.uuid4(), "admin_cdb", None, None, ()))
    deps.call = no_identity
    resumed = await resume_subscription(ResumeWebhookSubscriptionV1(subscription_id=subscription_id),
                                        RpcContext(), deps)
    assert (resumed.status, resumed.paused_at, resumed.failing_since) == ("active", None, None)
    await deliver_due_webhooks(deps)
    assert {d.status for d in await rows(deps, WebhookDelivery)} == {"delivered"}
    assert len(partner.requests) == sent + 2


async def test_a_delivery_is_replayed_by_hand_with_the_same_body_and_id_under_the_current_secret(
        notify_db, receiver):
    clock = Clock(T0)
    deps = notify_db(clock)
    partner = receiver()
    territory = uuid.uuid4()
    await subscribe(deps, partner.url, territory, WebhookEventType.orientation_changed)
    await on_orientation_changed(orientation(territory), None, deps)
    await deliver_due_webhooks(deps)
    [delivery] = await rows(deps, WebhookDelivery)

    deps.verifier = AsVerified(Principal(uuid.uuid4(), "admin_cdb", None, None, ()))
    deps.call = no_identity
    clock.advance(hours=1)
    replayed = await replay_delivery(ReplayWebhookDeliveryV1(delivery_id=delivery.id), RpcContext(), deps)
    assert replayed.status == "pending"
    with pytest.raises(Conflict):  # already waiting to go: a second replay would send it twice
        await replay_delivery(ReplayWebhookDeliveryV1(delivery_id=delivery.id), RpcContext(), deps)
    await deliver_due_webhooks(deps)
    (first_headers, first_body), (headers, body) = partner.requests
    assert body == first_body and headers["X-Carnet-Delivery"] == first_headers["X-Carnet-Delivery"]
    assert headers["X-Carnet-Signature"].startswith(f"t={int(clock.now.timestamp())},")  # signed anew
    assert partner_example().verify_signature(SECRET, headers["X-Carnet-Signature"], body,
                                              now=clock.now.timestamp())
    [delivery] = await rows(deps, WebhookDelivery)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)


async def test_a_send_interrupted_by_a_crash_is_marked_uncertain_and_never_sent_again(notify_db, receiver):
    clock = Clock(T0)
    deps = notify_db(clock, sending_lease_s=60)
    partner = receiver()
    territory = uuid.uuid4()
    await subscribe(deps, partner.url, territory, WebhookEventType.orientation_changed)
    await on_orientation_changed(orientation(territory), None, deps)
    async with deps.sessions() as session, session.begin():  # claimed by a replica that died while posting
        await session.execute(update(WebhookDelivery).values(status="sending", attempts=1, sending_since=T0))
    clock.advance(minutes=5)
    await deliver_due_webhooks(deps)
    [delivery] = await rows(deps, WebhookDelivery)
    assert (delivery.status, delivery.last_error) == ("uncertain", INTERRUPTED)
    assert partner.requests == []


async def test_outside_dev_a_partner_resolving_to_a_private_address_is_never_posted(notify_db, receiver):
    deps = notify_db(env="prod", secret_key="cle-de-production-de-test")
    partner = receiver()
    territory = uuid.uuid4()
    # Made while its name was public; it now resolves to 127.0.0.1 (localhost stands for that name here).
    await subscribe(deps, partner.url.replace("http://127.0.0.1", "https://localhost"), territory,
                    WebhookEventType.orientation_changed)
    await on_orientation_changed(orientation(territory), None, deps)
    await deliver_due_webhooks(deps)
    [delivery] = await rows(deps, WebhookDelivery)
    assert (delivery.status, delivery.last_error, delivery.last_status_code) == ("failed", PRIVATE_ADDRESS, None)
    assert partner.requests == []


class AsVerified:
    """Stands for the token verifier: every token is this principal's."""

    def __init__(self, principal: Principal):
        self.principal = principal

    async def verify(self, _token):
        return self.principal


async def no_identity(_request, headers=None):
    raise TimeoutError("identity ne répond pas")
