"""Partners over NATS (issue 16 item 5), on the private bus as deployed (every service, the gateway and the partner
with its own user and the generated permissions), on SQLite and PostgreSQL: partner ``rdvi`` publishes notebook and
appointment upserts on ``partner.rdvi.>``, each applied once however often it is delivered; a message refused is
answered on ``partner.rdvi.rejected.v1`` in French and dead-lettered; and the server itself refuses the partner
anything but its messages."""
from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Iterator

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeoutError

from contracts.partners import partner_subject
from contracts.streams import PARTNER
from servicekit.bus_access import inbox_prefix, partner_user, start_private_nats
from servicekit.deadletters import list_dead_letters, replay
from servicekit.topology import SERVICES_BY_NAME
from testkit.harness import gateway_process, service_process, stop_all
from testkit.infra import DatabaseFactory, bundled_nats_server, free_port, missing, wait_for_port
from testkit.system import E2E_SERVICES, RunningSystem, bearer
from tests.e2e.test_imports import ADMIN, ADMIN_TOKENS, open_territory
from tests.e2e.test_partners_rest import create_credential, run_example

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

PARTNER_NAME = "rdvi"
REFUSED_WITHIN_S = 0.5


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def private_system(request, database_templates, forkserver, tmp_path_factory) -> Iterator[RunningSystem]:
    backend = request.param
    admin_url = request.getfixturevalue("postgres_admin_url") if backend == "postgresql" else None
    if backend == "postgresql" and admin_url is None:
        pytest.skip("PostgreSQL is missing (DATABASE_ADMIN_URL)")
    binary = bundled_nats_server()
    if binary is None:
        missing("nats-server")
    folder = tmp_path_factory.mktemp(f"partners-{backend}")
    factory = DatabaseFactory(backend, folder, admin_url, database_templates)
    trace_file = folder / "spans.jsonl"
    common = {"CARNET_ENV": "dev", "CARNET_TRACE_FILE": str(trace_file), "CARNET_RPC_TIMEOUT_S": "5",
              "CARNET_VAR_DIR": str(folder / "var")}
    processes, urls = {}, {}
    with (folder / "nats.log").open("ab") as log:
        bus = start_private_nats(binary, folder / "nats", log, free_port())
    try:
        wait_for_port(bus.port)
        gateway = gateway_process({**common, "NATS_URL": bus.urls["gateway"]}, folder)
        for name in E2E_SERVICES:
            urls[name] = asyncio.run(factory.create(name, SERVICES_BY_NAME[name].migrations_dir))
            processes[name] = forkserver.start(service_process(
                name, {**common, "NATS_URL": bus.urls[name]}, urls[name], folder,
                {"CARNET_PUBLIC_URL": gateway.base_url}), wait=False)
        processes["gateway"] = forkserver.start(gateway, wait=False)
        for process in processes.values():
            process.wait_ready(90)
        system = RunningSystem(gateway.base_url, bus.urls["operator"], trace_file, folder, processes, urls)
        system.bus_urls = bus.urls
        asyncio.run(system.seed(ADMIN))
        yield system
    finally:
        stop_all(list(processes.values()), 10)
        bus.stop()
        asyncio.run(factory.drop_all())


class PartnerClient:
    """Partner rdvi's own connection: its user, its inbox, the permission errors the server reports to it."""

    def __init__(self, url: str) -> None:
        self.url, self.violations, self.rejections = url, [], []

    async def __aenter__(self):
        async def on_error(exc: Exception) -> None:
            self.violations.append(str(exc))

        self.nc = await nats.connect(self.url, inbox_prefix=inbox_prefix(self.url), error_cb=on_error,
                                     allow_reconnect=False)
        self.js = self.nc.jetstream(timeout=5)

        async def on_rejection(message) -> None:
            self.rejections.append(json.loads(message.data))

        await self.nc.subscribe(partner_subject(PARTNER_NAME, "rejected"), cb=on_rejection)
        await self.nc.flush()
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.nc.close()

    async def publish(self, event: str, body: dict | bytes, *, msg_id: str | None = None) -> None:
        """Into JetStream, acknowledged by the server (``msg_id`` None: no deduplication by the server)."""
        data = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
        await self.js.publish(partner_subject(PARTNER_NAME, event), data,
                              headers={"Nats-Msg-Id": msg_id} if msg_id else None)

    async def violation(self, fragment: str) -> None:
        for _ in range(50):
            if any(fragment.lower() in v.lower() for v in self.violations):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"no permissions violation about {fragment!r}: {self.violations}")

    async def rejection(self, event_id: str | None, timeout_s: float = 20) -> dict:
        for _ in range(int(timeout_s / 0.05)):
            found = [r for r in self.rejections if r.get("rejected_event_id") == event_id]
            if found:
                return found[-1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no rejection of {event_id}: {self.rejections}")


def new_nir() -> str:
    return f"2{random.randint(40, 99)}{random.randint(1, 12):02d}93{random.randint(0, 999_999):06d}"


def upsert(deployment_id: str, nir: str, event_id: str | None = None, **changes) -> dict:
    return {"event_id": event_id or str(uuid.uuid4()), "deploymentId": deployment_id,
            "notebook": {"nir": nir, "firstname": "Awa", "lastname": "Partenaire", "dateOfBirth": "1990-04-02",
                         "city": "Bobigny", **changes}}


async def served_territory(system: RunningSystem, client):
    """A territory, and a credential of rdvi scoped to it: what the partner may act in."""
    territory = await open_territory(system, client)
    await create_credential(client, ADMIN_TOKENS[system.base_url], PARTNER_NAME, territory.deployment_id)
    return territory


async def notebook_of(client, territory, lastname: str, timeout_s: float = 20) -> dict:
    """The notebook page of the one beneficiary of this name in the territory, once it exists."""
    for _ in range(int(timeout_s / 0.1)):
        found = (await client.get("/api/v1/notebooks", params={"q": lastname}, headers=territory.h)).json()
        if found["notebooks"]:
            [row] = found["notebooks"]
            return (await client.get(f"/api/v1/notebooks/{row['notebook_id']}", headers=territory.h)).json()
        await asyncio.sleep(0.1)
    raise AssertionError(f"no notebook of {lastname}")


async def applied(client, territory, lastname: str, predicate, timeout_s: float = 20) -> dict:
    for _ in range(int(timeout_s / 0.1)):
        page = await notebook_of(client, territory, lastname)
        if predicate(page):
            return page
        await asyncio.sleep(0.1)
    raise AssertionError(f"the notebook of {lastname} never got there: {page}")


async def test_the_server_refuses_a_partner_everything_but_its_messages(private_system):
    async with PartnerClient(private_system.bus_urls[partner_user(PARTNER_NAME)]) as partner:
        # Only its messages (the other tests publish them): anything else under its prefix would sit in the stream, read by no one, for 30 days.
        for subject in ("partner.autre.notebook.upsert.v1", "notebook.beneficiary.created.v1",
                        "rpc.notebook.apply_partner_notebook.v1", "partner.rdvi.rejected.v1", "partner.rdvi.probe.v1"):
            await partner.nc.publish(subject, b"{}")
            await partner.violation(f'publish to "{subject}"')
        for subject in ("partner.autre.rejected.v1", "secret.>", "_INBOX.data_import.>"):
            await partner.nc.subscribe(subject)
            await partner.violation(f'subscription to "{subject}"')
        with pytest.raises(NatsTimeoutError):
            await partner.nc.request("rpc.identity.partner_scope.v1", b'{"partner":"rdvi"}', timeout=REFUSED_WITHIN_S)
        with pytest.raises(Exception):
            await partner.js.stream_info(PARTNER.name)
    # Nor may the gateway send what trusts the partner it names.
    gateway = await nats.connect(private_system.bus_urls["gateway"], inbox_prefix="_INBOX.gateway",
                                 allow_reconnect=False)
    try:
        with pytest.raises(Exception):
            await gateway.request("rpc.notebook.apply_partner_notebook.v1", b"{}", timeout=REFUSED_WITHIN_S)
    finally:
        await gateway.close()


async def test_an_upsert_creates_then_updates_a_notebook_once_however_often_delivered(private_system):
    system = private_system
    async with system.client() as client, PartnerClient(system.bus_urls[partner_user(PARTNER_NAME)]) as partner:
        territory = await served_territory(system, client)
        nir, lastname = new_nir(), f"Partenaire{uuid.uuid4().hex[:6]}"
        first = upsert(territory.deployment_id, nir, lastname=lastname)
        for _ in range(3):  # sent three times, without the server's deduplication: the notebook counts it once
            await partner.publish("notebook.upsert", first)
        page = await notebook_of(client, territory, lastname)
        entries = lambda p, kind: [e for e in p["timeline"] if e["kind"] == kind]  # noqa: E731
        assert page["beneficiary"]["city"] == "Bobigny"

        moved = upsert(territory.deployment_id, nir, lastname=lastname, city="Pantin", mobileNumber="06 11 22 33 44")
        await partner.publish("notebook.upsert", moved)
        await partner.publish("notebook.upsert", moved)
        await partner.publish("notebook.upsert", first)  # a replay of the first: applied already, nothing
        # A last message, applied after the others (one consumer, in stream order): then all have been handled.
        marker = f"Marqueur{uuid.uuid4().hex[:6]}"
        await partner.publish("notebook.upsert", upsert(territory.deployment_id, new_nir(), lastname=marker))
        await notebook_of(client, territory, marker)
        page = await notebook_of(client, territory, lastname)
        assert (page["beneficiary"]["city"], page["beneficiary"]["mobile_number"]) == ("Pantin", "+33611223344")
        assert len(entries(page, "notebook")) == 1 and len(entries(page, "beneficiary")) == 1
        assert {e["source"] for e in page["timeline"]} == {"partner"}
        assert entries(page, "notebook")[0]["author_name"] == "Partenaire rdvi"
        assert partner.rejections == []


async def test_a_refused_message_is_answered_in_french_and_dead_lettered(private_system):
    system = private_system
    async with system.client() as client, PartnerClient(system.bus_urls[partner_user(PARTNER_NAME)]) as partner:
        territory = await served_territory(system, client)
        broken = upsert(territory.deployment_id, new_nir())
        del broken["notebook"]["dateOfBirth"]
        await partner.publish("notebook.upsert", broken)
        rejection = await partner.rejection(broken["event_id"])
        assert "obligatoire" in rejection["reason"] and rejection["rejected_subject"] == "partner.rdvi.notebook.upsert.v1"
        assert rejection["errors"][0]["loc"][-1] == "dateOfBirth"

        await partner.publish("notebook.upsert", b"pas du json")
        assert "JSON" in (await partner.rejection(None))["reason"]

        unserved = await open_territory(system, client)  # a territory rdvi does not serve (yet)
        lastname = f"Tardif{uuid.uuid4().hex[:6]}"
        elsewhere = upsert(unserved.deployment_id, new_nir(), lastname=lastname)
        await partner.publish("notebook.upsert", elsewhere)
        assert "habilité" in (await partner.rejection(elsewhere["event_id"]))["reason"]

        operator = await nats.connect(system.nats_url, inbox_prefix="_INBOX.operator", allow_reconnect=False)
        try:
            for _ in range(100):
                letters = [letter for letter in await list_dead_letters(operator.jetstream())
                           if letter.stream == PARTNER.name]
                if len(letters) >= 3:
                    break
                await asyncio.sleep(0.1)
            assert {letter.consumer for letter in letters} == {"data-import-partner-notebook-upsert"}
            # Once the territory is granted to the partner, the operator replays its dead letter: applied.
            await create_credential(client, ADMIN_TOKENS[system.base_url], PARTNER_NAME, unserved.deployment_id)
            await replay(operator.jetstream(), letters[-1])
        finally:
            await operator.close()
        page = await notebook_of(client, unserved, lastname)
        assert [e["source"] for e in page["timeline"]] == ["partner"]


async def test_an_appointment_is_recorded_once_then_its_status_changes(private_system):
    system = private_system
    async with system.client() as client, PartnerClient(system.bus_urls[partner_user(PARTNER_NAME)]) as partner:
        territory = await served_territory(system, client)
        structure_id = await territory.structure(f"Mission locale {uuid.uuid4().hex[:4]}")
        email = f"pro-{uuid.uuid4().hex[:8]}@ml.fr"
        await territory.person("professional", email, [structure_id], firstname="Paul", lastname="Conseil")
        pro_token = await territory.sign_in_person(email)
        nir, lastname = new_nir(), f"Rdv{uuid.uuid4().hex[:6]}"
        await partner.publish("notebook.upsert", upsert(territory.deployment_id, nir, lastname=lastname))
        notebook_id = (await notebook_of(client, territory, lastname))["notebook_id"]
        joined = await client.post(f"/api/v1/notebooks/{notebook_id}/members", json={}, headers=bearer(pro_token))
        assert joined.status_code == 200, joined.text

        def appointment(event_id: str, status: str) -> dict:
            return {"event_id": event_id, "deploymentId": territory.deployment_id, "appointment": {
                "appointmentId": "rdv-77", "nir": nir, "professionalEmail": email.upper(),
                "at": "2026-12-15T09:30:00+01:00", "status": status}}

        planned = appointment(str(uuid.uuid4()), "planned")
        await partner.publish("appointment.upsert", planned)
        await partner.publish("appointment.upsert", planned)
        page = await applied(client, territory, lastname, lambda p: p["appointments"])
        await partner.publish("appointment.upsert", appointment(str(uuid.uuid4()), "present"))
        page = await applied(client, territory, lastname, lambda p: p["appointments"][0]["status"] == "present")
        [booked] = page["appointments"]
        assert booked["person"]["lastname"] == "Conseil" and booked["version"] == 2
        assert len([e for e in page["timeline"] if e["kind"] == "appointment"]) == 2

        stranger = appointment(str(uuid.uuid4()), "planned")
        stranger["appointment"]["professionalEmail"] = "inconnu@ml.fr"
        await partner.publish("appointment.upsert", stranger)
        assert "groupe de suivi" in (await partner.rejection(stranger["event_id"]))["reason"]


async def test_the_example_client_publishes_as_a_partner_runs_it(private_system):
    system = private_system
    url = system.bus_urls[partner_user(PARTNER_NAME)]
    async with system.client() as client:
        territory = await served_territory(system, client)
        lastname = f"Exemple{uuid.uuid4().hex[:6]}"
        person = ["--nir", new_nir(), "--firstname", "Awa", "--lastname", lastname, "--birth-date", "1990-04-02",
                  "--city", "Bobigny"]
        code, out = await run_example("upsert-notebook", "--nats-url", url, "--partner", PARTNER_NAME,
                                      "--deployment", territory.deployment_id, *person)
        assert code == 0 and f"stocké : flux {PARTNER.name}" in out, out
        assert (await notebook_of(client, territory, lastname))["beneficiary"]["city"] == "Bobigny"

        unserved = await open_territory(system, client)
        code, out = await run_example("upsert-notebook", "--nats-url", url, "--partner", PARTNER_NAME,
                                      "--deployment", unserved.deployment_id, *person)
        assert code == 1 and "refusé : Ce partenaire n'est pas habilité sur ce territoire" in out, out
