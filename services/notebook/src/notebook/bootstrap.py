"""Composition root of the notebook service (nothing happens at import)."""
from __future__ import annotations

from notebook.config import NotebookSettings
from notebook.domain.protection import FieldProtection
from notebook.entrypoints import wiring
from notebook.handlers.deps import Deps
from notebook.handlers.france_travail import FranceTravailRefresher
from servicekit.app import Service
from servicekit.db import is_sqlite, sessionmaker
from servicekit.inline_sqlite import create_reader
from servicekit.housekeeping import Kept
from notebook.adapters.orm import ExportJob, NotebookVisit

NAME = "notebook"


def build(settings: NotebookSettings | None = None) -> Service:
    settings = settings or NotebookSettings()
    service = Service(NAME, settings)
    # The access log for a year (CNIL: 6 to 12 months); an export's record as long (its file: 7 days in its bucket).
    service.kept = (Kept(NotebookVisit.__table__.c.last_visited_at, 365), Kept(ExportJob.__table__.c.requested_at, 365))
    deps = Deps(
        sessions=service.sessions, outbox=service.outbox, settings=settings, verifier=service.verifier,
        protection=FieldProtection(settings.secret_key.get_secret_value().encode()),
        france_travail=france_travail(settings), bus=service.bus, read_sessions=page_reader(service, settings))
    wire(service, deps)
    return service


def wire(service: Service, deps: Deps) -> None:
    """The handlers registered with ``deps``, and what the service must do before its database is let go."""
    wiring.register(service, deps)
    # The views handed over to the access log, written, and the France Travail refreshes asked, ended: a write cut
    # off at the stop would hold SQLite's write lock in a connection nobody closes.
    service.on_stop.append(deps.visit_log.flush)
    if deps.france_travail is not None:
        service.on_stop.append(deps.france_travail.finish)


def page_reader(service: Service, settings: NotebookSettings):
    """The notebook page's ~18 statements on SQLite run in the loop's thread, not one aiosqlite round trip each
    (servicekit.inline_sqlite). Its connections hold no lock between reads (each read's transaction ends when its
    session closes) and close with the process. On PostgreSQL the service's pool, without BEGIN and ROLLBACK: two
    round trips of the page's twelve, for nothing, since under READ COMMITTED each statement reads its own
    snapshot inside a transaction or not."""
    url = settings.resolved_database_url(NAME)
    if not is_sqlite(url):
        return sessionmaker(service.engine.execution_options(isolation_level="AUTOCOMMIT"))
    return sessionmaker(create_reader(url))


def france_travail(settings: NotebookSettings) -> FranceTravailRefresher | None:
    if not settings.france_travail_enabled:
        return None
    from notebook.adapters.france_travail import FranceTravailClient, FranceTravailConfig  # httpx: ~10 MB

    return FranceTravailRefresher(FranceTravailClient(FranceTravailConfig(
        auth_base_url=settings.france_travail_auth_base_url, api_base_url=settings.france_travail_api_base_url,
        client_id=settings.france_travail_client_id,
        client_secret=settings.france_travail_client_secret.get_secret_value(),
        timeout_s=settings.france_travail_timeout_s, max_tries=settings.france_travail_max_tries,
        max_retry_after_s=settings.france_travail_max_retry_after_s)))


def main() -> None:
    build().run()
