"""Batches of rows to the service that owns their data (notebook, directory), tried until answered: an owner
restarting or slow is waited for, never skipped (it applies a batch once per ``(import_id, row)``, so sending it
again after a timeout is safe)."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from contracts.base import ErrorCode
from contracts.imports import (NOTEBOOK_KINDS, ApplyDirectoryImportV1, ApplyNotebookImportV1, ImportBatch, ImportKind,
                               ReviewDirectoryImportV1, ReviewNotebookImportV1)
from data_import.handlers.deps import Deps
from servicekit.errors import ServiceError

log = structlog.get_logger("data_import.owners")
# Passing: the owner is away or busy. Tried again and again.
PASSING = (ErrorCode.timeout, ErrorCode.unavailable, ErrorCode.rate_limited)
# Perhaps passing (a bug hit by one row, a write that lost a race): tried a few times, then reported.
RETRIED_A_FEW_TIMES = (ErrorCode.internal, ErrorCode.conflict)
FEW_TIMES = 3
FIRST_WAIT_S = 0.5


def review_request(kind: ImportKind) -> type[ImportBatch]:
    return ReviewNotebookImportV1 if kind in NOTEBOOK_KINDS else ReviewDirectoryImportV1


def apply_request(kind: ImportKind) -> type[ImportBatch]:
    return ApplyNotebookImportV1 if kind in NOTEBOOK_KINDS else ApplyDirectoryImportV1


async def ask_owner(deps: Deps, batch: ImportBatch, keep_lease: Callable[[], Awaitable[None]]) -> Any:
    """The owner's reply to ``batch``; a refusal that waiting will not change is raised (``ServiceError``)."""
    wait, failures = FIRST_WAIT_S, 0
    while True:
        deps.check_running()
        try:
            return await deps.bus.call(batch, timeout_s=deps.settings.owner_timeout_s)
        except ServiceError as error:
            if error.code in RETRIED_A_FEW_TIMES and failures < FEW_TIMES:
                failures += 1
            elif error.code not in PASSING:
                raise
            log.warning("owner_batch_retried", subject=batch.subject, import_id=str(batch.import_id),
                        code=error.code.value, wait_s=wait)
        await keep_lease()
        await asyncio.sleep(wait)
        wait = min(wait * 2, deps.settings.retry_max_s)
