"""The dashboards' « Imports et flux » (issue 18 item 3): each import and partner flux as it ended, kept from the
import service's ``import.job.completed.v1`` in ``pilotage_import``, one row per import.

Exactly once per event (servicekit.inbox): a redelivery changes nothing. The row is keyed by the import, so a
second end of the same import (another event) overwrites it, unless it is older than the end already kept."""
from __future__ import annotations

from datetime import UTC

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.imports import ImportCompletedV1, ImportState
from notebook.adapters.orm import PilotageImport
from notebook.adapters.pilotage_query import PARIS
from notebook.handlers.deps import Deps
from servicekit.inbox import exactly_once

CONSUMER = "notebook-pilotage-imports"
ENDED = (ImportState.done, ImportState.failed)


@exactly_once(CONSUMER)
async def on_import_completed(event: ImportCompletedV1, session: AsyncSession, _deps: Deps) -> None:
    if event.state not in ENDED:
        return
    finished_at = event.occurred_at if event.occurred_at.tzinfo else event.occurred_at.replace(tzinfo=UTC)
    row = await session.get(PilotageImport, event.import_id)
    if row is not None and row.finished_at > finished_at:
        return  # a later end of this import is kept already
    if row is None:
        row = PilotageImport(import_id=event.import_id)
        session.add(row)
    row.deployment_id, row.structure_id = event.deployment_id, event.structure_id
    row.kind, row.state = event.kind.value, event.state.value
    row.finished_at, row.day = finished_at, finished_at.astimezone(PARIS).date()
    row.rows_total = event.rows_total
    counts = event.counts
    row.created, row.updated, row.unchanged = counts.created, counts.updated, counts.unchanged
    row.rejected, row.excluded = counts.rejected, counts.excluded
