"""What the notebook's handler tests read of its access log. Imported as ``from services.notebook.tests.reads import
access_log_of`` (pytest runs from the repository's root)."""
from __future__ import annotations

import uuid


from sqlalchemy import select

from contracts.audit import NotebookAuditRecordedV1
from notebook.adapters.orm import NotebookVisit
from testkit.handlers import InMemoryService


async def access_log_of(notebook: InMemoryService, notebook_id: uuid.UUID) -> tuple[list[tuple], int]:
    """The notebook's access log (name, role, views) once every read handed over is written, and its reads in the
    audit trail."""
    await notebook.written()
    async with notebook.sessions() as session:
        lines = (await session.execute(select(NotebookVisit).where(NotebookVisit.notebook_id == notebook_id))
                 ).scalars().all()
    reads = [e for e in await notebook.events(NotebookAuditRecordedV1.subject)
             if e.action == "notebook.read" and e.notebook_id == notebook_id]
    return sorted((line.person_name, line.role, line.views) for line in lines), len(reads)

