"""France Travail's diagnostic argumenté in the notebook (spec §3.10), on SQLite and PostgreSQL, against a local fake
France Travail: asked in the background when a notebook older than an hour is opened, "Actualiser" for members,
kept encrypted and de-duplicated, "no dossier" recorded, France Travail down never a failure of ours, the nightly
run once per night whatever the replicas; the professionals' diagnostic is never touched."""
from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from contracts import notebook as c
from contracts.base import ErrorCode
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1
from contracts.identity import Role
from contracts.profiles import ManagerCreatedV1, ProfessionalCreatedV1
from notebook import bootstrap
from notebook.adapters.orm import ExternalData, FranceTravailSync, Notebook, NotebookVisit
from notebook.config import NotebookSettings
from notebook.domain.protection import FieldProtection
from notebook.handlers import france_travail
from notebook.handlers.deps import Deps
from servicekit.app import Service
from testkit.france_travail import Fault, LocalFranceTravail, diagnostic_argumente
from testkit.handlers import InMemoryService, answer_jwks, in_memory, refused, run_stop_work

pytestmark = pytest.mark.integration
PARIS_NIGHT = datetime(2026, 11, 24, 2, 30, tzinfo=UTC)  # 03:30 in Paris


@pytest.fixture(scope="module")
def fake() -> Iterator[LocalFranceTravail]:
    server = LocalFranceTravail().start()
    yield server
    server.stop()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    notebook: InMemoryService
    deps: Deps
    clock: Clock
    territory: uuid.UUID
    manager: str
    pro: str
    outsider: str  # a professional of the territory, not a member
    system: uuid.UUID
    token_mint: object

    async def new_notebook(self, *, nir: str | None = None, firstname: str = "Sophie") -> uuid.UUID:
        created = await self.notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
            firstname=firstname, lastname=f"Tifour{random.randint(0, 10**9)}", date_of_birth=date(1990, 4, 12),
            nir=nir or "")), self.manager)
        await self.notebook.call(c.JoinNotebookV1(notebook_id=created.notebook_id, as_referent=True,
                                                  orientation_system_id=self.system), self.pro)
        return created.notebook_id

    async def page(self, notebook_id: uuid.UUID, token: str | None = None) -> c.NotebookPage:
        return await self.notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), token or self.pro)


def new_nir() -> str:
    return f"1900426{random.randint(0, 999999):06d}"


def deps_of(settings: NotebookSettings, service: Service, clock: Clock) -> Deps:
    """What bootstrap gives the handlers, with a clock the test moves."""
    return Deps(sessions=service.sessions, outbox=service.outbox, settings=settings, verifier=service.verifier,
                protection=FieldProtection(settings.secret_key.get_secret_value().encode()),
                france_travail=bootstrap.france_travail(settings), clock=clock)


def settings_for(fake: LocalFranceTravail, database_url: str, *territories: uuid.UUID) -> NotebookSettings:
    return NotebookSettings(
        database_url=database_url, env="test", france_travail_auth_base_url=fake.url,
        france_travail_api_base_url=fake.url, france_travail_client_id=fake.client_id,
        france_travail_client_secret=fake.client_secret, france_travail_deployments=list(territories),
        france_travail_timeout_s=1, france_travail_max_tries=2, france_travail_refresh_wait_s=3)


@pytest.fixture
async def world(handler_databases, token_mint, fake) -> World:
    fake.faults.clear()
    territory, structure, system = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    settings = settings_for(fake, await handler_databases.url("notebook"), territory)
    service, clock = Service("notebook", settings), Clock()
    deps = deps_of(settings, service, clock)
    bootstrap.wire(service, deps)  # as the service wires them: its stop writes the access log's views
    answer_jwks(service, token_mint)
    async with in_memory(service) as (notebook,):
        manager_id, pro_id, outsider_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=system, deployment_id=territory,
                                                          name="Professionnel", orientation_type=OrientationType.pro))
        await notebook.deliver(StructureCreatedV1(structure_id=structure, deployment_id=territory,
                                                  name="Mission Locale", city="Valence"))
        await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=territory, firstname="Marie",
                                                lastname="Gérante", email=f"marie.{territory}@test.carnet.fr"))
        for profile_id, firstname in ((pro_id, "Pierre"), (outsider_id, "Simon")):
            await notebook.deliver(ProfessionalCreatedV1(
                profile_id=profile_id, deployment_id=territory, firstname=firstname, lastname="Pro",
                email=f"{firstname.lower()}.{territory}@test.carnet.fr", structure_ids=[structure],
                orientation_system_ids=[system]))

        def professional(profile_id):
            return token_mint.token(Role.professional, deployment_id=territory, profile_id=profile_id,
                                    structure_ids=[structure])

        yield World(notebook, deps, clock, territory,
                    token_mint.token(Role.manager, deployment_id=territory, profile_id=manager_id),
                    professional(pro_id), professional(outsider_id), system, token_mint)
    await deps.france_travail.client.aclose()


async def dossiers(deps: Deps, notebook_id: uuid.UUID) -> list[ExternalData]:
    async with deps.sessions() as session:
        return list((await session.scalars(select(ExternalData).join(
            Notebook, Notebook.beneficiary_id == ExternalData.beneficiary_id).where(
            Notebook.id == notebook_id, ExternalData.source == "france_travail_api")
            .order_by(ExternalData.created_at))).all())


async def test_opening_a_notebook_asks_france_travail_in_the_background_and_the_next_view_shows_it(world, fake):
    nir = new_nir()
    fake.add_person(nir, "1990-04-12", diagnostic_argumente())
    notebook_id = await world.new_notebook(nir=nir)

    first = await world.page(notebook_id)  # served at once, France Travail not asked yet
    assert first.france_travail.status == c.FranceTravailStatus.never and first.france_travail.refreshing
    assert await world.deps.france_travail.process_pending(world.deps) == 1

    page = await world.page(notebook_id)
    section = page.france_travail
    assert section.status == c.FranceTravailStatus.found and not section.refreshing
    assert section.received_at == world.clock.now and section.updated_on == date(2024, 3, 12)
    assert [k.label for k in section.constraints] == ["Développer sa mobilité"]
    assert [s.label for s in section.constraints[0].situations] == ["Dépendant des transports en commun"]
    assert [j.job for j in section.job_needs] == ["Aide-soignant / Aide-soignante"]
    # Kept apart: the professionals' diagnostic is as it was (empty), the dossier encrypted at rest.
    assert page.diagnostic.situations == [] and page.diagnostic.version == 1
    [kept] = await dossiers(world.deps, notebook_id)
    assert "mobilit" not in kept.data_encrypted and nir not in kept.data_encrypted and len(kept.sha256) == 64
    assert fake.client_secret not in page.model_dump_json()


async def test_within_the_hour_nothing_is_asked_then_an_unchanged_dossier_is_not_kept_twice(world, fake):
    nir = new_nir()
    identifiant = fake.add_person(nir, "1990-04-12", diagnostic_argumente())
    notebook_id = await world.new_notebook(nir=nir)
    await world.page(notebook_id)
    await world.deps.france_travail.process_pending(world.deps)
    asked = len(fake.calls)

    world.clock.now += timedelta(minutes=59)
    assert not (await world.page(notebook_id)).france_travail.refreshing
    assert await world.deps.france_travail.process_pending(world.deps) == 0 and len(fake.calls) == asked

    world.clock.now += timedelta(minutes=2)
    assert (await world.page(notebook_id)).france_travail.refreshing
    await world.deps.france_travail.process_pending(world.deps)
    assert len(fake.calls) == asked + 2
    assert len(await dossiers(world.deps, notebook_id)) == 1  # the same dossier: confirmed, not stored again
    assert (await world.page(notebook_id)).france_travail.received_at == world.clock.now

    fake.dossiers[identifiant] = diagnostic_argumente(conseiller="Nouveau conseiller")
    world.clock.now += timedelta(hours=1)
    await world.page(notebook_id)
    await world.deps.france_travail.process_pending(world.deps)
    assert len(await dossiers(world.deps, notebook_id)) == 2


async def test_no_dossier_and_no_nir_are_recorded_and_said(world, fake):
    unknown = await world.new_notebook(nir=new_nir(), firstname="Inconnue")
    without_nir = await world.new_notebook(firstname="Sansnir")
    for notebook_id in (unknown, without_nir):
        await world.page(notebook_id)
    asked = len(fake.calls)
    await world.deps.france_travail.process_pending(world.deps)

    assert len(fake.calls) == asked + 1  # the search for the one with a NIR; nothing for the other
    assert (await world.page(unknown)).france_travail.status == c.FranceTravailStatus.no_dossier
    assert (await world.page(without_nir)).france_travail.status == c.FranceTravailStatus.no_nir
    assert await dossiers(world.deps, unknown) == []


async def test_a_member_refreshes_now_and_france_travail_down_is_a_503_that_keeps_the_last_dossier(world, fake):
    nir = new_nir()
    fake.add_person(nir, "1990-04-12", diagnostic_argumente())
    notebook_id = await world.new_notebook(nir=nir)

    done = await world.notebook.call(c.RefreshFranceTravailV1(notebook_id=notebook_id), world.pro)
    assert (done.status, done.done) == (c.FranceTravailStatus.found, True)

    fake.fail_next(Fault(500))
    down = await refused(world.notebook.call(c.RefreshFranceTravailV1(notebook_id=notebook_id), world.pro))
    assert down.code == ErrorCode.unavailable
    assert down.message == "France Travail ne répond pas, réessayez plus tard."
    section = (await world.page(notebook_id)).france_travail
    assert section.status == c.FranceTravailStatus.unavailable and len(section.constraints) == 1

    fake.fail_next(Fault(delay_s=3))  # longer than the client waits: unavailable too, never a failure of ours
    slow = await refused(world.notebook.call(c.RefreshFranceTravailV1(notebook_id=notebook_id), world.manager))
    assert slow.code == ErrorCode.unavailable


async def test_only_members_and_managers_of_a_territory_using_the_api_may_refresh(world, fake, token_mint):
    notebook_id = await world.new_notebook(nir=new_nir())

    not_member = await refused(world.notebook.call(c.RefreshFranceTravailV1(notebook_id=notebook_id),
                                                   world.outsider))
    assert not_member.code == ErrorCode.forbidden
    elsewhere = token_mint.token(Role.manager, deployment_id=uuid.uuid4(), profile_id=uuid.uuid4())
    assert (await refused(world.notebook.call(c.RefreshFranceTravailV1(notebook_id=notebook_id), elsewhere))
            ).code == ErrorCode.not_found
    assert (await world.page(notebook_id, world.outsider)).france_travail is None  # the public card

    world.deps.settings.france_travail_deployments.remove(world.territory)  # a territory without the API
    try:
        off = await refused(world.notebook.call(c.RefreshFranceTravailV1(notebook_id=notebook_id), world.pro))
        assert off.code == ErrorCode.invalid
        assert (await world.page(notebook_id)).france_travail is None
    finally:
        world.deps.settings.france_travail_deployments.append(world.territory)


async def test_the_beneficiary_sees_the_section_on_their_own_notebook(world, fake, token_mint):
    nir = new_nir()
    fake.add_person(nir, "1990-04-12", diagnostic_argumente())
    notebook_id = await world.new_notebook(nir=nir)
    await world.notebook.call(c.RefreshFranceTravailV1(notebook_id=notebook_id), world.pro)
    page = await world.page(notebook_id)
    own = token_mint.token(Role.beneficiary, profile_id=page.beneficiary.beneficiary_id)

    mine = await world.notebook.call(c.GetNotebookPageV1(), own)
    assert mine.france_travail.status == c.FranceTravailStatus.found and mine.france_travail.constraints
    assert (await refused(world.notebook.call(c.RefreshFranceTravailV1(notebook_id=notebook_id), own))
            ).code == ErrorCode.forbidden


async def test_two_replicas_asking_at_once_ask_france_travail_once(world, fake):
    nir = new_nir()
    fake.add_person(nir, "1990-04-12", diagnostic_argumente())
    notebook_id = await world.new_notebook(nir=nir)
    other = deps_of(world.deps.settings, world.notebook.service, world.clock)

    results = await asyncio.gather(france_travail.sync_notebook(world.deps, notebook_id),
                                   france_travail.sync_notebook(other, notebook_id))
    assert sorted(results, key=str) == [None, c.FranceTravailStatus.found]
    assert len(await dossiers(world.deps, notebook_id)) == 1
    await other.france_travail.client.aclose()


async def test_the_night_refreshes_the_territory_once_whatever_the_replicas(world, fake):
    known = new_nir()
    fake.add_person(known, "1990-04-12", diagnostic_argumente())
    first, second = await world.new_notebook(nir=known), await world.new_notebook(nir=new_nir(), firstname="Autre")
    world.clock.now = PARIS_NIGHT
    other = deps_of(world.deps.settings, world.notebook.service, world.clock)

    assert await france_travail.refresh_territories(world.deps, PARIS_NIGHT - timedelta(hours=2)) is None  # 01:30
    runs = await asyncio.gather(france_travail.refresh_territories(world.deps, PARIS_NIGHT),
                                france_travail.refresh_territories(other, PARIS_NIGHT))
    assert sorted(runs, key=str) == [2, None]  # (other tests' territories are not this one's)
    assert await france_travail.refresh_territories(world.deps, PARIS_NIGHT + timedelta(hours=1)) is None
    async with world.deps.sessions() as session:
        statuses = {s.notebook_id: s.status for s in (await session.scalars(select(FranceTravailSync).where(
            FranceTravailSync.notebook_id.in_([first, second])))).all()}
    assert statuses == {first: "found", second: "no_dossier"}
    await other.france_travail.client.aclose()


async def test_the_stop_writes_the_views_the_access_log_still_holds(world):
    """The world is wired as the service (``bootstrap.wire``): a view still waiting to be written when a test ends
    is written by the stop, not cut off in a transaction whose connection then held SQLite's write lock (the next
    tests of the module waited on it until their timeout)."""
    notebook_id = await world.new_notebook()
    await world.page(notebook_id)
    await run_stop_work(world.notebook.service)
    async with world.deps.sessions() as session:
        assert await session.scalar(select(func.sum(NotebookVisit.views)).where(
            NotebookVisit.notebook_id == notebook_id)) == 1


async def test_the_stop_lets_a_refresh_asked_by_a_member_end(world, fake):
    nir = new_nir()
    fake.add_person(nir, "1990-04-12", diagnostic_argumente())
    notebook_id = await world.new_notebook(nir=nir)
    fake.fail_next(Fault(delay_s=0.3))  # France Travail slow: still asking when the service stops
    world.deps.france_travail.refresh_now(world.deps, notebook_id)
    await run_stop_work(world.notebook.service)
    async with world.deps.sessions() as session:
        sync = await session.get(FranceTravailSync, notebook_id)
    assert (sync.status, sync.claimed_until) == ("found", None)
