"""France Travail's diagnostic argumenté in the notebook (spec §3.10, §4.4): asked with the beneficiary's NIR and
birth date, kept as ``external_data`` (encrypted, a new row only when the dossier changed), shown in a section of
its own; the professionals' diagnostic is never touched.

When it is asked: when someone opens a notebook whose France Travail data is older than an hour (in the background,
after the page is served: the next view shows it), when a member presses "Actualiser depuis France Travail", and
each night for the notebooks of the territories using the API. A lease on the notebook's ``france_travail_sync`` row
makes one replica ask at a time; the night's run is claimed in the inbox, so it runs once whatever the replicas.
"""
from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.notebook import (
    FranceTravailRefreshReply,
    FranceTravailSection,
    FranceTravailStatus,
    RefreshFranceTravailV1,
)
from notebook.adapters.orm import Beneficiary, ExternalData, FranceTravailSync, Notebook
from notebook.config import NotebookSettings
from notebook.domain.france_travail import (
    FRESHNESS,
    UNAVAILABLE,
    FranceTravailUnavailable,
    canonical,
    diagnostic_of,
    fingerprint,
    is_stale,
)
from notebook.domain.habilitation import Operation
from notebook.handlers.caller import caller_of, open_notebook
from notebook.handlers.deps import Deps
from servicekit import inbox
from servicekit.db import upsert_insert
from servicekit.errors import Invalid, Unavailable
from servicekit.periodic import repeat

if TYPE_CHECKING:  # the HTTP client (httpx) is loaded only where France Travail is configured
    from notebook.adapters.france_travail import FranceTravailClient

log = structlog.get_logger("notebook.france_travail")
SOURCE = "france_travail_api"
PARIS = ZoneInfo("Europe/Paris")
# Longer than one exchange may take (a few requests, each with its timeout and 429 waits): a replica that died
# while asking leaves the notebook to the others after it.
LEASE = timedelta(minutes=10)
NIGHTLY_SCHEDULE = "notebook-france-travail-nightly"
NIGHTLY_WINDOW_H = 4  # the night's run starts between nightly_hour and this many hours later, not in the day
PERIODS = uuid.UUID("0b7d3c1e-5f29-4a8e-9c61-2e4f8a7d1b30")  # namespace of the nights' ids
NOT_ENABLED = "Ce territoire n'utilise pas l'API France Travail."
SHOWS_DOSSIER = (FranceTravailStatus.found, FranceTravailStatus.unavailable)


def enabled_for(settings: NotebookSettings, deployment_id: uuid.UUID) -> bool:
    return settings.france_travail_enabled and deployment_id in settings.france_travail_deployments


class FranceTravailRefresher:
    """The client and the refreshes asked by page views, done one after the other by the service's background
    task: a page never waits for France Travail, and a burst of views does not become a burst of requests."""

    def __init__(self, client: FranceTravailClient) -> None:
        self.client = client
        self._queue: asyncio.Queue[uuid.UUID] = asyncio.Queue()
        self._queued: set[uuid.UUID] = set()
        self._running: set[asyncio.Task] = set()

    def request(self, notebook_id: uuid.UUID) -> None:
        if notebook_id not in self._queued:
            self._queued.add(notebook_id)
            self._queue.put_nowait(notebook_id)

    def refresh_now(self, deps: Deps, notebook_id: uuid.UUID) -> asyncio.Task:
        """A refresh asked by a member: it goes on even when the member stops waiting for it."""
        task = asyncio.create_task(sync_notebook(deps, notebook_id, force=True))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def finish(self) -> None:
        """The refreshes members asked, ended (the service stops): cut off in a write, one would keep its lease and,
        on SQLite, leave the database's write lock in a connection nobody closes."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def process_pending(self, deps: Deps) -> int:
        """Every refresh asked so far (the background task's work; tests call it to wait for it)."""
        done = 0
        while not self._queue.empty():
            await self._process(deps, self._queue.get_nowait())
            done += 1
        return done

    async def run(self, deps: Deps) -> None:
        while True:
            await self._process(deps, await self._queue.get())

    async def _process(self, deps: Deps, notebook_id: uuid.UUID) -> None:
        self._queued.discard(notebook_id)
        try:
            await sync_notebook(deps, notebook_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # a database hiccup: the next view (or the night) asks again
            log.exception("france_travail_refresh_failed", notebook_id=str(notebook_id))


# --- one notebook ----------------------------------------------------------------------------------------------

async def sync_notebook(deps: Deps, notebook_id: uuid.UUID, *, force: bool = False) -> FranceTravailStatus | None:
    """Asks France Travail for the notebook's dossier and records the answer; None when nothing was asked (the
    territory does not use the API, the data is fresh, or another replica is asking)."""
    if deps.france_travail is None:
        return None
    async with deps.sessions() as session:
        found = (await session.execute(select(Notebook.deployment_id, Beneficiary).join(
            Beneficiary, Beneficiary.id == Notebook.beneficiary_id).where(Notebook.id == notebook_id))).first()
    if found is None or not enabled_for(deps.settings, found[0]):
        return None
    beneficiary: Beneficiary = found[1]
    if not await claim(deps, notebook_id, force=force):
        return None
    try:
        status, dossier = await ask(deps.france_travail.client, deps.protection.decrypt(beneficiary.nir_encrypted),
                                    beneficiary.date_of_birth)
        await record(deps, notebook_id, beneficiary.id, status, dossier)
    except BaseException:
        await release(deps, notebook_id)
        raise
    log.info("france_travail_synced", notebook_id=str(notebook_id), status=status.value)
    return status


async def ask(client: FranceTravailClient, nir: str, date_of_birth: date
              ) -> tuple[FranceTravailStatus, dict | None]:
    if not nir:
        return FranceTravailStatus.no_nir, None
    try:
        identifiant = await client.find_individual(nir, date_of_birth)
        dossier = await client.diagnostic(identifiant) if identifiant else None
    except FranceTravailUnavailable as failure:
        log.warning("france_travail_unavailable", reason=str(failure))  # never the NIR
        return FranceTravailStatus.unavailable, None
    if dossier is None:
        return FranceTravailStatus.no_dossier, None
    return FranceTravailStatus.found, dossier


async def claim(deps: Deps, notebook_id: uuid.UUID, *, force: bool) -> bool:
    """Takes the notebook's lease unless another replica holds it or (without ``force``) the data is fresh."""
    now = deps.clock()
    async with deps.sessions.begin() as session:
        insert = upsert_insert(session.bind.dialect.name)
        await session.execute(insert(FranceTravailSync).values(
            notebook_id=notebook_id, status=FranceTravailStatus.never.value).on_conflict_do_nothing(
            index_elements=["notebook_id"]))
        statement = update(FranceTravailSync).where(
            FranceTravailSync.notebook_id == notebook_id,
            or_(FranceTravailSync.claimed_until.is_(None), FranceTravailSync.claimed_until < now))
        if not force:
            statement = statement.where(or_(FranceTravailSync.checked_at.is_(None),
                                            FranceTravailSync.checked_at <= now - FRESHNESS))
        result = await session.execute(statement.values(claimed_until=now + LEASE)
                                       .execution_options(synchronize_session=False))
        return result.rowcount == 1


async def release(deps: Deps, notebook_id: uuid.UUID) -> None:
    async with deps.sessions.begin() as session:
        await session.execute(update(FranceTravailSync).where(FranceTravailSync.notebook_id == notebook_id)
                              .values(claimed_until=None).execution_options(synchronize_session=False))


async def record(deps: Deps, notebook_id: uuid.UUID, beneficiary_id: uuid.UUID, status: FranceTravailStatus,
                 dossier: dict | None) -> None:
    """The answer, and the dossier when it changed (a dossier already kept is only confirmed as of now)."""
    now = deps.clock()
    async with deps.sessions.begin() as session:
        values = {"status": status.value, "checked_at": now, "claimed_until": None}
        if dossier is not None:
            sha256 = fingerprint(dossier)
            if await latest_dossier(session, beneficiary_id, ExternalData.sha256) != sha256:
                session.add(ExternalData(beneficiary_id=beneficiary_id, source=SOURCE, sha256=sha256,
                                         data_encrypted=deps.protection.encrypt(canonical(dossier)),
                                         received_on=now.astimezone(PARIS).date(), created_at=now))
            values["received_at"] = now
        await session.execute(update(FranceTravailSync).where(FranceTravailSync.notebook_id == notebook_id)
                              .values(**values).execution_options(synchronize_session=False))


async def latest_dossier(session: AsyncSession, beneficiary_id: uuid.UUID, column):
    return await session.scalar(select(column).where(
        ExternalData.beneficiary_id == beneficiary_id, ExternalData.source == SOURCE)
        .order_by(ExternalData.created_at.desc()).limit(1))


# --- the page --------------------------------------------------------------------------------------------------

async def section_of(session: AsyncSession, deps: Deps, notebook: Notebook) -> FranceTravailSection | None:
    """The France Travail section of the page (None where the territory does not use the API); ``refreshing``
    when its data is older than an hour: the page then asks for it (the lease keeps it to one request)."""
    if deps.france_travail is None or not enabled_for(deps.settings, notebook.deployment_id):
        return None
    now = deps.clock()
    sync = await session.get(FranceTravailSync, notebook.id)
    if sync is None:
        return FranceTravailSection(refreshing=True)
    status = FranceTravailStatus(sync.status)
    section = FranceTravailSection(
        status=status, checked_at=sync.checked_at, received_at=sync.received_at,
        refreshing=is_stale(sync.checked_at, now))
    if status not in SHOWS_DOSSIER:
        return section
    encrypted = await latest_dossier(session, notebook.beneficiary_id, ExternalData.data_encrypted)
    if not encrypted:
        return section
    diagnostic = diagnostic_of(json.loads(deps.protection.decrypt(encrypted)))
    return section.model_copy(update={"updated_on": diagnostic.updated_on, "constraints": diagnostic.constraints,
                                      "job_needs": diagnostic.job_needs})


def refresh_if_stale(deps: Deps, notebook_id: uuid.UUID, section: FranceTravailSection | None) -> None:
    if section is not None and section.refreshing and deps.france_travail is not None:
        deps.france_travail.request(notebook_id)


# --- "Actualiser depuis France Travail" ----------------------------------------------------------------------------

async def refresh(request: RefreshFranceTravailV1, ctx, deps: Deps) -> FranceTravailRefreshReply:
    """Members and managers (those who edit the diagnostic) ask now, whatever the data's age. The reply waits a
    few seconds for France Travail; a slower answer still lands, and the page shows it when reloaded."""
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.edit_diagnostic)
    if deps.france_travail is None or not enabled_for(deps.settings, notebook.deployment_id):
        raise Invalid(NOT_ENABLED)
    task = deps.france_travail.refresh_now(deps, notebook.id)
    # Within the caller's RPC timeout, so that a slow France Travail is "on its way", not a gateway timeout.
    wait_s = min(deps.settings.france_travail_refresh_wait_s, deps.settings.rpc_timeout_s / 2)
    try:
        status = await asyncio.wait_for(asyncio.shield(task), wait_s)
    except TimeoutError:
        return FranceTravailRefreshReply(done=False)
    if status is None:  # another replica is asking right now: its answer will be on the page
        return FranceTravailRefreshReply(done=False)
    if status == FranceTravailStatus.unavailable:
        raise Unavailable(UNAVAILABLE)
    return FranceTravailRefreshReply(status=status)


# --- the night -------------------------------------------------------------------------------------------------------

def night_of(now: datetime, nightly_hour: int) -> date | None:
    """The night whose run may start now (Paris time), or None outside the window."""
    local = now.astimezone(PARIS)
    start = datetime.combine(local.date(), time(nightly_hour), PARIS)
    return local.date() if start <= local < start + timedelta(hours=NIGHTLY_WINDOW_H) else None


async def refresh_territories(deps: Deps, now: datetime) -> int | None:
    """The night's refresh of every notebook of the territories using the API whose data is older than an hour;
    None when it is not the time or another replica (or an earlier tick) has claimed this night."""
    night = night_of(now, deps.settings.france_travail_nightly_hour)
    if night is None or deps.france_travail is None:
        return None

    async def nothing_else(_session: AsyncSession) -> None:
        return None

    # Claimed before the work, in a transaction of its own: the run takes long and must not hold a transaction.
    if not await inbox.apply_once(deps.sessions, NIGHTLY_SCHEDULE, uuid.uuid5(PERIODS, night.isoformat()),
                                  nothing_else):
        return None
    async with deps.sessions() as session:
        due = (await session.scalars(select(Notebook.id).outerjoin(
            FranceTravailSync, FranceTravailSync.notebook_id == Notebook.id).where(
            Notebook.deployment_id.in_(deps.settings.france_travail_deployments),
            or_(FranceTravailSync.checked_at.is_(None), FranceTravailSync.checked_at <= now - FRESHNESS))
            .order_by(Notebook.id))).all()
    refreshed = 0
    for notebook_id in due:
        try:
            refreshed += await sync_notebook(deps, notebook_id) is not None
        except asyncio.CancelledError:
            raise
        except Exception:  # one notebook's failure does not stop the night
            log.exception("france_travail_night_failed", notebook_id=str(notebook_id))
    log.info("france_travail_night_done", night=night.isoformat(), due=len(due), refreshed=refreshed)
    return refreshed


async def run_nights(deps: Deps) -> None:
    """Each tick refreshes the territories whose night it is (``refresh_territories``); a database hiccup before
    the claim: the next tick tries again."""
    await repeat(lambda: refresh_territories(deps, deps.clock()), deps.settings.france_travail_schedule_interval_s,
                 "france_travail_night_failed", log)


async def run_refreshes(deps: Deps) -> None:
    await deps.france_travail.run(deps)
