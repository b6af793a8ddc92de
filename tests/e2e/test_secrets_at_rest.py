"""No login link or SMS code stays at rest: after real logins, codes and invitations, sent by SMTP and through an
SMS provider as in production, no table of any service's database holds one of them.

The dev mailbox keeps messages whole by design (it stands for the recipient's inbox, in dev and test mode only),
so this system delivers as production does, to a local SMTP server and a local fake of the SMS provider.
"""
from __future__ import annotations

import asyncio
import email
import json
import re
import threading
import uuid
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from sqlalchemy import MetaData, select

from contracts.identity import DemoAccount, DeploymentChoice, Role
from contracts.profiles import ProfessionalCreatedV1
from servicekit.db import create_engine
from testkit.infra import free_port
from testkit.system import bearer, open_link

pytestmark = pytest.mark.e2e

D93 = uuid.UUID("93000000-0000-4000-8000-000000000093")
MANAGER = DemoAccount(email="manager93@demo.carnet.test", role=Role.manager, deployment_id=D93,
                      firstname="Agathe", lastname="Deblouze")
BENEFICIARY = DemoAccount(email="sophie@demo.carnet.test", role=Role.beneficiary, deployment_id=D93,
                          firstname="Sophie", lastname="Tifour", phone="06 12 34 56 78")
LINK = re.compile(r"https?://[^\s\"'<>]+/(?:auth/magic|compte/email)/([A-Za-z0-9_-]+)")
CODE = re.compile(r"\b(\d{6})\b")


class Inbox(Sink):
    """The SMTP server's side: every email taken, as plain text."""

    def __init__(self):
        self.texts: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        text = message.get_body(("plain",)).get_content()
        self.texts.append((envelope.rcpt_tos, text))
        return "250 OK"


class SmsProvider:
    """A Brevo-like endpoint that accepts every SMS and keeps its text."""

    def __init__(self):
        self.texts: list[tuple[str, str]] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                provider.texts.append((body["recipient"], body["content"]))
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"messageId": 1}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def outside():
    inbox, sms = Inbox(), SmsProvider()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox, sms
    controller.stop()
    sms.server.shutdown()


@pytest.fixture
def service_env(outside):
    controller, _inbox, sms = outside
    return {"notify": {"NOTIFY_DELIVERY": "smtp", "NOTIFY_SMTP_PORT": str(controller.port),
                       "NOTIFY_SMS_PROVIDER": "brevo", "NOTIFY_SMS_API_URL": sms.url,
                       "NOTIFY_SMS_API_KEY": "cle-de-test"}}


async def wait_for(found, timeout_s: float = 45):
    for _ in range(int(timeout_s / 0.1)):
        if value := found():
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("nothing arrived in time")


async def rows_holding(urls: dict[str, str], secrets: set[str]) -> list[str]:
    """Every (service, table, secret) where a row of that table holds one of ``secrets``, in any column."""
    found = []
    for service, url in urls.items():
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                metadata = MetaData()
                await connection.run_sync(metadata.reflect)
                for table in metadata.sorted_tables:
                    for row in (await connection.execute(select(table))).all():
                        text = " ".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row)
                        found += [f"{service}.{table.name}: {s}" for s in secrets
                                  if re.search(rf"(?<![0-9a-f]){re.escape(s)}(?![0-9a-f])", text)]
        finally:
            await engine.dispose()
    return found


async def test_no_login_link_or_sms_code_is_left_in_any_database(service_env, system, outside):
    _controller, inbox, sms = outside
    await system.seed(MANAGER, BENEFICIARY, deployments=[DeploymentChoice(deployment_id=D93, label="Démo 93",
                                                                          department_code="93")])
    secrets: set[str] = set()

    def links_to(address: str, count: int) -> list[str]:
        tokens = [m for to, text in inbox.texts if address in to for m in LINK.findall(text)]
        return tokens if len(tokens) >= count else []

    async with system.client() as client:
        # A login link used, and one asked for but never used.
        for count in (1, 2):
            await client.post("/api/v1/auth/magic-link", json={"email": MANAGER.email})
            secrets.update(await wait_for(lambda: links_to(MANAGER.email, count)))
        link = next(text for to, text in inbox.texts if MANAGER.email in to)
        assert (await open_link(client, LINK.search(link).group(0))).status_code == 303

        # An invitation, used.
        await system.publish(ProfessionalCreatedV1(profile_id=uuid.uuid4(), deployment_id=D93, email="pro@livry.fr",
                                                   firstname="Pierre", lastname="Chevalier", structure_ids=[]))
        [invitation] = await wait_for(lambda: links_to("pro@livry.fr", 1))
        secrets.add(invitation)
        async with system.client() as invited:
            assert (await open_link(invited, f"{system.base_url}/auth/magic/{invitation}")).status_code == 303

        # Two SMS codes: one used, one left.
        for count in (1, 2):
            await client.post("/api/v1/auth/sms-code", json={"phone": BENEFICIARY.phone})
            await wait_for(lambda: len(sms.texts) >= count)
        codes = [CODE.search(text).group(1) for _to, text in sms.texts]
        secrets.update(codes)
        pair = await client.post("/api/v1/auth/sms-code/verify", json={"phone": BENEFICIARY.phone, "code": codes[-1]})
        assert pair.status_code == 200
        assert (await client.get("/api/v1/me", headers=bearer(pair.json()["access_token"]))).status_code == 200

    assert len(secrets) == 5
    # Sent messages are recorded as such a moment after the provider took them: wait for that, then look.
    deadline = asyncio.get_running_loop().time() + 10
    while (found := await rows_holding(system.database_urls, secrets)) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.5)
    assert found == []
