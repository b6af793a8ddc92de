"""The work an import needs done in the background (parsing, applying), started by the RPC that asks for it and
resumed, after a crash or by another replica, once its lease has run out."""
from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import structlog
from sqlalchemy import or_, select

from contracts.imports import ImportState
from data_import.adapters.orm import imports
from data_import.handlers.applying import apply_import
from data_import.handlers.deps import Deps
from data_import.handlers.ending import INTERNAL_ERROR, fail
from data_import.handlers.leases import LeaseLost, claim, renew
from data_import.handlers.parsing import parse_import

log = structlog.get_logger("data_import.jobs")
WORKING_STATES = (ImportState.parsing.value, ImportState.applying.value)
# An import whose work fails unexpectedly this many times in a row on a replica is failed, not retried forever.
MAX_FAILURES = 3
STOP_CHECK_S = 0.5
STOP_TRIES = 10


class Jobs:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.running: dict[uuid.UUID, asyncio.Task] = {}
        self.failures: Counter[uuid.UUID] = Counter()

    def start(self, import_id: uuid.UUID, state: str) -> None:
        """Works on an import this replica has just claimed (its lease held), unless it already does."""
        if import_id in self.running:
            return
        task = asyncio.create_task(self._work(import_id, state), name=f"import-{import_id}")
        self.running[import_id] = task
        task.add_done_callback(lambda _task: self.running.pop(import_id, None))

    async def _work(self, import_id: uuid.UUID, state: str) -> None:
        heartbeat = asyncio.create_task(self._keep_lease(import_id, asyncio.current_task()))
        try:
            if state == ImportState.parsing.value:
                await parse_import(self.deps, import_id)
            else:
                await apply_import(self.deps, import_id)
            self.failures.pop(import_id, None)
        except LeaseLost:
            log.warning("import_lease_lost", import_id=str(import_id))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("import_work_failed", import_id=str(import_id), state=state)
            self.failures[import_id] += 1
            if self.failures[import_id] >= MAX_FAILURES:
                await fail(self.deps, import_id, INTERNAL_ERROR, from_states=WORKING_STATES)
                self.failures.pop(import_id, None)
        finally:
            heartbeat.cancel()

    async def _keep_lease(self, import_id: uuid.UUID, work: asyncio.Task) -> None:
        """Renews the lease while the work waits on something slow (an owner's long batch): another replica takes
        the import over only from a replica that stopped. A lease lost anyway stops the work here."""
        while True:
            await asyncio.sleep(self.deps.settings.lease_s / 3)
            try:
                await renew(self.deps, import_id)
            except LeaseLost:
                work.cancel()
                return
            except Exception:  # the database away for a moment: the work's own renewals will tell
                log.warning("import_lease_not_renewed", import_id=str(import_id))

    async def resume_due(self) -> None:
        """Claims the imports being worked on whose lease ran out (or that failed here) and works on them."""
        deps = self.deps
        async with deps.sessions() as session:
            due = (await session.execute(select(imports.c.id, imports.c.state).where(
                imports.c.state.in_(WORKING_STATES),
                or_(imports.c.lease_until.is_(None), imports.c.lease_until < deps.clock(),
                    imports.c.worker == deps.worker_id)))).all()
        for import_id, state in due:
            if import_id not in self.running and await claim(deps, import_id, WORKING_STATES):
                log.info("import_resumed", import_id=str(import_id), state=state)
                self.start(import_id, state)

    async def resume_forever(self) -> None:
        """The service's background task: resumes at start, then looks again every ``resume_every_s``; on stop,
        the imports in progress are interrupted (their leases run out, this or another replica resumes them)."""
        try:
            try:
                await self.deps.store()  # the uploads bucket, created here so that the gateway need not
            except Exception:
                log.exception("uploads_bucket_unavailable")
            while True:
                try:
                    await self.resume_due()
                except Exception:  # the database away for a moment: try again later
                    log.exception("import_resume_failed")
                await asyncio.sleep(self.deps.settings.resume_every_s)
        finally:
            self.deps.stopping.set()
            tasks = set(self.running.values())
            # Bounded: a stop must not hang on work that will not end (its lease runs out, another replica resumes).
            for _ in range(STOP_TRIES):
                if not tasks:
                    break
                for task in tasks:
                    task.cancel()
                _done, tasks = await asyncio.wait(tasks, timeout=STOP_CHECK_S)
            if tasks:
                log.warning("import_work_left_running", imports=[task.get_name() for task in tasks])
            self.deps.close()
