"""The notebook page's read path (issue 19), on SQLite and PostgreSQL: the referentials it refers to by version,
and the access log and the audit trail written off the page's path, many views at once a little later, counting
every view exactly, shown to the page's readers before that, a failed write tried again then logged."""
from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import pytest
import structlog.testing
from sqlalchemy import select

from contracts import notebook as c
from contracts.audit import NotebookAuditRecordedV1
from contracts.bulk_orientation import GetTerritoryOrientationOptionsV1
from contracts.directory import StructureCreatedV1
from contracts.identity import Role
from contracts.profiles import ManagerCreatedV1, ProfessionalCreatedV1
from notebook.adapters import access_log
from notebook.adapters.access_log import VisitLog
from notebook.adapters.orm import Member, NotebookVisit
from servicekit.db import utcnow
from testkit.handlers import InMemoryService

pytestmark = pytest.mark.integration


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


async def test_the_page_names_the_version_of_the_referentials_its_labels_come_from(notebook, token_mint):
    notebook_id, manager, pro, _, _ = await notebook_followed_by_a_professional(notebook, token_mint)
    await notebook.call(c.AddFocusV1(notebook_id=notebook_id, theme="logement"), pro)

    page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), manager)
    referentials = await notebook.call(c.GetReferentialsV1(), manager)

    assert len(referentials.version) == 16 and page.referentials_version == referentials.version
    assert [focus.theme_label for focus in page.focuses] == [referentials.themes["logement"]] == ["Logement"]


async def notebook_followed_by_a_professional(notebook: InMemoryService, token_mint):
    """A notebook created by a manager, joined by a professional: its id, their tokens and profile ids."""
    deployment_id, structure_id, manager_id, pro_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await notebook.deliver(StructureCreatedV1(structure_id=structure_id, deployment_id=deployment_id,
                                              name="Mission Locale", city="Valence"))
    await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=deployment_id, firstname="Marie",
                                            lastname="Gérante", email=f"{manager_id}@test.carnet.fr"))
    await notebook.deliver(ProfessionalCreatedV1(profile_id=pro_id, deployment_id=deployment_id, firstname="Pierre",
                                                 lastname="Pro", email=f"{pro_id}@test.carnet.fr",
                                                 structure_ids=[structure_id]))
    manager = token_mint.token(Role.manager, deployment_id=deployment_id, profile_id=manager_id)
    pro = token_mint.token(Role.professional, deployment_id=deployment_id, profile_id=pro_id,
                           structure_ids=[structure_id])
    notebook_id = (await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Sophie", lastname="Tifour", date_of_birth=date(1990, 4, 12))), manager)).notebook_id
    await notebook.call(c.JoinNotebookV1(notebook_id=notebook_id), pro)
    return notebook_id, manager, pro, manager_id, pro_id


async def test_views_read_together_are_each_counted_in_the_access_log_and_the_audit_trail(notebook, token_mint):
    notebook_id, manager, pro, manager_id, pro_id = await notebook_followed_by_a_professional(notebook, token_mint)

    pages = await asyncio.gather(*(notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), token)
                                   for token in [manager] * 6 + [pro] * 4))
    await notebook.written()

    assert {page.notebook_id for page in pages} == {notebook_id}
    async with notebook.sessions() as session:
        lines = (await session.execute(select(NotebookVisit).where(NotebookVisit.notebook_id == notebook_id))
                 ).scalars().all()
        member = (await session.execute(select(Member).where(Member.notebook_id == notebook_id,
                                                             Member.person_id == pro_id))).scalar_one()
    assert sorted((line.person_id, line.views) for line in lines) == sorted([(manager_id, 6), (pro_id, 4)])
    assert all(line.visited_at <= line.last_visited_at for line in lines)
    assert {line.person_name for line in lines} == {"Marie Gérante", "Pierre Pro"}
    assert member.last_visited_at is not None
    reads = [e for e in await notebook.events(NotebookAuditRecordedV1.subject)
             if e.action == "notebook.read" and e.notebook_id == notebook_id]
    assert len(reads) == 10


async def test_the_page_shows_the_views_of_others_not_yet_written_and_answers_without_waiting_for_its_own(
        notebook, token_mint, monkeypatch):
    """The page answers before its view is written (later, with others'); the access log it shows still holds
    every view of others handed over before it, written first."""
    monkeypatch.setattr(access_log, "WRITE_EVERY_S", 30)  # nothing written by the interval in this test
    notebook_id, manager, pro, manager_id, _ = await notebook_followed_by_a_professional(notebook, token_mint)
    await notebook.written()

    await asyncio.wait_for(notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), pro), timeout=10)
    seen_by_the_manager = await asyncio.wait_for(notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id),
                                                               manager), timeout=10)
    async with notebook.sessions() as session:
        managers_line = (await session.execute(select(NotebookVisit).where(
            NotebookVisit.notebook_id == notebook_id, NotebookVisit.person_id == manager_id))).scalars().all()

    assert [(v.person_name, v.views) for v in seen_by_the_manager.visits] == [("Pierre Pro", 1)]
    assert managers_line == []  # handed over, not written yet
    await notebook.written()
    async with notebook.sessions() as session:
        assert await session.scalar(select(NotebookVisit.views).where(
            NotebookVisit.notebook_id == notebook_id, NotebookVisit.person_id == manager_id)) == 1


def a_visit(notebook_id: uuid.UUID | None = None) -> dict:
    return {"who": {"notebook_id": notebook_id or uuid.uuid4(), "account_id": uuid.uuid4()}, "at": utcnow(),
            "audit": NotebookAuditRecordedV1(action="notebook.read"), "member_id": None}


class Transactions:
    """Stands for the sessions: each ``begin()`` a transaction that does nothing."""

    def begin(self):
        return self

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


async def test_the_views_handed_over_meanwhile_are_written_together_a_little_later(monkeypatch):
    monkeypatch.setattr(access_log, "WRITE_EVERY_S", 0.2)
    log = VisitLog(Transactions(), outbox=None)
    writes = []

    async def write(_session, visits):
        writes.append(len(visits))
    log._write = write

    for _ in range(5):
        log.record(a_visit())
    await asyncio.sleep(0.05)
    assert writes == []
    await asyncio.sleep(0.5)
    assert writes == [5]


async def test_a_view_that_cannot_be_written_is_tried_again_then_logged_whole_the_others_written():
    bad = uuid.uuid4()
    written_views, tries = [], []

    async def write(_session, visits):
        if any(visit["who"]["notebook_id"] == bad for visit in visits):
            tries.append(len(visits))
            raise OSError("contrainte")  # e.g. a notebook deleted meanwhile
        written_views.extend(visits)

    log = VisitLog(Transactions(), outbox=None)
    log._write = write
    for index in range(6):
        log.record(a_visit(bad if index == 3 else None))
    with structlog.testing.capture_logs() as logs:
        await log.flush()

    assert len(written_views) == 5
    assert tries == [6, 1, 1, 1]  # with the others, then alone at each write until the last try
    [failure] = [entry for entry in logs if entry["event"] == "access_log_write_failed"]
    assert failure["log_level"] == "error" and failure["notebook_id"] == str(bad)


async def test_a_full_page_is_read_in_few_statements(notebook, token_mint):
    """Each statement is a round trip (on SQLite several thread hops): members and appointments come with their
    people, work axes with their objectives and actions, one query for the structures' names of all of them; the
    notebook with its beneficiary, the caller, its orientation system, the CAF/MSA flux date and whether it has
    contracts, bilans, an orientation request (not asked when not). A manager's page of a notebook with a work
    axis, an objective and an action: 24 statements read the plain way (notebook.handlers.page_reference), 13 now,
    whatever the number of rows. Counted on every engine: on SQLite the page reads through an engine of its own
    (servicekit.inline_sqlite)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    notebook_id, manager, pro, _, _ = await notebook_followed_by_a_professional(notebook, token_mint)
    focus = await notebook.call(c.AddFocusV1(notebook_id=notebook_id, theme="logement"), pro)
    target = await notebook.call(c.AddTargetV1(focus_id=focus.id, target="Trouver un logement"), pro)
    await notebook.call(c.AddActionV1(target_id=target.id, action="Demande HLM"), pro)
    await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), manager)  # referentials, statement caches
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM" in statement.upper():  # not a driver's own
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), manager)
    finally:
        event.remove(Engine, "before_cursor_execute", count)

    assert page.focuses[0].targets[0].actions[0].action == "Demande HLM"
    assert len(statements) <= 13, "\n\n".join(statements)


@pytest.mark.parametrize("handler_databases", ["postgresql"], indirect=True)
async def test_on_postgresql_the_page_reads_without_begin_and_rollback(notebook, token_mint, monkeypatch):
    """Under READ COMMITTED each statement reads its own snapshot, inside a transaction or not: the page's BEGIN and
    ROLLBACK were two round trips of its twelve for nothing."""
    from asyncpg.transaction import Transaction

    notebook_id, manager, _, _, _ = await notebook_followed_by_a_professional(notebook, token_mint)
    await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), manager)  # the referentials, read once
    begun = []  # by which task: the access log's writer, a task of its own, writes in transactions
    start = Transaction.start

    async def counted(self):
        begun.append(asyncio.current_task())
        return await start(self)

    monkeypatch.setattr(Transaction, "start", counted)
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), manager)  # in this test's task

    assert page.beneficiary.lastname == "Tifour" and asyncio.current_task() not in begun


async def test_the_page_shows_the_latest_history_entries_asked_for_and_says_there_are_more(notebook, token_mint):
    notebook_id, manager, pro, _, _ = await notebook_followed_by_a_professional(notebook, token_mint)
    for theme in ("logement", "sante", "mobilite"):
        await notebook.call(c.AddFocusV1(notebook_id=notebook_id, theme=theme), pro)
    whole = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), manager)

    latest = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id, timeline_limit=2), manager)
    every = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id, timeline_limit=len(whole.timeline)),
                                manager)

    assert len(whole.timeline) > 3 and whole.timeline_more is False
    assert latest.timeline == whole.timeline[:2] and latest.timeline_more is True
    assert every.timeline == whole.timeline and every.timeline_more is False


async def test_the_page_shows_every_upcoming_appointment_and_the_latest_past_ones_asked_for(notebook, token_mint):
    notebook_id, manager, pro, _, pro_id = await notebook_followed_by_a_professional(notebook, token_mint)
    now = utcnow()
    for days in (-40, -30, -20, -10, 5, 15):
        await notebook.call(c.BookAppointmentV1(notebook_id=notebook_id, at=now + timedelta(days=days)), pro)
    whole = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), manager)

    latest = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id, past_appointments_limit=2), manager)
    upcoming = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id, past_appointments_limit=0), manager)
    every = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id, past_appointments_limit=4), manager)

    assert len(whole.appointments) == 6 and whole.appointments_more is False
    assert latest.appointments == whole.appointments[:4] and latest.appointments_more is True
    assert upcoming.appointments == whole.appointments[:2] and upcoming.appointments_more is True
    assert every.appointments == whole.appointments and every.appointments_more is False
    # The members' latest appointment is read from them all, not from those shown.
    assert [m.last_appointment_at for m in upcoming.members] == [m.last_appointment_at for m in whole.members]


async def test_the_orientation_form_offers_the_territory_as_the_orm_reads_it(notebook, token_mint):
    """The orientation form's choices, read as plain rows (handlers.orientation): the same systems, structures and
    active professionals, in the same order, as read the plain way with ORM objects. The manager's page carries the
    systems only: the territory's structures and professionals are asked when the form is opened."""
    from notebook.adapters.orm import OrientationSystemRead, Person, StructureRead
    from notebook.handlers.members import person_name

    notebook_id, manager, _, _, _ = await notebook_followed_by_a_professional(notebook, token_mint)
    deployment_id = (await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), manager)).deployment_id
    systems, structures = [uuid.uuid4() for _ in range(3)], [uuid.uuid4() for _ in range(2)]
    async with notebook.sessions.begin() as session:
        session.add_all([OrientationSystemRead(id=s, deployment_id=deployment_id, name=name, orientation_type="pro")
                         for s, name in zip(systems, ("Social", "Professionnel", "Socio-pro"))])
        session.add_all([StructureRead(id=s, deployment_id=deployment_id, name=name, occurred_at=utcnow())
                         for s, name in zip(structures, ("CCAS", "Association Zéphyr"))])
        session.add_all([  # several structures, none, no first name, and one deactivated: left out
            Person(id=uuid.uuid4(), role="professional", deployment_id=deployment_id, firstname="Anne",
                   lastname="Zola", structure_ids=[str(structures[1]), str(structures[0])],
                   orientation_system_ids=[str(systems[0]), str(systems[2])], occurred_at=utcnow()),
            Person(id=uuid.uuid4(), role="professional", deployment_id=deployment_id, firstname="",
                   lastname="Abel", occurred_at=utcnow()),
            Person(id=uuid.uuid4(), role="professional", deployment_id=deployment_id, firstname="Gone",
                   lastname="Away", occurred_at=utcnow(), deactivated_at=utcnow())])

    page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), manager)
    offered = (await notebook.call(GetTerritoryOrientationOptionsV1(), manager)).options

    async with notebook.sessions() as session:
        def rows(model, *where, order):
            return session.scalars(select(model).where(model.deployment_id == deployment_id, *where).order_by(*order))
        expected = c.OrientationOptions(
            orientation_systems=[c.OrientationChoice(orientation_system_id=s.id, name=s.name) for s in
                                 await rows(OrientationSystemRead, order=[OrientationSystemRead.name])],
            structures=[c.StructureChoice(structure_id=s.id, name=s.name) for s in
                        await rows(StructureRead, order=[StructureRead.name])],
            referents=[c.ReferentChoice(person_id=p.id, name=person_name(p), structure_id=p.structure_id,
                                        structure_ids=p.structure_ids, orientation_system_ids=p.orientation_system_ids)
                       for p in await rows(Person, Person.role == "professional", Person.deactivated_at.is_(None),
                                           order=[Person.lastname, Person.firstname])])
    assert offered == expected
    assert [r.name for r in offered.referents] == ["Abel", "Pierre Pro", "Anne Zola"]
    assert offered.referents[2].structure_id == structures[1]
    assert page.orientation_options == c.OrientationOptions(orientation_systems=expected.orientation_systems)
