"""Rendering and delivery of the login-link email: dev mailbox, SMTP against a real aiosmtpd server, retries."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from sqlalchemy import select

from contracts.identity import LoginLinkIssuedV1
from notify.adapters.orm import OutgoingMessage
from notify.config import NotifySettings
from notify.handlers.deliver import SECRET_WIPED, deliver_due
from notify.handlers.deps import Deps
from notify.handlers.login_link_issued import on_login_link_issued
from notify.handlers.read_dev_mailbox import read_dev_mailbox
from contracts.notify import ReadDevMailboxV1
from servicekit.db import create_engine, sessionmaker
from servicekit.errors import NotFound
from servicekit.outbox import Outbox
from servicekit.rpc import RpcContext
from servicekit.topology import SERVICES_BY_NAME
from testkit.infra import free_port

pytestmark = pytest.mark.integration


class Recorder(Sink):
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
async def make_deps(databases):
    engines = []

    async def make(**settings) -> Deps:
        url = await databases.create("notify", SERVICES_BY_NAME["notify"].migrations_dir)
        engine = create_engine(url)
        engines.append(engine)
        # A key of its own: production refuses the development one (it encrypts the webhooks' secrets).
        settings = {"secret_key": "cle-de-test-du-service", **settings}
        return Deps(sessions=sessionmaker(engine), outbox=Outbox(),
                    settings=NotifySettings(public_url="https://carnet.example.fr", **settings))

    yield make
    for engine in engines:
        await engine.dispose()


def login_link_event() -> LoginLinkIssuedV1:
    now = datetime.now(UTC)
    return LoginLinkIssuedV1(account_id=uuid.uuid4(), email="pro@demo.carnet.test", token="secret-token",
                             occurred_at=now, expires_at=now + timedelta(minutes=15))


async def messages(deps: Deps) -> list[OutgoingMessage]:
    async with deps.sessions() as session:
        return list((await session.execute(select(OutgoingMessage))).scalars())


async def test_a_redelivered_login_link_event_queues_one_email_with_the_link(make_deps):
    deps = await make_deps(env="dev")
    event = login_link_event()
    await on_login_link_issued(event, None, deps)
    await on_login_link_issued(event, None, deps)
    [message] = await messages(deps)
    assert message.recipient == "pro@demo.carnet.test"
    assert message.subject == "Votre lien de connexion à Carnet de bord"  # no personal data in the subject
    assert message.links == ["https://carnet.example.fr/auth/magic/secret-token"]
    assert "https://carnet.example.fr/auth/magic/secret-token" in message.text
    assert 'href="https://carnet.example.fr/auth/magic/secret-token"' in message.html

    await deliver_due(deps)
    reply = await read_dev_mailbox(ReadDevMailboxV1(to="PRO@demo.carnet.test"), RpcContext(), deps)
    assert [m.links for m in reply.messages] == [["https://carnet.example.fr/auth/magic/secret-token"]]


async def test_the_dev_mailbox_does_not_exist_outside_dev_mode(make_deps):
    deps = await make_deps(env="prod")
    with pytest.raises(NotFound):
        await read_dev_mailbox(ReadDevMailboxV1(), RpcContext(), deps)


async def test_a_message_kept_outside_dev_mode_loses_its_secret(make_deps):
    # The dev mailbox is the default delivery: a production that forgot NOTIFY_DELIVERY keeps no link.
    deps = await make_deps(env="prod")
    await on_login_link_issued(login_link_event(), None, deps)
    await deliver_due(deps)
    [message] = await messages(deps)
    assert message.status == "kept"
    assert message.text == SECRET_WIPED and message.links == [] and message.html is None


async def test_smtp_delivery_retries_while_the_server_is_down_then_sends_once_and_wipes_the_secret(make_deps):
    port = free_port()
    deps = await make_deps(env="prod", delivery="smtp", smtp_port=port, retry_base_s=0)
    await on_login_link_issued(login_link_event(), None, deps)

    await deliver_due(deps)  # nobody listens on the port yet
    [message] = await messages(deps)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error

    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await deliver_due(deps)
        await deliver_due(deps)  # nothing left to send: no second email
    finally:
        controller.stop()
    [envelope] = recorder.envelopes
    assert envelope.rcpt_tos == ["pro@demo.carnet.test"]
    assert b"/auth/magic/secret-token" in envelope.content
    [message] = await messages(deps)
    assert (message.status, message.attempts) == ("sent", 2)
    assert message.text == SECRET_WIPED and message.links == [] and message.html is None


async def test_a_refused_recipient_is_a_permanent_failure_without_retry_loop(make_deps):
    class Refuser(Sink):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 Mailbox unavailable"

    port = free_port()
    controller = Controller(Refuser(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        deps = await make_deps(env="prod", delivery="smtp", smtp_port=port, retry_base_s=0)
        await on_login_link_issued(login_link_event(), None, deps)
        await deliver_due(deps)
        await deliver_due(deps)
    finally:
        controller.stop()
    [message] = await messages(deps)
    assert (message.status, message.attempts) == ("failed", 1)
    assert "550" in message.last_error
