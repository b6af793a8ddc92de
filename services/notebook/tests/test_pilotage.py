"""Pilotage's read model and queries through notebook's broker in memory, on SQLite and PostgreSQL: every change of
a notebook publishes notebook.notebook.changed.v1, its consumer recomputes the facts row, and the queries (counts,
pages, breakdown by structure) see only what the caller may; saved queries are kept, shared and deleted by their
owner."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

import pytest

from contracts import notebook as c
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1
from contracts.identity import Role
from contracts.pilotage import BeneficiaryFilters, NotebookChangedV1
from contracts.profiles import DeploymentCreatedV1, ManagerCreatedV1, ProfessionalCreatedV1
from notebook.adapters import pilotage_query
from notebook.adapters.orm import PilotageNotebook
from testkit.handlers import InMemoryService

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
    delivered: set = field(default_factory=set)


async def territory(notebook: InMemoryService, token_mint, code: str = "26") -> Territory:
    deployment, structure, system = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    manager_id, pro_id = uuid.uuid4(), uuid.uuid4()
    await notebook.deliver(DeploymentCreatedV1(deployment_id=deployment, label="Drôme", department_code=code))
    await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=system, deployment_id=deployment,
                                                      name="Professionnel", orientation_type=OrientationType.pro))
    await notebook.deliver(StructureCreatedV1(structure_id=structure, deployment_id=deployment,
                                              name="Insertion 26", city="Valence"))
    await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=deployment, firstname="Marie",
                                            lastname="Gérante", email=f"g-{uuid.uuid4().hex[:6]}@cd26.fr"))
    await notebook.deliver(ProfessionalCreatedV1(
        profile_id=pro_id, deployment_id=deployment, firstname="Pierre", lastname="Pro",
        email=f"pro-{uuid.uuid4().hex[:6]}@cd26.fr", structure_ids=[structure], orientation_system_ids=[system]))
    return Territory(deployment, token_mint.token(Role.manager, deployment_id=deployment, profile_id=manager_id),
                     token_mint.token(Role.professional, deployment_id=deployment, profile_id=pro_id,
                                      structure_ids=[structure]), pro_id, structure, system)


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
