"""The private bus: a real nats-server run with the generated configuration, each user doing what it may and
refused what it may not (one-time secrets, other services' RPCs, other users' replies)."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from pathlib import Path

import nats
import pytest
import typer
from typer.testing import CliRunner
from faststream.middlewares import AckPolicy as FsAckPolicy
from faststream.nats import ConsumerConfig as FsConsumerConfig
from faststream.nats import JStream, NatsBroker, PullSub
from nats.errors import NoRespondersError, NoServersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from carnet.bus import nats_config
from contracts.identity import (
    AccountDeactivatedV1,
    GetJwksV1,
    GetMeV1,
    LoginLinkIssuedV1,
    SeedDemoAccountsV1,
    SessionsRevokedV1,
)
from contracts.notify import ReadDevMailboxV1
from contracts.pilotage import EXPORTS_BUCKET
from contracts.profiles import BeneficiaryCreatedV1
from contracts.streams import SECRETS
from servicekit import bus_access
from servicekit.bus_access import (
    DEPLOY_LISTEN,
    DEPLOY_NODE,
    DEPLOY_STORE_DIR,
    inbox_prefix,
    pull_inbox_prefix,
    redacted,
    render_accounts,
    render_server,
    start_private_nats,
)
from servicekit.deadletters import REPLAY_SUBJECT, list_dead_letters, replay
from servicekit.objects import CHUNK_BYTES, TooLarge, bucket, put_stream, read_stream, uploads
from servicekit.streams import ensure_streams
from servicekit.topology import SERVICES
from testkit.infra import bundled_nats_server, free_port, missing, wait_for_port

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "nats"
REFUSED_WITHIN_S = 0.5  # a refused request is never answered: the client gives up after this


@pytest.mark.unit
def test_deploy_files_are_what_the_table_renders():
    assert (DEPLOY / "accounts.conf").read_text() == render_accounts(), "run: carnet nats-config --out deploy/nats"
    assert (DEPLOY / "nats-server.conf").read_text() == render_server(DEPLOY_LISTEN, DEPLOY_STORE_DIR)
    assert (DEPLOY / "cluster.conf").read_text() == render_server(DEPLOY_LISTEN, DEPLOY_STORE_DIR, DEPLOY_NODE)
    assert "server_name: $CARNET_NATS_SERVER_NAME" in (DEPLOY / "cluster.conf").read_text()
    assert "password: $CARNET_NATS_PASSWORD_NOTIFY" in render_accounts()


def test_nats_server_accepts_the_deployed_files():
    """Each server of the deployed cluster (its name and the passwords from the environment, as compose and the
    Helm chart give them) and the single server: nats-server's own check of its configuration."""
    binary = bundled_nats_server()
    if binary is None:
        missing("nats-server")
    env = {**os.environ, bus_access.SERVER_NAME_VARIABLE: "nats-2",
           **{bus_access.password_variable(user): "p0test" for user in bus_access.USERS}}
    for config in ("cluster.conf", "nats-server.conf"):
        checked = subprocess.run([binary, "-c", config, "-t"], cwd=DEPLOY, env=env, capture_output=True, text=True)
        assert checked.returncode == 0 and "is valid" in checked.stdout + checked.stderr, checked.stderr


@pytest.mark.unit
def test_the_table_names_every_service_and_only_identity_issues_secrets():
    assert [access.name for access in bus_access.SERVICE_ACCESS] == [service.name for service in SERVICES]
    rules = bus_access.permissions()
    assert [user for user, perms in rules.items() if any(s.startswith("secret.") for s in perms.publish)] == [
        "identity"]
    reads = ("$JS.API.CONSUMER.CREATE.SECRETS", "$JS.API.CONSUMER.CREATE.SECRETS.spy.secret.>",
             "$JS.API.CONSUMER.DURABLE.CREATE.SECRETS.spy", "$JS.API.CONSUMER.MSG.NEXT.SECRETS.spy",
             "$JS.API.STREAM.MSG.GET.SECRETS", "$JS.API.DIRECT.GET.SECRETS")
    for user, perms in rules.items():
        allowed = [r for r in reads if any(matches(p, r) for p in perms.publish)
                   and not any(matches(p, r) for p in perms.publish_deny)]
        assert allowed == (list(reads[1:5]) if user == "notify" else []), user
        assert not any(matches(p, "secret.identity.x.v1") for p in perms.subscribe), user


def matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` one token, ``>`` one or more at the end."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for i, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > i
        if i >= len(tokens) or token not in ("*", tokens[i]):
            return False
    return len(tokens) == len(wanted)


@pytest.mark.unit
def test_a_url_logs_without_its_password():
    url = "nats://notify:p0secret@127.0.0.1:4222"
    assert redacted(url) == "nats://notify:***@127.0.0.1:4222"
    assert inbox_prefix(url) == "_INBOX.notify"
    assert inbox_prefix("nats://127.0.0.1:4222") == "_INBOX"
    assert bus_access.publisher_of(LoginLinkIssuedV1.subject) == "identity"
    assert bus_access.publisher_of("import.job.completed.v1") == "data_import"


@pytest.mark.unit
def test_a_cluster_url_names_every_server_and_one_user():
    """``NATS_URL`` of a cluster: its servers separated by commas; the user and password go to the client once, for
    every server, the advertised ones included (they come without)."""
    url = ("nats://notify:p0s%40cret@nats-1:4222,nats://notify:p0s%40cret@nats-2:4222,"
           " nats://notify:p0s%40cret@nats-3:4222")
    assert bus_access.server_urls(url)[2] == "nats://notify:p0s%40cret@nats-3:4222"
    assert bus_access.credentials(url) == ("notify", "p0s@cret")
    assert [bus_access.without_credentials(u) for u in bus_access.server_urls(url)] == [
        "nats://nats-1:4222", "nats://nats-2:4222", "nats://nats-3:4222"]
    assert redacted(url) == ",".join(f"nats://notify:***@nats-{n}:4222" for n in (1, 2, 3))
    assert inbox_prefix(url) == "_INBOX.notify"
    assert bus_access.credentials("nats://127.0.0.1:4222") is None


@pytest.fixture(scope="module")
def bus(tmp_path_factory):
    binary = bundled_nats_server()
    if binary is None:
        missing("nats-server")
    directory = tmp_path_factory.mktemp("private-nats")
    with (directory / "nats.log").open("ab") as log:
        server = start_private_nats(binary, directory, log, free_port())
    try:
        wait_for_port(server.port)
        yield server
    finally:
        server.stop()


class Client:
    """A connection as one user, with the permission violations the server reported to it."""

    def __init__(self, bus, user: str) -> None:
        self.url = bus.urls[user]
        self.violations: list[str] = []
        self.nc = None

    async def __aenter__(self):
        async def on_error(exc: Exception) -> None:
            self.violations.append(str(exc))

        self.nc = await nats.connect(self.url, inbox_prefix=inbox_prefix(self.url), error_cb=on_error,
                                     allow_reconnect=False)
        self.js = self.nc.jetstream(timeout=REFUSED_WITHIN_S)
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.nc.close()

    async def violation(self, fragment: str) -> None:
        for _ in range(50):
            if any(fragment.lower() in v.lower() for v in self.violations):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"no permissions violation about {fragment!r}: {self.violations}")


@pytest.fixture
async def streams(bus):
    async with Client(bus, "operator") as operator:
        await ensure_streams(operator.js)


@pytest.mark.integration
async def test_a_client_without_credentials_or_with_a_wrong_password_is_refused(bus):
    for url in (f"nats://127.0.0.1:{bus.port}", f"nats://directory:wrong@127.0.0.1:{bus.port}"):
        with pytest.raises((NoServersError, nats.errors.Error, OSError)):
            await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)


@pytest.mark.integration
async def test_only_notify_reads_the_secrets_identity_publishes(bus, streams):
    async with Client(bus, "identity") as identity, Client(bus, "directory") as directory, \
            Client(bus, "notify") as notify, Client(bus, "operator") as operator:
        heard: list = []
        await directory.nc.subscribe("secret.>", cb=recorder(heard))
        await directory.violation('Subscription to "secret.>"')
        await directory.nc.subscribe(">", cb=recorder(heard))
        await directory.violation('Subscription to ">"')

        token = uuid.uuid4().hex
        ack = await identity.js.publish(LoginLinkIssuedV1.subject, token.encode(),
                                        headers={"Nats-Msg-Id": token})
        assert ack.stream == SECRETS.name

        # Neither a consumer of SECRETS (either form), nor a read by sequence, for directory nor the operator.
        for client in (directory, operator):
            with pytest.raises(NatsTimeoutError):
                await client.js.pull_subscribe(LoginLinkIssuedV1.subject, durable=f"spy-{uuid.uuid4().hex[:6]}",
                                               stream=SECRETS.name)
            with pytest.raises(NatsTimeoutError):
                await client.js.add_consumer(SECRETS.name, ConsumerConfig(
                    name="spy", filter_subject=LoginLinkIssuedV1.subject, ack_policy=AckPolicy.EXPLICIT))
            with pytest.raises(NatsTimeoutError):
                await client.js.get_msg(SECRETS.name, ack.seq)
            await client.violation("$JS.API.STREAM.MSG.GET.SECRETS")
        with pytest.raises(NatsTimeoutError):  # the ordered consumer's form, and nothing to fetch from
            await directory.js.subscribe(LoginLinkIssuedV1.subject, ordered_consumer=True, stream=SECRETS.name)
        await directory.violation("$JS.API.CONSUMER.CREATE.SECRETS")

        # notify's durable consumer reads it, acks it, and can read it again for a replay.
        pull = await notify.js.pull_subscribe(LoginLinkIssuedV1.subject, durable="notify-login-links-test",
                                              stream=SECRETS.name)
        [message] = await pull.fetch(1, timeout=5)
        assert message.data == token.encode()
        await message.ack_sync()
        assert (await notify.js.get_msg(SECRETS.name, ack.seq)).data == token.encode()
        assert heard == []
        assert not notify.violations and not identity.violations


def recorder(messages: list):
    async def record(msg) -> None:
        messages.append(msg)

    return record


async def rpc_responder(client: Client, subject: str):
    async def answer(msg) -> None:
        await msg.respond(b'{"answered": true}')

    return await client.nc.subscribe(subject, queue=subject.split(".")[1], cb=answer)


@pytest.mark.integration
async def test_a_service_calls_only_the_rpcs_of_its_table_and_the_gateway_all_but_the_operators(bus):
    async with Client(bus, "identity") as identity, Client(bus, "directory") as directory, \
            Client(bus, "gateway") as gateway, Client(bus, "operator") as operator, \
            Client(bus, "notify") as notify:
        await rpc_responder(identity, "rpc.identity.>")
        await rpc_responder(notify, "rpc.notify.>")
        await identity.nc.flush()
        await notify.nc.flush()

        assert (await directory.nc.request(GetJwksV1.subject, b"{}", timeout=5)).data == b'{"answered": true}'
        for subject in (SeedDemoAccountsV1.subject, GetMeV1.subject, ReadDevMailboxV1.subject):
            with pytest.raises(NatsTimeoutError):
                await directory.nc.request(subject, b"{}", timeout=REFUSED_WITHIN_S)
            await directory.violation(f'Publish to "{subject}"')

        for subject in (GetMeV1.subject, ReadDevMailboxV1.subject):
            assert (await gateway.nc.request(subject, b"{}", timeout=5)).data == b'{"answered": true}'
        with pytest.raises(NatsTimeoutError):
            await gateway.nc.request(SeedDemoAccountsV1.subject, b"{}", timeout=REFUSED_WITHIN_S)
        await gateway.violation(f'Publish to "{SeedDemoAccountsV1.subject}"')
        assert (await operator.nc.request(SeedDemoAccountsV1.subject, b"{}", timeout=5)).data == b'{"answered": true}'

        # The gateway only asks: it serves nothing and publishes no event.
        await gateway.nc.subscribe("rpc.identity.>", queue="identity")
        await gateway.violation('Subscription to "rpc.identity.>"')
        await gateway.nc.publish(AccountDeactivatedV1.subject, b"{}")
        await gateway.violation(f'Publish to "{AccountDeactivatedV1.subject}"')


@pytest.mark.integration
async def test_nobody_reads_the_replies_to_another_users_requests(bus):
    async with Client(bus, "identity") as identity, Client(bus, "directory") as directory, \
            Client(bus, "gateway") as gateway:
        await rpc_responder(identity, "rpc.identity.>")
        await identity.nc.flush()
        overheard: list = []
        for subject in ("_INBOX.>", "_INBOX.gateway.>"):
            await directory.nc.subscribe(subject, cb=recorder(overheard))
            await directory.violation(f'Subscription to "{subject}"')
        # An answer goes to the gateway's own inbox; identity may answer it, not publish there unasked.
        assert (await gateway.nc.request(GetMeV1.subject, b"{}", timeout=5)).data == b'{"answered": true}'
        await identity.nc.publish("_INBOX.gateway.forged", b"{}")
        await identity.violation('Publish to "_INBOX.gateway.forged"')
        assert overheard == []


@pytest.mark.integration
async def test_identity_publishes_its_events_that_notify_consumes_and_others_follow(bus, streams):
    async with Client(bus, "identity") as identity, Client(bus, "notify") as notify, \
            Client(bus, "directory") as directory:
        event_id = uuid.uuid4().hex
        await identity.js.publish(AccountDeactivatedV1.subject, event_id.encode(), headers={"Nats-Msg-Id": event_id})
        revoked_id = uuid.uuid4().hex
        await identity.js.publish(SessionsRevokedV1.subject, revoked_id.encode(), headers={"Nats-Msg-Id": revoked_id})
        with pytest.raises(NatsTimeoutError):  # another service's events are refused
            await directory.js.publish(AccountDeactivatedV1.subject, b"{}")
        await directory.violation(f'Publish to "{AccountDeactivatedV1.subject}"')

        pull = await notify.js.pull_subscribe(AccountDeactivatedV1.subject, durable="notify-account-deactivated-test",
                                              config=ConsumerConfig(deliver_policy=DeliverPolicy.LAST_PER_SUBJECT))
        [message] = await pull.fetch(1, timeout=5)
        assert message.data == event_id.encode()
        await message.nak(delay=0.1)  # a failed handler's NAK, then the redelivery's ack
        [again] = await pull.fetch(1, timeout=5)
        await again.ack_sync()

        # Every service but identity follows session revocations with an ordered consumer.
        followed: asyncio.Queue = asyncio.Queue()

        async def on_revoked(msg) -> None:
            await followed.put(msg.data)

        subscription = await directory.js.subscribe(
            SessionsRevokedV1.subject, cb=on_revoked, ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.LAST_PER_SUBJECT))
        assert await asyncio.wait_for(followed.get(), 5) == revoked_id.encode()
        await subscription.unsubscribe()
        assert not notify.violations and not identity.violations
        assert all(f'"{AccountDeactivatedV1.subject}"' in v for v in directory.violations)


async def ask_until_answered(broker: NatsBroker, subject: str, within_s: float = 10.0):
    """The request, asked again while the server answers « no responders ». In two CI runs out of many, late in a
    loaded suite, the first request found none although notify's connection had been flushed after its
    subscriptions (never reproduced alone, 15 runs); what this test checks is the permissions, not that timing.
    A subject notify may not serve would still end in « no responders » after ``within_s``."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        try:
            return await broker.request("ping", subject, timeout=5)
        except NoRespondersError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


@pytest.mark.integration
async def test_faststream_brokers_work_within_their_permissions(bus, streams):
    """What the services run on: a durable pull subscriber (notify on SECRETS), an ordered consumer of the
    revocations, an RPC served in its queue group and asked by the gateway, each broker in its own inbox."""
    def broker(user: str) -> NatsBroker:
        return NatsBroker(bus.urls[user], inbox_prefix=inbox_prefix(bus.urls[user]), name=user)

    notify, gateway, identity = broker("notify"), broker("gateway"), broker("identity")
    received: asyncio.Queue = asyncio.Queue()

    @notify.subscriber(LoginLinkIssuedV1.subject, stream=JStream(SECRETS.name, declare=False),
                       durable="notify-faststream-test", pull_sub=PullSub(batch_size=1, timeout=1),
                       inbox_prefix=pull_inbox_prefix(bus.urls["notify"]),
                       config=FsConsumerConfig(durable_name="notify-faststream-test",
                                               filter_subject=LoginLinkIssuedV1.subject,
                                               deliver_policy=DeliverPolicy.NEW))
    async def on_link(body: str) -> None:
        await received.put(("secret", body))

    @notify.subscriber(SessionsRevokedV1.subject, stream=JStream("IDENTITY", declare=False), ordered_consumer=True,
                       deliver_policy=DeliverPolicy.NEW, ack_policy=FsAckPolicy.MANUAL)
    async def on_revoked(body: str) -> None:
        await received.put(("revoked", body))

    @notify.subscriber(ReadDevMailboxV1.subject, queue="notify")
    async def mailbox(body: str) -> str:
        return "pong"

    async with notify, gateway, identity:
        await notify.start()
        await gateway.start()
        await identity.start()
        # As ServiceBus.start does: once the server has processed notify's subscriptions, the request finds them.
        await notify.config.connection_state.connection.flush()
        assert (await ask_until_answered(gateway, ReadDevMailboxV1.subject)).body == b"pong"
        token = uuid.uuid4().hex
        await identity.publish(token, LoginLinkIssuedV1.subject, stream=SECRETS.name)
        await identity.publish(token, SessionsRevokedV1.subject, stream="IDENTITY")
        seen = {await asyncio.wait_for(received.get(), 10), await asyncio.wait_for(received.get(), 10)}
        assert seen == {("secret", token), ("revoked", token)}


@pytest.mark.unit
def test_carnet_nats_config_prints_and_writes_the_rendering(tmp_path):
    cli = typer.Typer()
    cli.command()(nats_config)
    printed = CliRunner().invoke(cli, [])
    assert printed.exit_code == 0 and printed.output == render_accounts()
    written = CliRunner().invoke(cli, ["--out", str(tmp_path)])
    assert written.exit_code == 0, written.output
    assert (tmp_path / "accounts.conf").read_text() == (DEPLOY / "accounts.conf").read_text()
    assert (tmp_path / "nats-server.conf").read_text() == (DEPLOY / "nats-server.conf").read_text()
    assert "CARNET_NATS_PASSWORD_DATA_IMPORT" in written.output


@pytest.mark.integration
async def test_the_operator_lists_and_replays_a_dead_letter_to_the_consumer_that_gave_up(bus, streams):
    async with Client(bus, "notebook") as notebook, Client(bus, "directory") as directory, \
            Client(bus, "operator") as operator:
        durable = f"directory-dead-letter-test-{uuid.uuid4().hex[:6]}"
        event_id = uuid.uuid4().hex
        published = await notebook.js.publish(BeneficiaryCreatedV1.subject, event_id.encode(),
                                              headers={"Nats-Msg-Id": event_id})
        pull = await directory.js.pull_subscribe(BeneficiaryCreatedV1.subject, durable=durable,
                                                 config=ConsumerConfig(deliver_policy=DeliverPolicy.LAST_PER_SUBJECT))
        [message] = await pull.fetch(1, timeout=5)
        await message.term()  # a message that can never succeed: its advisory lands in DEADLETTER

        async def on_replay(request) -> None:  # what the consumer's replica does: read the original again
            wanted = json.loads(request.data)
            original = await directory.js.get_msg(wanted["stream"], wanted["stream_seq"])
            await request.respond(json.dumps({"ok": original.data == event_id.encode()}).encode())

        await directory.nc.subscribe(REPLAY_SUBJECT.format(consumer=durable), queue=durable, cb=on_replay)
        await directory.nc.flush()
        letters: list = []
        for _ in range(50):
            letters = [letter for letter in await list_dead_letters(operator.js) if letter.consumer == durable]
            if letters:
                break
            await asyncio.sleep(0.1)
        [letter] = letters
        assert (letter.stream, letter.stream_seq, letter.reason) == ("NOTEBOOK", published.seq, "terminated")
        await replay(operator.js, letter, timeout_s=5)
        assert not operator.violations and not directory.violations and not notebook.violations


async def pieces(data: bytes, size: int = 50_000):
    for start in range(0, len(data), size):
        yield data[start:start + size]


async def read_all(store, name: str) -> bytes:
    return b"".join([chunk async for chunk in read_stream(store, name)])


@pytest.mark.integration
async def test_the_gateway_shares_the_uploads_bucket_with_the_import_service_and_the_exports_one_with_the_notebook(
        bus, streams):
    async with Client(bus, "data_import") as importer, Client(bus, "gateway") as gateway, \
            Client(bus, "notebook") as notebook:
        importer_store = await uploads(importer.js)  # the import service creates the bucket
        gateway_store = await uploads(gateway.js)
        upload = os.urandom(2 * CHUNK_BYTES + 10)
        await put_stream(gateway_store, "imports/private-bus", pieces(upload), max_bytes=len(upload))
        assert await read_all(importer_store, "imports/private-bus") == upload
        await importer_store.put("reports/private-bus.csv", "Ligne;Statut\n".encode())
        assert await read_all(gateway_store, "reports/private-bus.csv") == b"Ligne;Statut\n"
        with pytest.raises(TooLarge):  # what it wrote of an upload over the limit is purged
            await put_stream(gateway_store, "imports/too-big", pieces(upload), max_bytes=CHUNK_BYTES)
        assert not gateway.violations and not importer.violations

        event_id = uuid.uuid4().hex
        published = await notebook.js.publish(BeneficiaryCreatedV1.subject, event_id.encode(),
                                              headers={"Nats-Msg-Id": event_id})
        with pytest.raises(NatsTimeoutError):
            await gateway.js.get_msg("NOTEBOOK", published.seq)
        await gateway.violation("$JS.API.STREAM.MSG.GET.NOTEBOOK")
        with pytest.raises(NatsTimeoutError):
            await gateway.js.subscribe(BeneficiaryCreatedV1.subject, ordered_consumer=True, stream="NOTEBOOK")
        await gateway.violation("$JS.API.CONSUMER.CREATE.NOTEBOOK")
        with pytest.raises(NatsTimeoutError):  # nor another bucket, nor another user's objects store
            await gateway.js.create_object_store("elsewhere")
        await gateway.violation("$JS.API.STREAM.CREATE.OBJ_elsewhere")
        notebook_store = await notebook.js.object_store("uploads")  # a stream's state is anyone's to ask
        with pytest.raises(NatsTimeoutError):
            await read_all(notebook_store, "imports/private-bus")
        await notebook.violation("OBJ_uploads")

        # Export files: the notebook creates its own bucket and writes, the gateway reads; the import service no.
        exports_store = await bucket(notebook.js, EXPORTS_BUCKET)
        await put_stream(exports_store, "exports/private-bus.csv", pieces(b"Nom;Pr\xc3\xa9nom\r\n"), max_bytes=100)
        assert await read_all(await gateway.js.object_store(EXPORTS_BUCKET), "exports/private-bus.csv") == \
            b"Nom;Pr\xc3\xa9nom\r\n"
        with pytest.raises(NatsTimeoutError):
            await read_all(await importer.js.object_store(EXPORTS_BUCKET), "exports/private-bus.csv")
        await importer.violation("OBJ_exports")


@pytest.mark.integration
async def test_a_service_sweeps_its_own_stream_of_a_purged_beneficiary_and_no_other_stream(bus, streams):
    """Retention (issue 21): the notebook deletes its messages naming her, keeps the others; identity may not touch
    the notebook's stream."""
    from nats.js.errors import NotFoundError

    from servicekit.retention import SWEPT_STREAMS, forget_in_streams

    async with Client(bus, "notebook") as notebook, Client(bus, "identity") as identity:
        her = uuid.uuid4()
        about_her = json.dumps({"profile_id": str(her), "lastname": "Tifour"}).encode()
        gone = await notebook.js.publish(BeneficiaryCreatedV1.subject, about_her,
                                         headers={"Nats-Msg-Id": uuid.uuid4().hex})
        kept = await notebook.js.publish(BeneficiaryCreatedV1.subject, b'{"lastname": "Autre"}',
                                         headers={"Nats-Msg-Id": uuid.uuid4().hex})
        assert await forget_in_streams(notebook.js, SWEPT_STREAMS["notebook"], [her]) == 1
        with pytest.raises(NotFoundError):
            await notebook.js.get_msg("NOTEBOOK", gone.seq)
        assert (await notebook.js.get_msg("NOTEBOOK", kept.seq)).data == b'{"lastname": "Autre"}'
        assert not notebook.violations
        with pytest.raises(NatsTimeoutError):
            await identity.js.delete_msg("NOTEBOOK", kept.seq)
        await identity.violation("$JS.API.STREAM.MSG.DELETE.NOTEBOOK")
