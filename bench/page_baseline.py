"""The baseline of bench/notebook_page.py: one FastAPI + SQLAlchemy process reading the same rows as the notebook
page (and writing its access-log row), with no gateway, bus, token or habilitation in between. It reads them as a
monolith would, with the ORM: the reference readers (notebook.handlers.page_reference, a query per lookup, ORM
objects), which the service's own faster readers must equal (tests/e2e/test_notebook_page_exact.py).

Run as ``python bench/page_baseline.py <database-url> <port>``.
"""
from __future__ import annotations

import sys
import uuid

import uvicorn
from fastapi import FastAPI

from contracts.notebook import Access, GetNotebookPageV1, NotebookPage
from notebook.adapters.access_log import record_visit
from notebook.adapters.orm import Beneficiary, Notebook
from notebook.config import NotebookSettings
from notebook.domain.protection import FieldProtection
from notebook.handlers.beneficiaries import view_of
from notebook.handlers.deps import Deps
from notebook.handlers.page_reference import (appointments_of, diagnostic_view, members_of, parcours_of,
                                               structures_of, timeline_of, visits_of)
from servicekit.db import create_engine, sessionmaker, utcnow
from servicekit.outbox import Outbox


BASELINE_ACCOUNT = uuid.uuid4()  # one reader, counted on its line of the day as the system does


def create_app(url: str) -> FastAPI:
    settings = NotebookSettings()
    deps = Deps(sessions=sessionmaker(create_engine(url)), outbox=Outbox(), settings=settings, verifier=None,
                protection=FieldProtection(settings.secret_key.get_secret_value().encode()))
    app = FastAPI()

    @app.get("/notebooks/{notebook_id}")
    async def page(notebook_id: uuid.UUID) -> NotebookPage:
        # As the notebook service: read, then log the visit in a write transaction of its own.
        async with deps.sessions() as session:
            notebook = await session.get(Notebook, notebook_id)
            page = NotebookPage(
                notebook_id=notebook.id, deployment_id=notebook.deployment_id, access=Access.full,
                beneficiary=view_of(await session.get(Beneficiary, notebook.beneficiary_id), deps),
                members=await members_of(session, notebook), structures=await structures_of(session, notebook),
                diagnostic=await diagnostic_view(session, notebook), focuses=await parcours_of(session, notebook),
                appointments=await appointments_of(session, notebook),
                timeline=await timeline_of(session, notebook, GetNotebookPageV1(notebook_id=notebook.id), 200),
                visits=await visits_of(session, notebook, 50))
        async with deps.sessions.begin() as session:
            await record_visit(session, utcnow(), notebook_id=notebook.id, account_id=BASELINE_ACCOUNT,
                               person_id=None, role="manager", person_name="", structure_name="")
        return page

    return app


if __name__ == "__main__":
    uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
