"""SMS through the HTTP provider (against a local fake of it), and no second send when notify dies mid-send."""
from __future__ import annotations

import asyncio
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from sqlalchemy import select

from contracts.identity import LoginLinkIssuedV1, SmsCodeIssuedV1
from contracts.notify import Channel, ResendMessageV1
from notify.adapters.orm import OutgoingMessage
from notify.handlers.deliver import INTERRUPTED, SECRET_WIPED, deliver_due
from notify.handlers.delivery_log import resend_message
from notify.handlers.queue_message import Outgoing, queue_once
from notify.handlers.sms_code_issued import on_sms_code_issued
from notify.rendering import Rendered
from servicekit.auth import Principal
from servicekit.db import create_engine, sessionmaker
from servicekit.errors import Conflict, Forbidden
from servicekit.rpc import RpcContext
from servicekit.topology import SERVICES_BY_NAME
from testkit.harness import service_process
from testkit.infra import free_port

from .test_delivery import make_deps, messages  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration


class FakeSmsProvider:
    """A Brevo-like transactional SMS endpoint on 127.0.0.1 answering the statuses it is given, in order."""

    def __init__(self, statuses: list[int]):
        self.statuses, self.requests = list(statuses), []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                provider.requests.append((self.path, self.headers["api-key"], body))
                status = provider.statuses.pop(0) if provider.statuses else 201
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"messageId": 1}' if status < 400 else b'{"code": "invalid_parameter"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def sms_event() -> SmsCodeIssuedV1:
    return SmsCodeIssuedV1(account_id=uuid.uuid4(), phone="+33612345678", code="482913",
                           expires_at=datetime.now(UTC) + timedelta(minutes=10))


@pytest.fixture
def provider():
    started = []

    def start(statuses):
        started.append(FakeSmsProvider(statuses))
        return started[-1]

    yield start
    for fake in started:
        fake.stop()


async def sms_deps(make_deps, url):  # noqa: F811
    return await make_deps(env="prod", delivery="smtp", sms_provider="brevo", sms_api_url=url,
                           sms_api_key="cle-de-test", retry_base_s=0)


async def test_an_sms_goes_through_the_provider_once_with_its_key(make_deps, provider):  # noqa: F811
    fake = provider([201])
    deps = await sms_deps(make_deps, fake.url)
    await on_sms_code_issued(sms_event(), None, deps)
    await deliver_due(deps)
    await deliver_due(deps)
    [(path, key, body)] = fake.requests
    assert (path, key, body["recipient"], body["type"]) == ("/v3/transactionalSMS/sms", "cle-de-test",
                                                             "33612345678", "transactional")
    assert "482913" in body["content"]
    [message] = await messages(deps)
    assert (message.status, message.attempts) == ("sent", 1)


async def test_a_provider_error_is_retried_and_a_refusal_is_final(make_deps, provider):  # noqa: F811
    fake = provider([503, 201])
    deps = await sms_deps(make_deps, fake.url)
    await on_sms_code_issued(sms_event(), None, deps)
    await deliver_due(deps)
    [message] = await messages(deps)
    assert (message.status, message.attempts) == ("pending", 1) and "503" in message.last_error
    await deliver_due(deps)
    [message] = await messages(deps)
    assert (message.status, message.attempts) == ("sent", 2)

    refusing = provider([400, 400, 201])
    deps = await sms_deps(make_deps, refusing.url)
    await on_sms_code_issued(sms_event(), None, deps)
    for _ in range(3):
        await deliver_due(deps)
    [code] = await messages(deps)
    assert (code.status, code.attempts) == ("failed", 1) and "400" in code.last_error
    assert len(refusing.requests) == 1  # no retry loop on a 4xx
    # A failed code is wiped like a sent one, so it cannot be sent again by hand: the person asks a new one.
    assert "482913" not in code.text and code.text == SECRET_WIPED
    deps.verifier = AsVerified(Principal(uuid.uuid4(), "admin_cdb", None, None, ()))
    with pytest.raises(Conflict, match="usage unique"):
        await resend_message(ResendMessageV1(message_id=code.id), RpcContext(), deps)

    await queue_once(deps, "test-reminders", uuid.uuid4(), [Outgoing(
        "appointment_reminder", Channel.sms, "+33612345678", Rendered("", "Rendez-vous demain à 10 h", None, []))])
    for _ in range(3):
        await deliver_due(deps)
    [message] = [m for m in await messages(deps) if not m.contains_secret]
    assert (message.status, message.attempts) == ("failed", 1) and len(refusing.requests) == 2

    # The number corrected with the provider, a national admin resends it by hand: sent, once.
    deps.verifier = AsVerified(Principal(uuid.uuid4(), "professional", None, None, ()))
    with pytest.raises(Forbidden):
        await resend_message(ResendMessageV1(message_id=message.id), RpcContext(), deps)
    deps.verifier = AsVerified(Principal(uuid.uuid4(), "admin_cdb", None, None, ()))
    resent = await resend_message(ResendMessageV1(message_id=message.id), RpcContext(), deps)
    assert (resent.status, resent.attempts) == ("pending", 0)
    await deliver_due(deps)
    [message] = [m for m in await messages(deps) if not m.contains_secret]
    assert (message.status, message.attempts) == ("sent", 1) and len(refusing.requests) == 3
    with pytest.raises(Conflict):
        await resend_message(ResendMessageV1(message_id=message.id), RpcContext(), deps)


class AsVerified:
    """Stands for the token verifier: every token is this principal's."""

    def __init__(self, principal: Principal):
        self.principal = principal

    async def verify(self, _token):
        return self.principal


class SlowToAcknowledge(Sink):
    """Takes the email, then waits before saying "250 OK": a process killed meanwhile has sent it."""

    def __init__(self):
        self.envelopes, self.delay_s = [], 60.0

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        await asyncio.sleep(self.delay_s)
        return "250 OK"


async def test_notify_killed_during_a_send_never_sends_it_again(nats_url, jetstream, databases, forkserver, tmp_path):
    url = await databases.create("notify", SERVICES_BY_NAME["notify"].migrations_dir)
    smtp_port = free_port()
    recorder = SlowToAcknowledge()
    controller = Controller(recorder, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    common = {"NATS_URL": nats_url, "CARNET_ENV": "test"}
    env = {"NOTIFY_DELIVERY": "smtp", "NOTIFY_SMTP_PORT": str(smtp_port), "NOTIFY_SENDING_LEASE_S": "1",
           "NOTIFY_SMTP_TIMEOUT_S": "120"}
    notify = forkserver.start(service_process("notify", common, url, tmp_path, env))
    try:
        event = LoginLinkIssuedV1(account_id=uuid.uuid4(), email="pro@demo.carnet.test", token="jeton",
                                  expires_at=datetime.now(UTC))
        await jetstream.publish(event.subject, event.model_dump_json().encode())
        for _ in range(300):
            if recorder.envelopes:
                break
            await asyncio.sleep(0.05)
        assert len(recorder.envelopes) == 1
        notify.kill()  # between the server taking the email and notify recording it as sent

        recorder.delay_s = 0
        notify = forkserver.start(service_process("notify", common, url, tmp_path, env))
        engine = create_engine(url)
        try:
            for _ in range(100):
                async with sessionmaker(engine)() as session:
                    [message] = (await session.execute(select(OutgoingMessage))).scalars().all()
                if message.status != "sending":
                    break
                await asyncio.sleep(0.1)
        finally:
            await engine.dispose()
        assert (message.status, message.last_error) == ("uncertain", INTERRUPTED)
        assert "jeton" not in message.text and message.links == []  # interrupted is final: the link goes
        await asyncio.sleep(1.5)  # a restarted sender had every chance to send it again
        assert len(recorder.envelopes) == 1
    finally:
        notify.stop()
        controller.stop()
