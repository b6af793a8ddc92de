"""Pilotage's read model and queries through notebook's broker in memory, on SQLite and PostgreSQL: every change of
a notebook publishes notebook.notebook.changed.v1, its consumer recomputes the facts row, and the queries (counts,
pages, breakdown by structure) see only what the caller may; saved queries are kept, shared and deleted by their
owner."""
from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import delete, func, select

from contracts import notebook as c
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1, StructureUpdatedV1
from contracts.identity import Role
from contracts.imports import ApplyNotebookImportV1, ImportActor, ImportKind, ImportRowValues
from contracts.base import ErrorCode
from contracts.pilotage import (
    BeneficiaryFilters,
    DeleteSavedQueryV1,
    GetQueryChoicesV1,
    GetSavedQueryV1,
    ListSavedQueriesV1,
    NotebookChangedV1,
    QueryBeneficiariesV1,
    SaveQueryV1,
)
from contracts.profiles import (
    DeploymentCreatedV1,
    ManagerCreatedV1,
    OrientationManagerCreatedV1,
    ProfessionalCreatedV1,
)
from contracts.transfers import DecideTransferV1, RequestTransferV1
from notebook.adapters import pilotage_query
from notebook.adapters.orm import PilotageAction, PilotageNotebook, PilotageSnapshot
from notebook.handlers import import_beneficiaries, pilotage_facts, pilotage_snapshots
from servicekit import periodic
from testkit.clock import paris_today
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


@dataclass
class Territory:
    deployment_id: uuid.UUID
    manager: str
    pro: str
    pro_id: uuid.UUID
    structure_id: uuid.UUID
    system_id: uuid.UUID
    social_id: uuid.UUID
    other_structure_id: uuid.UUID
    delivered: set = field(default_factory=set)


async def territory(notebook: InMemoryService, token_mint, code: str = "26") -> Territory:
    deployment, structure, system = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    manager_id, pro_id, social, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await notebook.deliver(DeploymentCreatedV1(deployment_id=deployment, label="Drôme", department_code=code))
    await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=system, deployment_id=deployment,
                                                      name="Professionnel", orientation_type=OrientationType.pro))
    await notebook.deliver(StructureCreatedV1(structure_id=structure, deployment_id=deployment,
                                              name="Insertion 26", city="Valence"))
    await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=social, deployment_id=deployment,
                                                      name="Social", orientation_type=OrientationType.social))
    await notebook.deliver(StructureCreatedV1(structure_id=other, deployment_id=deployment,
                                              name="CCAS de Valence", city="Valence"))
    await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=deployment, firstname="Marie",
                                            lastname="Gérante", email=f"g-{uuid.uuid4().hex[:6]}@cd26.fr"))
    await notebook.deliver(ProfessionalCreatedV1(
        profile_id=pro_id, deployment_id=deployment, firstname="Pierre", lastname="Pro",
        email=f"pro-{uuid.uuid4().hex[:6]}@cd26.fr", structure_ids=[structure], orientation_system_ids=[system]))
    return Territory(deployment, token_mint.token(Role.manager, deployment_id=deployment, profile_id=manager_id),
                     token_mint.token(Role.professional, deployment_id=deployment, profile_id=pro_id,
                                      structure_ids=[structure]), pro_id, structure, system, social, other)


async def settle(notebook: InMemoryService, seen: set) -> int:
    """Delivers the notebook.notebook.changed.v1 written since the test began (not yet delivered) to the consumer,
    as the relay would: the read model is then up to date. Returns how many."""
    events = [e for e in await notebook.events(NotebookChangedV1.subject) if e.event_id not in seen]
    for event in events:
        seen.add(event.event_id)
        await notebook.deliver(event)
    return len(events)


async def row_of(notebook: InMemoryService, notebook_id: uuid.UUID) -> PilotageNotebook | None:
    async with notebook.sessions() as session:
        return await session.get(PilotageNotebook, notebook_id)


async def test_the_lists_and_the_export_name_the_beneficiary_s_charge_d_orientation(notebook, token_mint):
    """Issue 20: the beneficiaries' list and its export have a « Chargé d'orientation » column, read from the
    list's read models (the person read model, the pilotage row), a new one replacing the former."""
    t = await territory(notebook, token_mint)
    giulia, samy = uuid.uuid4(), uuid.uuid4()
    for person_id, firstname, lastname in ((giulia, "Giulia", "Diaby"), (samy, "Samy", "Rouate")):
        await notebook.deliver(OrientationManagerCreatedV1(
            profile_id=person_id, deployment_id=t.deployment_id, firstname=firstname, lastname=lastname,
            email=f"co-{uuid.uuid4().hex[:6]}@cd26.fr"))
    created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Sophie", lastname="Tifour", date_of_birth=date(1990, 4, 12))), t.manager)
    await settle(notebook, t.delivered)
    [row] = (await notebook.call(c.SearchNotebooksV1(), t.manager)).notebooks
    assert row.orientation_manager_name == ""
    scope = pilotage_query.PilotageScope(deployment_id=t.deployment_id)
    for person_id, name in ((giulia, "Giulia Diaby"), (samy, "Samy Rouate")):
        await notebook.call(c.AssignOrientationManagerV1(notebook_ids=[created.notebook_id], person_id=person_id),
                            t.manager)
        await settle(notebook, t.delivered)
        [row] = (await notebook.call(c.SearchNotebooksV1(), t.manager)).notebooks
        assert row.orientation_manager_name == name
        assert (await row_of(notebook, created.notebook_id)).orientation_manager_id == person_id
        async with notebook.sessions() as session:
            [fact] = await pilotage_query.page(session, BeneficiaryFilters(), scope, 0, 10)
        assert (fact.orientation_manager_id, fact.orientation_manager_name) == (person_id, name)


async def test_each_change_of_a_notebook_updates_its_facts(notebook, token_mint):
    t = await territory(notebook, token_mint)
    created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Sophie", lastname="Tifour", date_of_birth=date(1990, 4, 12))), t.manager)
    assert await settle(notebook, t.delivered) == 1
    row = await row_of(notebook, created.notebook_id)
    assert (row.support, row.referent_id, row.cer_state, row.origin) == ("not_accompanied", None, "none", "manual")

    await notebook.call(c.JoinNotebookV1(notebook_id=created.notebook_id, as_referent=True,
                                         orientation_system_id=t.system_id), t.pro)
    assert await settle(notebook, t.delivered) == 1  # one event per notebook and transaction
    row = await row_of(notebook, created.notebook_id)
    assert (row.support, row.referent_id, row.structure_id) == ("accompanied", t.pro_id, t.structure_id)

    await notebook.call(c.AddFocusV1(notebook_id=created.notebook_id, theme="emploi"), t.pro)
    await settle(notebook, t.delivered)
    assert (await row_of(notebook, created.notebook_id)).themes == "|emploi|"

    scope = pilotage_query.PilotageScope(deployment_id=t.deployment_id)
    async with notebook.sessions() as session:
        assert await pilotage_query.count(session, BeneficiaryFilters(themes=["emploi"]), scope) == 1
        [fact] = await pilotage_query.page(session, BeneficiaryFilters(), scope, 0, 10)
    assert (fact.structure_name, fact.referent_name) == ("Insertion 26", "Pierre Pro")

    # A structure renamed shows its new name at once: names are joined when read, not copied into the rows.
    await notebook.deliver(StructureUpdatedV1(structure_id=t.structure_id, deployment_id=t.deployment_id,
                                              name="Insertion Drôme", city="Valence"))
    async with notebook.sessions() as session:
        [fact] = await pilotage_query.page(session, BeneficiaryFilters(), scope, 0, 10)
        [count] = await pilotage_query.by_structure(session, BeneficiaryFilters(), scope)
    assert (fact.structure_name, count.label, count.count) == ("Insertion Drôme", "Insertion Drôme", 1)


async def beneficiary(notebook: InMemoryService, t: Territory, lastname: str, **fields) -> uuid.UUID:
    created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Anne", lastname=lastname, date_of_birth=date(1985, 2, 3), **fields)), t.manager)
    return created.notebook_id


async def test_rights_orientation_reorientation_contract_and_actions_update_the_row(notebook, token_mint):
    t = await territory(notebook, token_mint)
    notebook_id = await beneficiary(notebook, t, "Rights")
    await notebook.call(c.JoinNotebookV1(notebook_id=notebook_id, as_referent=True,
                                         orientation_system_id=t.system_id), t.pro)
    await settle(notebook, t.delivered)

    await notebook.call(c.UpdateBeneficiaryV1(notebook_id=notebook_id, version=1, beneficiary=c.BeneficiaryFields(
        firstname="Anne", lastname="Rights", date_of_birth=date(1985, 2, 3),
        right_rsa=c.RightRsa.droit_ouvert_versable, subject_to_right_and_duty=True)), t.manager)
    await settle(notebook, t.delivered)
    row = await row_of(notebook, notebook_id)
    assert (row.rsa_right, row.subject_to_right_and_duty) == ("rsa_droit_ouvert_versable", True)

    await notebook.call(c.RequestReorientationV1(notebook_id=notebook_id, orientation_system_id=t.social_id,
                                                 reason="Besoin d'un accompagnement social"), t.pro)
    await settle(notebook, t.delivered)
    assert (await row_of(notebook, notebook_id)).pending_reorientation_since is not None
    scope = pilotage_query.PilotageScope(deployment_id=t.deployment_id)
    async with notebook.sessions() as session:
        assert await pilotage_query.count(session, BeneficiaryFilters(support=["reorientation"]), scope) == 1

    await notebook.call(c.ChangeOrientationV1(notebook_id=notebook_id, orientation_system_id=t.social_id,
                                              structure_id=t.other_structure_id, reason="Commission"), t.manager)
    await settle(notebook, t.delivered)
    row = await row_of(notebook, notebook_id)
    assert (row.orientation_system_id, row.pending_reorientation_since) == (t.social_id, None)
    assert row.first_oriented_at is not None

    other = await beneficiary(notebook, t, "Actions")
    await notebook.call(c.JoinNotebookV1(notebook_id=other, as_referent=True,
                                         orientation_system_id=t.system_id), t.pro)
    focus = await notebook.call(c.AddFocusV1(notebook_id=other, theme="logement"), t.pro)
    target = await notebook.call(c.AddTargetV1(focus_id=focus.id, target="Trouver un logement"), t.pro)
    await notebook.call(c.AddActionV1(target_id=target.id, action="Demande de logement social"), t.pro)
    await notebook.call(c.CreateContractDraftV1(notebook_id=other), t.pro)
    await settle(notebook, t.delivered)
    row = await row_of(notebook, other)
    assert (row.themes, row.cer_state) == ("|logement|", "draft")
    async with notebook.sessions() as session:
        actions = (await session.execute(select(PilotageAction).where(PilotageAction.notebook_id == other))
                   ).scalars().all()
    assert [(a.theme, a.status, a.structure_id) for a in actions] == [("logement", "in_progress", t.structure_id)]

    # The consumer is idempotent: the same event again changes nothing.
    again = [e for e in await notebook.events(NotebookChangedV1.subject) if e.notebook_id == other][-1]
    await notebook.deliver(again)
    assert (await row_of(notebook, other)).themes == "|logement|"


async def test_a_page_view_publishes_nothing(notebook, token_mint):
    t = await territory(notebook, token_mint)
    notebook_id = await beneficiary(notebook, t, "Viewed")
    await notebook.call(c.JoinNotebookV1(notebook_id=notebook_id, as_referent=True,
                                         orientation_system_id=t.system_id), t.pro)
    await settle(notebook, t.delivered)
    await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), t.pro)
    assert await settle(notebook, t.delivered) == 0


async def test_scopes_a_structure_admin_her_structures_a_professional_her_notebooks(notebook, token_mint):
    t = await territory(notebook, token_mint)
    mine = await beneficiary(notebook, t, "Mine")
    await notebook.call(c.JoinNotebookV1(notebook_id=mine, as_referent=True, orientation_system_id=t.system_id),
                        t.pro)
    elsewhere = await beneficiary(notebook, t, "Elsewhere")
    await notebook.call(c.ChangeOrientationV1(notebook_id=elsewhere, orientation_system_id=t.social_id,
                                              structure_id=t.other_structure_id, reason="Commission"), t.manager)
    await beneficiary(notebook, t, "Nobody")
    await settle(notebook, t.delivered)

    everything = await notebook.call(QueryBeneficiariesV1(), t.manager)
    assert everything.total == 3
    assert {(s.label, s.count) for s in everything.by_structure} == {
        ("Insertion 26", 1), ("CCAS de Valence", 1), ("Sans structure", 1)}
    assert [r.lastname for r in everything.rows] == ["Elsewhere", "Mine", "Nobody"]

    admin = token_mint.token(Role.admin_structure, deployment_id=t.deployment_id, profile_id=uuid.uuid4(),
                             structure_ids=[t.structure_id])
    hers = await notebook.call(QueryBeneficiariesV1(), admin)
    assert [r.notebook_id for r in hers.rows] == [mine] and hers.total == 1
    # Asking for another structure's rows gives none of them.
    asked = await notebook.call(QueryBeneficiariesV1(filters=BeneficiaryFilters(
        structure_ids=[t.other_structure_id])), admin)
    assert (asked.total, asked.rows, asked.by_structure) == (0, [], [])

    choices = await notebook.call(GetQueryChoicesV1(), t.manager)
    assert [s.label for s in choices.structures] == ["CCAS de Valence", "Insertion 26"]
    assert [p.label for p in choices.referents] == ["Pierre Pro"]
    assert [s.label for s in choices.orientation_systems] == ["Professionnel", "Social"]
    assert [s.label for s in (await notebook.call(GetQueryChoicesV1(), admin)).structures] == ["Insertion 26"]

    professional = await notebook.call(QueryBeneficiariesV1(), t.pro)
    assert [r.notebook_id for r in professional.rows] == [mine]
    assert professional.rows[0].referent_name == "Pierre Pro"

    filtered = await notebook.call(QueryBeneficiariesV1(filters=BeneficiaryFilters(
        structure_ids=[t.structure_id], without_structure=True)), t.manager)
    assert {r.lastname for r in filtered.rows} == {"Mine", "Nobody"}

    other = await territory(notebook, token_mint, "38")
    assert (await notebook.call(QueryBeneficiariesV1(), other.manager)).total == 0
    beneficiary_token = token_mint.token(Role.beneficiary, deployment_id=t.deployment_id, profile_id=uuid.uuid4())
    assert (await refused(notebook.call(QueryBeneficiariesV1(), beneficiary_token))).code == ErrorCode.forbidden
    refusal = await refused(notebook.call(QueryBeneficiariesV1(deployment_id=other.deployment_id), t.manager))
    assert refusal.code == ErrorCode.forbidden


async def test_saved_queries_are_their_owners_and_shared_with_the_territory(notebook, token_mint):
    t = await territory(notebook, token_mint)
    colleague = token_mint.token(Role.manager, deployment_id=t.deployment_id, profile_id=uuid.uuid4())
    filters = BeneficiaryFilters(subject_to_right_and_duty=True, cer_states=["none"])
    saved = (await notebook.call(SaveQueryV1(name="Sans CER", filters=filters), t.manager)).query
    assert (saved.mine, saved.shared, saved.filters, saved.owner_name) == (True, False, filters, "Marie Gérante")
    twice = await refused(notebook.call(SaveQueryV1(name="Sans  CER", filters=filters), t.manager))
    assert twice.code == ErrorCode.conflict and "Sans CER" in twice.message

    # Not shared: the colleague does not see it (an unknown id to her).
    assert (await notebook.call(ListSavedQueriesV1(), colleague)).queries == []
    assert (await refused(notebook.call(GetSavedQueryV1(query_id=saved.query_id), colleague))).code == \
        ErrorCode.not_found
    assert (await refused(notebook.call(DeleteSavedQueryV1(query_id=saved.query_id), colleague))).code == \
        ErrorCode.not_found

    shared = (await notebook.call(SaveQueryV1(query_id=saved.query_id, name="Sans CER", filters=filters,
                                              shared=True), t.manager)).query
    assert shared.shared and shared.updated_at is not None
    [seen] = (await notebook.call(ListSavedQueriesV1(), colleague)).queries
    assert (seen.name, seen.mine, seen.filters) == ("Sans CER", False, filters)
    assert (await refused(notebook.call(DeleteSavedQueryV1(query_id=saved.query_id), colleague))).code == \
        ErrorCode.forbidden
    renamed = await refused(notebook.call(SaveQueryV1(query_id=saved.query_id, name="À moi"), colleague))
    assert renamed.code == ErrorCode.forbidden

    other = await territory(notebook, token_mint, "38")
    assert (await notebook.call(ListSavedQueriesV1(), other.manager)).queries == []
    assert (await refused(notebook.call(GetSavedQueryV1(query_id=saved.query_id), other.manager))).code == \
        ErrorCode.not_found

    await notebook.call(DeleteSavedQueryV1(query_id=saved.query_id), t.manager)
    assert (await notebook.call(ListSavedQueriesV1(), t.manager)).queries == []


async def test_two_saves_of_one_name_at_once_keep_one_and_refuse_the_other_in_french(notebook, token_mint):
    t = await territory(notebook, token_mint)
    results = await asyncio.gather(*(notebook.call(SaveQueryV1(name="En même temps"), t.manager) for _ in range(2)),
                                   return_exceptions=True)
    refusals = [r for r in results if isinstance(r, BaseException)]
    assert len(refusals) == 1, results
    assert getattr(refusals[0], "code", None) == ErrorCode.conflict, refusals[0]
    assert "En même temps" in refusals[0].message
    assert [q.name for q in (await notebook.call(ListSavedQueriesV1(), t.manager)).queries] == ["En même temps"]


async def test_an_import_publishes_one_event_per_notebook_created_or_updated(notebook, token_mint):
    t = await territory(notebook, token_mint)
    actor = ImportActor(account_id=uuid.uuid4(), role=Role.manager, deployment_id=t.deployment_id,
                        profile_id=uuid.uuid4(), name="Marie Gérante")

    def batch(city: str) -> list[ImportRowValues]:
        return [ImportRowValues(row=2 + i, values={
            "firstname": f"Prénom{i}", "lastname": f"Importé{i}", "date_of_birth": "1990-01-0" + str(i + 1),
            "external_id": f"SI-{i}", "city": city, "structure_name": "Insertion 26"}) for i in range(3)]

    created = await notebook.call(ApplyNotebookImportV1(import_id=uuid.uuid4(), kind=ImportKind.beneficiaries,
                                                        actor=actor, rows=batch("Valence")))
    ids = {r.target_id for r in created.results}
    assert await settle(notebook, t.delivered) == 3
    for notebook_id in ids:
        row = await row_of(notebook, notebook_id)
        assert (row.origin, row.structure_id, row.support) == ("import", t.structure_id, "waiting")

    await notebook.call(ApplyNotebookImportV1(import_id=uuid.uuid4(), kind=ImportKind.beneficiaries,
                                              actor=actor, rows=batch("Romans")))
    changed = [e for e in await notebook.events(NotebookChangedV1.subject) if e.event_id not in t.delivered]
    assert {e.notebook_id for e in changed} == ids and len(changed) == 3


async def test_the_events_waiting_are_applied_together_as_one_by_one(notebook, token_mint):
    """The consumer takes the events waiting behind the first (an import's thousands) and recomputes their
    notebooks in one transaction: the same rows as one event at a time, the same notebook twice counted once."""
    from types import SimpleNamespace

    from notebook.handlers.pilotage_facts import on_notebook_changed

    t = await territory(notebook, token_mint)
    actor = ImportActor(account_id=uuid.uuid4(), role=Role.manager, deployment_id=t.deployment_id,
                        profile_id=uuid.uuid4(), name="Marie Gérante")
    created = await notebook.call(ApplyNotebookImportV1(
        import_id=uuid.uuid4(), kind=ImportKind.beneficiaries, actor=actor, rows=[ImportRowValues(row=2 + i, values={
            "firstname": f"Prénom{i}", "lastname": f"Ensemble{i}", "date_of_birth": "1990-02-0" + str(i + 1),
            "external_id": f"SI-E{i}", "city": "Valence", "structure_name": "Insertion 26"}) for i in range(4)]))
    ids = {r.target_id for r in created.results}
    events = [e for e in await notebook.events(NotebookChangedV1.subject) if e.event_id not in t.delivered]
    assert {e.notebook_id for e in events} == ids
    await on_notebook_changed.together([*events, events[0]], deps=SimpleNamespace(sessions=notebook.sessions))
    t.delivered.update(e.event_id for e in events)
    for notebook_id in ids:
        row = await row_of(notebook, notebook_id)
        assert (row.origin, row.structure_id, row.support) == ("import", t.structure_id, "waiting")
    async with notebook.sessions() as session:
        rows = {r.notebook_id: (r.origin, r.structure_id, r.support, r.deployment_id) for r in (await session.execute(
            select(PilotageNotebook).where(PilotageNotebook.notebook_id.in_(ids)))).scalars()}
    for event in events:  # one at a time now: nothing changes
        await notebook.deliver(event)
    async with notebook.sessions() as session:
        again = {r.notebook_id: (r.origin, r.structure_id, r.support, r.deployment_id) for r in (await session.execute(
            select(PilotageNotebook).where(PilotageNotebook.notebook_id.in_(ids)))).scalars()}
    assert again == rows and len(rows) == 4


async def test_a_transferred_notebook_moves_to_its_new_territory_and_rebuild_fills_the_gaps(notebook, token_mint):
    origin = await territory(notebook, token_mint)
    destination = await territory(notebook, token_mint, "38")
    notebook_id = await beneficiary(notebook, origin, "Moving")
    await notebook.call(c.JoinNotebookV1(notebook_id=notebook_id, as_referent=True,
                                         orientation_system_id=origin.system_id), origin.pro)
    asked = await notebook.call(RequestTransferV1(notebook_id=notebook_id, to_deployment_id=destination.deployment_id,
                                                  reason="Déménagement"), origin.manager)
    await notebook.call(DecideTransferV1(transfer_id=asked.id, accepted=True), destination.manager)
    await settle(notebook, origin.delivered)
    row = await row_of(notebook, notebook_id)
    assert (row.deployment_id, row.support, row.referent_id, row.structure_id) == (
        destination.deployment_id, "not_accompanied", None, None)
    assert (await notebook.call(QueryBeneficiariesV1(), origin.manager)).total == 0
    assert [r.notebook_id for r in (await notebook.call(QueryBeneficiariesV1(), destination.manager)).rows] == [
        notebook_id]

    # A notebook whose row is missing (events lost, a database restored) gets it back from rebuild.
    async with notebook.sessions.begin() as session:
        await session.execute(delete(PilotageNotebook).where(PilotageNotebook.notebook_id == notebook_id))
    assert await row_of(notebook, notebook_id) is None
    assert await pilotage_facts.rebuild(SimpleNamespace(sessions=notebook.sessions), batch=2) >= 1
    assert (await row_of(notebook, notebook_id)).deployment_id == destination.deployment_id


async def test_the_first_snapshot_waits_for_the_rebuild(notebook, token_mint, monkeypatch):
    """A notebook without its row at start is in the day's snapshot: the rebuild runs first (issue 18)."""
    t = await territory(notebook, token_mint)
    notebook_id = await beneficiary(notebook, t, "Oublié")
    async with notebook.sessions.begin() as session:
        await session.execute(delete(PilotageNotebook).where(PilotageNotebook.notebook_id == notebook_id))
    day = paris_today() + timedelta(days=5000 + uuid.uuid4().int % 1000)  # a day no other test takes
    moment = datetime.combine(day, time(12), UTC)

    async def stop(_seconds):
        raise asyncio.CancelledError

    monkeypatch.setattr(periodic.asyncio, "sleep", stop)
    with pytest.raises(asyncio.CancelledError):
        await pilotage_snapshots.run_snapshots(SimpleNamespace(sessions=notebook.sessions, clock=lambda: moment))
    async with notebook.sessions() as session:
        counted = await session.scalar(select(func.sum(PilotageSnapshot.count)).where(
            PilotageSnapshot.day == day, PilotageSnapshot.deployment_id == t.deployment_id))
    assert counted == 1


async def test_a_row_refused_in_a_savepoint_does_not_lose_the_others_events(notebook, token_mint, monkeypatch):
    """Replayed row by row (a row the database refuses), each row in a savepoint: the one rolled back must not
    make the transaction forget the notebooks of the rows applied before it."""
    t = await territory(notebook, token_mint)
    actor = ImportActor(account_id=uuid.uuid4(), role=Role.manager, deployment_id=t.deployment_id,
                        profile_id=uuid.uuid4(), name="Marie Gérante")
    monkeypatch.setattr(import_beneficiaries.Context, "remember", lambda self, b, n: None)

    def person(firstname: str, external_id: str) -> dict:
        return {"firstname": firstname, "lastname": "Savepoint", "date_of_birth": "1985-03-12",
                "external_id": external_id}

    done = await notebook.call(ApplyNotebookImportV1(
        import_id=uuid.uuid4(), kind=ImportKind.beneficiaries, actor=actor, rows=[
            ImportRowValues(row=2, values=person("Un", "SI-1")), ImportRowValues(row=3, values=person("Deux", "SI-2")),
            ImportRowValues(row=4, values=person("Un", "SI-1")),
            ImportRowValues(row=5, values=person("Trois", "SI-3"))]))
    created = {r.target_id for r in done.results if r.outcome == "created"}
    assert len(created) == 3
    changed = {e.notebook_id for e in await notebook.events(NotebookChangedV1.subject) if e.event_id not in t.delivered}
    assert created <= changed


async def test_date_filters_count_paris_days(notebook, token_mint):
    t = await territory(notebook, token_mint)
    await beneficiary(notebook, t, "Today")
    await settle(notebook, t.delivered)
    today, yesterday = paris_today(), paris_today() - timedelta(days=1)

    async def total(**filters) -> int:
        return (await notebook.call(QueryBeneficiariesV1(filters=BeneficiaryFilters(**filters)), t.manager)).total

    assert await total(created_from=today, created_to=today) == 1
    assert await total(last_activity_from=today) == 1
    assert await total(created_to=yesterday) == 0
    assert await total(cer_states=["none"], subject_to_right_and_duty=False) == 1
    assert await total(cer_end_from=yesterday) == 0  # no CER, no end date


async def test_every_field_of_the_filter_builder_narrows_the_list(notebook, token_mint):
    """Each criterion of issue 18 item 2 — structure, référent, orientation system, support status, RSA right,
    droits et devoirs, CER state and end date, last activity, themes, created between, imported from — keeps the
    rows that match it (and the count says as many); fields are AND between them, values OR within one."""
    t = await territory(notebook, token_mint)
    today = paris_today()

    def at(days: int) -> datetime:
        return datetime.combine(today - timedelta(days=days), time(10), UTC)

    rows = {
        "Un": dict(structure_id=t.structure_id, referent_id=t.pro_id, orientation_system_id=t.system_id,
                   support="accompanied", rsa_right="rsa_droit_ouvert_versable", subject_to_right_and_duty=True,
                   cer_state="signed", cer_end_date=today + timedelta(days=20), last_activity_at=at(1),
                   themes="|emploi|logement|", created_at=at(10), origin="import"),
        "Deux": dict(structure_id=t.other_structure_id, orientation_system_id=t.social_id, support="waiting",
                     rsa_right="rsa_clos", subject_to_right_and_duty=False, cer_state="none",
                     last_activity_at=at(60), themes="|sante|", created_at=at(100), origin="cafmsa"),
        "Trois": dict(support="not_accompanied", rsa_right="rsa_droit_ouvert_versable",
                      subject_to_right_and_duty=True, cer_state="ended", cer_end_date=today - timedelta(days=5),
                      themes="", created_at=at(400), origin="manual"),
    }
    async with notebook.sessions.begin() as session:
        for lastname, fact in rows.items():
            session.add(PilotageNotebook(notebook_id=uuid.uuid4(), deployment_id=t.deployment_id, lastname=lastname,
                                         firstname="Anne", refreshed_at=at(0), **fact))

    async def matching(**filters) -> set[str]:
        reply = await notebook.call(QueryBeneficiariesV1(filters=BeneficiaryFilters(**filters)), t.manager)
        assert reply.total == len(reply.rows), filters
        return {r.lastname for r in reply.rows}

    assert await matching() == {"Un", "Deux", "Trois"}
    assert await matching(structure_ids=[t.other_structure_id]) == {"Deux"}
    assert await matching(referent_ids=[t.pro_id]) == {"Un"}
    assert await matching(orientation_system_ids=[t.social_id]) == {"Deux"}
    assert await matching(support=["waiting", "not_accompanied"]) == {"Deux", "Trois"}
    assert await matching(rsa_rights=["rsa_droit_ouvert_versable"]) == {"Un", "Trois"}
    assert await matching(rsa_rights=["rsa_clos", "rsa_refuse"]) == {"Deux"}
    assert await matching(subject_to_right_and_duty=True) == {"Un", "Trois"}
    assert await matching(subject_to_right_and_duty=False) == {"Deux"}
    assert await matching(cer_states=["none", "ended"]) == {"Deux", "Trois"}
    assert await matching(cer_end_from=today, cer_end_to=today + timedelta(days=30)) == {"Un"}
    assert await matching(cer_end_to=today) == {"Trois"}
    assert await matching(last_activity_from=today - timedelta(days=7)) == {"Un"}
    assert await matching(last_activity_to=today - timedelta(days=30)) == {"Deux"}
    assert await matching(themes=["logement"]) == {"Un"}
    assert await matching(themes=["sante", "emploi"]) == {"Un", "Deux"}
    assert await matching(created_from=today - timedelta(days=200), created_to=today - timedelta(days=50)) == {"Deux"}
    assert await matching(origins=["import"]) == {"Un"}
    assert await matching(origins=["cafmsa", "manual"]) == {"Deux", "Trois"}
    assert await matching(subject_to_right_and_duty=True, cer_states=["none", "ended"]) == {"Trois"}
