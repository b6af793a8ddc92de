"""Who may do what on the bus: one table, from which the nats-server configuration is rendered.

Each service connects with its own user and may only: publish its events (``<owner>.>``, and
``secret.<owner>.>`` when contracts say it issues one-time secrets), the RPCs it calls and the replies to the
requests it received (``allow_responses``); serve its RPCs (``rpc.<name>.>``); consume, through JetStream, the
events it names here, and nothing else of any stream. The gateway makes requests, and follows the structures' and
accounts' events only (``GATEWAY_FOLLOWS``). The operator (``carnet up``, ``carnet seed``, ``carnet dlq``)
administers streams and dead letters but cannot read one-time secrets either.

Replies go to the requester's own inbox, ``_INBOX.<user>.>`` (``inbox_prefix``): with one ``_INBOX.>`` for all,
any user could read the answers to everyone else's requests (access tokens among them).

``deploy/nats/`` holds the rendering (``carnet nats-config --out deploy/nats``), passwords left to environment
variables; ``carnet up`` and the test kit run the same file with passwords of their own (``start_private_nats``).
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import IO
from urllib.parse import quote

from contracts.base import IntegrationEvent, RpcRequest
from contracts.audit import AUDIT_EVENTS
from contracts.bilans import BilanCreatedV1
from contracts.bulk_orientation import BulkOrientationDecidedV1
from contracts.exchanges import ExchangePostedV1
from contracts.directory import (
    OrientationSystemCreatedV1,
    SeedDemoTerritoryV1,
    StructureCreatedV1,
    StructureUpdatedV1,
)
from contracts.identity import (
    AccountDeactivatedV1,
    AccountProfileChangedV1,
    CreateAdministratorV1,
    GetJwksV1,
    GetMeV1,
    LoginLinkIssuedV1,
    SeedDemoAccountsV1,
    SessionsRevokedV1,
    SignupRequestedV1,
    SmsCodeIssuedV1,
)
from contracts.imports import OWNER_IMPORT_RPCS, UPLOADS_BUCKET, ImportCompletedV1, ListImportsV1
from contracts.notebook import (
    AppointmentBookedV1,
    AppointmentChangedV1,
    BeneficiaryContactChangedV1,
    CONTRACT_EVENTS,
    ListContractsEndingV1,
    ListWaitingForReferentV1,
    MemberAddedV1,
    OrientationChangedV1,
    ReferentChangedV1,
    ReorientationDeniedV1,
    SeedDemoNotebooksV1,
)
from contracts.notify import MessageFailedV1
from contracts.pilotage import EXPORTS_BUCKET, ExportRequestedV1, NotebookChangedV1
from contracts.transfers import TRANSFER_EVENTS, TransferAcceptedV1
from contracts.rights import RIGHTS_EVENTS, GetMySubjectValuesV1
from contracts.partners import (
    PARTNER_MESSAGES,
    PARTNER_PREFIX,
    TRUSTED_PARTNER_RPCS,
    PartnerMessageRejectedV1,
    partner_subject,
)
from contracts.profiles import (
    PROFILE_DEACTIVATED_EVENTS,
    PROFILE_STATE_EVENTS,
    BeneficiaryCreatedV1,
    BeneficiaryDeactivatedV1,
    DeploymentCreatedV1,
)
from contracts.registry import load_all
from contracts.retention import PURGED_EVENTS, GetRetentionSubjectV1, RetentionDueV1, RunRetentionV1
from contracts.streams import ALL_STREAMS, DEADLETTER, SECRETS, stream_for_subject
# A running process's names of the bus, here for the tools and tests that read them from this module.
from servicekit.bus_names import (INBOX, SWEPT_STREAMS, credentials, inbox_of, inbox_prefix,  # noqa: F401
                                  pull_inbox_prefix, redacted, server_urls, without_credentials)

GATEWAY = "gateway"
# The events the gateway follows, each dropping what it holds: the structures' (gateway.web.structure_offers) and
# the accounts' (gateway.auth.me_cache). Otherwise it only makes requests.
GATEWAY_STRUCTURE_EVENTS: tuple[type[IntegrationEvent], ...] = (StructureCreatedV1, StructureUpdatedV1)
GATEWAY_ACCOUNT_EVENTS: tuple[type[IntegrationEvent], ...] = (SessionsRevokedV1, AccountDeactivatedV1,
                                                              AccountProfileChangedV1)
GATEWAY_FOLLOWS: tuple[type[IntegrationEvent], ...] = (*GATEWAY_STRUCTURE_EVENTS, *GATEWAY_ACCOUNT_EVENTS)
OPERATOR = "operator"
ACCOUNT = "CARNET"
# What the production server listens on and keeps its streams in (deploy/nats/nats-server.conf).
DEPLOY_LISTEN = "0.0.0.0:4222"
DEPLOY_STORE_DIR = "/data/nats"


@dataclass(frozen=True)
class ServiceAccess:
    """One service on the bus. Its RPCs (``rpc.<name>.>``) and events (``<owner>.>``) follow from its name;
    what it consumes and calls of the others is listed, since that is what it may read or ask."""

    name: str
    consumes: tuple[type[IntegrationEvent], ...] = ()
    calls: tuple[type[RpcRequest], ...] = ()
    # Followed from a recent start time with an ordered (ephemeral push) consumer: the session revocations.
    follows: tuple[type[IntegrationEvent], ...] = ()
    owner: str = ""  # first token of its events and name of its stream, when it is not its name
    # Object store buckets it reads and writes (and creates when missing).
    object_stores: tuple[str, ...] = ()

    @property
    def event_owner(self) -> str:
        return self.owner or self.name


# Every service but identity checks tokens: it asks identity for its keys and follows session revocations.
TOKEN_CHECKS = dict(calls=(GetJwksV1,), follows=(SessionsRevokedV1,))

SERVICE_ACCESS: tuple[ServiceAccess, ...] = (
    ServiceAccess(
        "identity", consumes=(*PROFILE_STATE_EVENTS, *PROFILE_DEACTIVATED_EVENTS, DeploymentCreatedV1)),
    ServiceAccess(
        "directory", consumes=(BeneficiaryCreatedV1, BeneficiaryDeactivatedV1, AccountProfileChangedV1,
                               MessageFailedV1, TransferAcceptedV1), **TOKEN_CHECKS),
    ServiceAccess(
        "notebook",
        consumes=(*(e for e in (*PROFILE_STATE_EVENTS, *PROFILE_DEACTIVATED_EVENTS)
                    if e.subject.startswith("directory.")),
                  StructureCreatedV1, StructureUpdatedV1, OrientationSystemCreatedV1, MessageFailedV1,
                  DeploymentCreatedV1,
                  # Its own: the pilotage read model and the export worker run off the request path.
                  NotebookChangedV1, ExportRequestedV1,
                  # The import service's: the dashboards' « Imports et flux » (issue 18 item 3).
                  ImportCompletedV1),
        # An export of the imports' list asks the import service, with the asker's token; export files go to the
        # object store, where the gateway streams them from.
        calls=(*TOKEN_CHECKS["calls"], ListImportsV1), follows=TOKEN_CHECKS["follows"],
        object_stores=(EXPORTS_BUCKET,)),
    # The owners' import RPCs trust the actor they carry: only the import service sends them.
    # The uploaded files, reports and templates travel through the object store, between it and the gateway.
    # It asks identity who opens an import (their name, and their address for the summary when it ends).
    # Partners' messages (stream PARTNER) are checked with identity and applied by the notebook (see PARTNER_CONSUMER).
    ServiceAccess("data_import", owner="import", consumes=PARTNER_MESSAGES,
                  calls=(GetJwksV1, GetMeV1, *OWNER_IMPORT_RPCS, *TRUSTED_PARTNER_RPCS),
                  follows=(SessionsRevokedV1,),
                  object_stores=(UPLOADS_BUCKET,)),
    ServiceAccess(
        "notify",
        consumes=(LoginLinkIssuedV1, SmsCodeIssuedV1, SignupRequestedV1, AccountDeactivatedV1, MemberAddedV1,
                  ReferentChangedV1, AppointmentBookedV1, AppointmentChangedV1, OrientationChangedV1,
                  ReorientationDeniedV1, BeneficiaryContactChangedV1, AccountProfileChangedV1, ImportCompletedV1,
                  *CONTRACT_EVENTS, BilanCreatedV1, ExchangePostedV1, *TRANSFER_EVENTS, BulkOrientationDecidedV1,
                  *RIGHTS_EVENTS),
        calls=(GetJwksV1, GetMeV1, ListWaitingForReferentV1, ListContractsEndingV1), follows=(SessionsRevokedV1,)),
    # The audit trail (issue 21): every owner's audit events, appended to its hash-chained log; it publishes none.
    ServiceAccess("audit", consumes=AUDIT_EVENTS, **TOKEN_CHECKS),
)
# Retention (issue 21): the notebook announces each notebook due (ids only); identity, notify and the import service
# erase what they hold (the last two ask the notebook which values to look for) and confirm; the notebook erases its
# own rows once all confirmed.
_RETENTION = {"identity": ((RetentionDueV1,), ()), "notify": ((RetentionDueV1,), (GetRetentionSubjectV1,)),
              "data_import": ((RetentionDueV1,), (GetRetentionSubjectV1, GetMySubjectValuesV1)),
              "notebook": (PURGED_EVENTS, ())}
SERVICE_ACCESS = tuple(
    replace(a, consumes=(*a.consumes, *_RETENTION[a.name][0]), calls=(*a.calls, *_RETENTION[a.name][1]))
    if a.name in _RETENTION else a for a in SERVICE_ACCESS)
# Demo seeds: the operator's, never the gateway's.
OPERATOR_RPCS: tuple[type[RpcRequest], ...] = (SeedDemoAccountsV1, SeedDemoTerritoryV1, SeedDemoNotebooksV1)
# Retention's run now (``carnet retention run``) and the values a purge looks for: never the gateway's.
OPERATOR_RPCS += (RunRetentionV1, GetRetentionSubjectV1)
# A new installation's first national administrator (``carnet admin create``): the operator's only.
OPERATOR_RPCS += (CreateAdministratorV1,)
# Asked by a service for the beneficiary whose token it forwards (her copy of her data): a service's, never the
# gateway's (the NIR travels in clear in its reply).
SERVICES_ONLY_RPCS: tuple[type[RpcRequest], ...] = (GetMySubjectValuesV1,)

# Partner software (issue 16) publishes on ``partner.<name>.>`` with a user of its own, and reads the refusals of its
# messages on ``partner.<name>.rejected.v1``; nothing else. The import service consumes their messages (stream
# PARTNER), asks identity which territories the partner serves, has the notebook apply them (RPCs that trust the
# partner they carry: the gateway may not send them), and answers refusals. Partners are named by
# ``CARNET_PARTNERS`` (comma-separated; ``rdvi`` by default) when the configuration is rendered.
PARTNER_CONSUMER = "data_import"
PARTNER_SENDER = "partner"  # who publishes partner messages, in the AsyncAPI document


def partner_names() -> tuple[str, ...]:
    names = os.environ.get("CARNET_PARTNERS", "rdvi")
    return tuple(dict.fromkeys(name.strip() for name in names.split(",") if name.strip()))


def partner_user(partner: str) -> str:
    return f"partner_{partner}"


PARTNER_USERS: tuple[str, ...] = tuple(partner_user(name) for name in partner_names())
USERS: tuple[str, ...] = (*(service.name for service in SERVICE_ACCESS), GATEWAY, OPERATOR, *PARTNER_USERS)


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    publish_deny: tuple[str, ...] = ()
    allow_responses: bool = False  # may answer a request it received, on the reply subject only


def _unique(subjects) -> tuple[str, ...]:
    return tuple(dict.fromkeys(subjects))


def secrets_read() -> tuple[str, ...]:
    """The JetStream requests that read SECRETS (a consumer, a fetch, a message by sequence)."""
    api = "$JS.API"
    return (f"{api}.CONSUMER.CREATE.{SECRETS.name}", f"{api}.CONSUMER.CREATE.{SECRETS.name}.>",
            f"{api}.CONSUMER.DURABLE.CREATE.{SECRETS.name}.>", f"{api}.CONSUMER.MSG.NEXT.{SECRETS.name}.>",
            f"{api}.STREAM.MSG.GET.{SECRETS.name}", f"{api}.DIRECT.GET.{SECRETS.name}",
            f"{api}.DIRECT.GET.{SECRETS.name}.>")


def _consuming(streams: set[str]) -> list[str]:
    """Durable pull consumers on these streams: create one (legacy and newer forms), read its state, fetch, ack or
    NAK, and read one message again (a dead letter's replay). The legacy form carries the filter in its body, so
    the stream is the finest grain the server can check."""
    allowed = []
    for stream in sorted(streams):
        allowed += [f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.*", f"$JS.API.CONSUMER.CREATE.{stream}.>",
                    f"$JS.API.CONSUMER.INFO.{stream}.*", f"$JS.API.CONSUMER.MSG.NEXT.{stream}.*",
                    f"$JS.ACK.{stream}.>", f"$JS.API.STREAM.MSG.GET.{stream}"]
    return allowed


def _following(streams: set[str]) -> list[str]:
    """Ordered consumers: ephemeral push consumers delivering to the user's inbox, with flow control."""
    allowed = []
    for stream in sorted(streams):
        allowed += [f"$JS.API.CONSUMER.CREATE.{stream}", f"$JS.API.CONSUMER.CREATE.{stream}.>",
                    f"$JS.API.CONSUMER.INFO.{stream}.*", f"$JS.FC.{stream}.>"]
    return allowed


def object_store(bucket: str, *, create: bool) -> list[str]:
    """One object store bucket (stream ``OBJ_<bucket>``): write chunks and meta (``$O.<bucket>.>``), read an
    object's info (a message by subject, direct or not), read its chunks with an ordered consumer, purge the chunks
    of a failed upload; and create the bucket when ``create``. Nothing of any other stream."""
    stream, api = f"OBJ_{bucket}", "$JS.API"
    return [f"$O.{bucket}.>", f"{api}.STREAM.INFO.{stream}", f"{api}.STREAM.PURGE.{stream}",
            f"{api}.STREAM.MSG.GET.{stream}", f"{api}.DIRECT.GET.{stream}", f"{api}.DIRECT.GET.{stream}.>",
            f"{api}.CONSUMER.CREATE.{stream}", f"{api}.CONSUMER.CREATE.{stream}.>",
            f"{api}.CONSUMER.INFO.{stream}.*", f"{api}.CONSUMER.DELETE.{stream}.*", f"$JS.FC.{stream}.>",
            *([f"{api}.STREAM.CREATE.{stream}"] if create else [])]


def _streams(events) -> set[str]:
    return {stream_for_subject(event.subject).name for event in events}


# Read-only questions any user may ask JetStream (which stream holds a subject, a stream's state), and the
# creation of the streams of contracts: ``ensure_streams`` at a service's start creates them if missing and is
# answered "unchanged" otherwise; changing one (UPDATE) is the operator's.
JETSTREAM_COMMON = ("$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.INFO.*",
                    *(f"$JS.API.STREAM.CREATE.{spec.name}" for spec in ALL_STREAMS))


def _sweeping(access: ServiceAccess) -> list[str]:
    """Retention (issue 21): a service reads and deletes the messages of the streams it sweeps (its own; the partners'
    for the import service) that mention a purged beneficiary (``servicekit.retention.SWEPT_STREAMS``)."""
    return [subject for stream in SWEPT_STREAMS.get(access.name, ())
            for subject in (f"$JS.API.STREAM.MSG.GET.{stream}", f"$JS.API.STREAM.MSG.DELETE.{stream}")]


def service_permissions(access: ServiceAccess) -> Permissions:
    owner = access.event_owner
    issues_secrets = any(subject.startswith(f"secret.{owner}.") for subject, _ in load_all())
    publish = [f"{owner}.>", *([f"secret.{owner}.>"] if issues_secrets else []),
               *(request.subject for request in access.calls), *JETSTREAM_COMMON,
               *_consuming(_streams(access.consumes)), *_following(_streams(access.follows)),
               *(subject for bucket in access.object_stores for subject in object_store(bucket, create=True))]
    publish += _sweeping(access)
    subscribe = [f"rpc.{access.name}.>", *(["dlq.replay.*"] if access.consumes else []), f"{inbox_of(access.name)}.>"]
    if access.name == PARTNER_CONSUMER:  # the refusals it answers, on the partners' side of the bus
        publish.append(PartnerMessageRejectedV1.subject)
    return Permissions(publish=_unique(publish), subscribe=_unique(subscribe), allow_responses=True)


def gateway_permissions() -> Permissions:
    # Uploads streamed into the bucket and reports streamed out of it; the import service creates it. Export files
    # streamed out of theirs, which the notebook creates. The structures' and accounts' events, followed with ordered
    # consumers: they drop what the gateway holds (gateway.web.structure_offers, gateway.auth.me_cache); like a
    # service, it creates the streams of contracts when missing, so that it may start first.
    return Permissions(publish=("rpc.>", *object_store(UPLOADS_BUCKET, create=False),
                                *object_store(EXPORTS_BUCKET, create=False), *JETSTREAM_COMMON,
                                *_following(_streams(GATEWAY_FOLLOWS))),
                       publish_deny=tuple(r.subject for r in (*OPERATOR_RPCS, *OWNER_IMPORT_RPCS,
                                                              *TRUSTED_PARTNER_RPCS, *SERVICES_ONLY_RPCS)),
                       subscribe=(f"{inbox_of(GATEWAY)}.>",))


def operator_permissions() -> Permissions:
    # Streams and consumers (carnet up's ensure_streams, carnet dlq list), a dead letter's mark and its replay,
    # any RPC (the seeds); every read of SECRETS refused.
    return Permissions(
        publish=("$JS.API.>", f"$JS.ACK.{DEADLETTER.name}.>", "deadletter.replayed.>", "dlq.replay.*", "rpc.>"),
        publish_deny=secrets_read(), subscribe=(f"{inbox_of(OPERATOR)}.>",))


def partner_permissions(partner: str) -> Permissions:
    """Its own messages, and the answers to them: refusals, JetStream's acks (its inbox). Nothing of the system's,
    nor any other subject under its prefix: the stream PARTNER would keep it, read by no one, for 30 days."""
    own = f"{PARTNER_PREFIX}.{partner}"
    return Permissions(publish=tuple(kind.subject.replace(f"{PARTNER_PREFIX}.*.", f"{own}.", 1)
                                     for kind in PARTNER_MESSAGES), publish_deny=(f"{own}.rejected.>",),
                       subscribe=(partner_subject(partner, "rejected"), f"{inbox_of(partner_user(partner))}.>"))


def publisher_of(subject: str) -> str:
    """The user that may publish this event or secret: its owner service (a test standing in for it); for a
    partner's subject, the partner (``PARTNER_SENDER``), or the import service for the refusals it answers."""
    if subject.startswith(f"{PARTNER_PREFIX}."):
        return PARTNER_CONSUMER if subject == PartnerMessageRejectedV1.subject else PARTNER_SENDER
    owner = subject.removeprefix("secret.").split(".", 1)[0]
    return next(access.name for access in SERVICE_ACCESS if access.event_owner == owner)


def permissions() -> dict[str, Permissions]:
    table = {access.name: service_permissions(access) for access in SERVICE_ACCESS}
    partners = {partner_user(name): partner_permissions(name) for name in partner_names()}
    return {**table, GATEWAY: gateway_permissions(), OPERATOR: operator_permissions(), **partners}


# --- rendering ---------------------------------------------------------------------------------------------------
HEADER = "# Generated by `carnet nats-config` from libs/servicekit/src/servicekit/bus_access.py: do not edit.\n"


def password_variable(user: str) -> str:
    return f"CARNET_NATS_PASSWORD_{user.upper()}"


class Variable(str):
    """A value nats-server reads from its environment (``$NAME``), written unquoted."""


def _conf(value, indent: str = "") -> str:
    """nats-server's configuration syntax, for the dicts, lists, strings and booleans rendered here."""
    inner = indent + "  "
    if isinstance(value, dict):
        return "{\n" + "".join(f"{inner}{key}: {_conf(item, inner)}\n" for key, item in value.items()) + indent + "}"
    if isinstance(value, (list, tuple)):
        return "[\n" + "".join(f"{inner}{_conf(item, inner)}\n" for item in value) + indent + "]"
    if isinstance(value, Variable):
        return f"${value}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _user(user: str, perms: Permissions) -> dict:
    publish = {"allow": perms.publish, **({"deny": perms.publish_deny} if perms.publish_deny else {})}
    rules = {"publish": publish, "subscribe": {"allow": perms.subscribe},
             **({"allow_responses": True} if perms.allow_responses else {})}
    return {"user": user, "password": Variable(password_variable(user)), "permissions": rules}


def render_accounts() -> str:
    """The users and their permissions; each password is an environment variable of nats-server (see
    ``password_variable``): letters and digits, starting with a letter (nats-server parses the value)."""
    users = [_user(user, perms) for user, perms in permissions().items()]
    return (HEADER + "# One account for the services, the gateway and the operator; no user without a password.\n"
            + "accounts " + _conf({ACCOUNT: {"jetstream": "enabled", "users": users}}) + "\n")


@dataclass(frozen=True)
class ClusterNode:
    """One server of a JetStream cluster: its unique name (JetStream's peers are named), where it listens for the
    other servers, and the routes to all of them (its own included: nats-server skips it)."""

    name: str
    cluster_listen: str
    routes: tuple[str, ...]


def render_server(listen: str, store_dir: str, node: ClusterNode | None = None) -> str:
    """A single server; or, given ``node``, one server of the cluster, with the same accounts and permissions."""
    clustered = ""
    if node is not None:
        clustered = (f"server_name: {_conf(node.name)}\n" + "cluster " + _conf(
            {"name": CLUSTER_NAME, "listen": node.cluster_listen, "routes": list(node.routes)}) + "\n")
    return (HEADER + f"listen: {json.dumps(listen)}\n" + clustered + "jetstream " + _conf({"store_dir": store_dir})
            + "\n" "include ./accounts.conf\n")


# The deployed cluster (deploy/nats/cluster.conf): three servers reachable as nats-1, nats-2, nats-3 on the private
# network (compose service names; the Helm chart renders its own), each told its name by the environment. The route
# port stays on the private network: routes carry every account's messages.
CLUSTER_NAME = "carnet"
CLUSTER_SIZE = 3
SERVER_NAME_VARIABLE = "CARNET_NATS_SERVER_NAME"
DEPLOY_CLUSTER_LISTEN = "0.0.0.0:6222"
DEPLOY_ROUTES = tuple(f"nats-route://nats-{n}:6222" for n in range(1, CLUSTER_SIZE + 1))
DEPLOY_NODE = ClusterNode(Variable(SERVER_NAME_VARIABLE), DEPLOY_CLUSTER_LISTEN, DEPLOY_ROUTES)


def write_config(directory: Path, listen: str = DEPLOY_LISTEN, store_dir: str = DEPLOY_STORE_DIR) -> Path:
    """Writes ``nats-server.conf`` (one server), ``cluster.conf`` (each server of a 3-node cluster) and
    ``accounts.conf`` in ``directory``; returns the single server's file."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "accounts.conf").write_text(render_accounts())
    server = directory / "nats-server.conf"
    server.write_text(render_server(listen, store_dir))
    (directory / "cluster.conf").write_text(render_server(listen, store_dir, DEPLOY_NODE))
    return server


def user_url(user: str, password: str, host: str, port: int) -> str:
    return f"nats://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}"


def load_or_create_passwords(directory: Path) -> dict[str, str]:
    """One random password per user, kept in ``directory/passwords.json`` (0600) across runs."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    path = directory / "passwords.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    # A letter first and hex after: nats-server reads the value of a variable as a config value, never a number.
    passwords = {user: known.get(user) or "p" + secrets.token_hex(24) for user in USERS}
    if passwords != known:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(passwords, file, indent=2)
    path.chmod(0o600)
    return passwords


@dataclass
class PrivateNats:
    process: subprocess.Popen
    port: int
    urls: dict[str, str]  # user → nats://user:password@127.0.0.1:port

    def stop(self, timeout_s: float = 10) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout_s)


@dataclass(frozen=True)
class PrivateNatsSetup:
    config: Path  # nats-server -c <config>
    env: dict[str, str]  # the passwords, in nats-server's environment only
    urls: dict[str, str]  # user → nats://user:password@host:port


def prepare_private_nats(directory: Path, port: int, host: str = "127.0.0.1") -> PrivateNatsSetup:
    """Writes the configuration of ``deploy/nats/`` listening on ``host:port``, its files, streams and passwords in
    ``directory``. Passwords travel in the server's environment: its configuration stays the deployed one, word for
    word."""
    passwords = load_or_create_passwords(directory)
    config = write_config(directory, listen=f"{host}:{port}", store_dir=str(directory.resolve()))
    return PrivateNatsSetup(config, {password_variable(user): password for user, password in passwords.items()},
                            {user: user_url(user, password, host, port) for user, password in passwords.items()})


def start_private_nats(binary: str, directory: Path, log: IO[bytes] | int, port: int,
                       host: str = "127.0.0.1") -> PrivateNats:
    """Starts nats-server with ``prepare_private_nats``'s configuration; returns at once (wait for the port) with
    each user's URL."""
    setup = prepare_private_nats(directory, port, host)
    process = subprocess.Popen([binary, "-c", str(setup.config)], stdout=log, stderr=log,
                               env={**os.environ, **setup.env})
    return PrivateNats(process, port, setup.urls)


@dataclass(frozen=True)
class PrivateClusterSetup:
    configs: tuple[Path, ...]  # one per server: nats-server -c <config>
    env: dict[str, str]  # the passwords, in every server's environment only
    urls: dict[str, str]  # user → the URLs of every server, comma-separated (``server_urls``)


def prepare_private_cluster(directory: Path, ports: list[int], route_ports: list[int],
                            host: str = "127.0.0.1") -> PrivateClusterSetup:
    """``prepare_private_nats`` for a cluster of ``len(ports)`` servers on one host (``nats-1``…): the same accounts
    and permissions, each server with its own folder and store, routes to all of them."""
    passwords = load_or_create_passwords(directory)
    routes = tuple(f"nats-route://{host}:{port}" for port in route_ports)
    configs = []
    for n, (port, route_port) in enumerate(zip(ports, route_ports, strict=True), 1):
        folder = directory / f"nats-{n}"
        folder.mkdir(exist_ok=True)
        (folder / "accounts.conf").write_text(render_accounts())
        config = folder / "nats-server.conf"
        config.write_text(render_server(f"{host}:{port}", str((folder / "store").resolve()),
                                        ClusterNode(f"nats-{n}", f"{host}:{route_port}", routes)))
        configs.append(config)
    return PrivateClusterSetup(
        tuple(configs), {password_variable(user): password for user, password in passwords.items()},
        {user: ",".join(user_url(user, password, host, port) for port in ports)
         for user, password in passwords.items()})
