"""Directory's use cases through its broker in memory (FastStream's TestNatsBroker), on SQLite and PostgreSQL:
request → reply model, or the error code the gateway turns into an HTTP status."""
from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import pytest

from contracts import directory as c
from contracts.base import ErrorCode
from contracts.identity import AccountProfileChangedV1, Role
from contracts.profiles import BeneficiaryCreatedV1, ManagerCreatedV1, ProfessionalCreatedV1, ProfessionalUpdatedV1
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration
# A territory per département: each test's own code in the module's database.
DEPARTMENT_CODES = (str(code) for code in itertools.count(100))


@pytest.fixture
async def directory(service_under_test) -> InMemoryService:
    return await service_under_test("directory")


@dataclass
class Territory:
    deployment: c.DeploymentReply
    manager_token: str

    @property
    def id(self) -> uuid.UUID:
        return self.deployment.deployment_id

    def system(self, name: str) -> uuid.UUID:
        return next(s.orientation_system_id for s in self.deployment.orientation_systems if s.name == name)


def email(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@test.carnet.fr"


def person(firstname: str, lastname: str, **fields) -> c.PersonFields:
    return c.PersonFields(firstname=firstname, lastname=lastname, email=email(lastname.lower()), **fields)


async def new_territory(directory: InMemoryService, token_mint) -> Territory:
    admin = token_mint.token(Role.admin_cdb)
    deployment = await directory.call(c.CreateDeploymentV1(
        label="Drôme", department_code=next(DEPARTMENT_CODES), manager=person("Marie", "Gérante")), admin)
    [manager] = deployment.managers
    return Territory(deployment, token_mint.token(Role.manager, deployment_id=deployment.deployment_id,
                                                  profile_id=manager.person_id))


async def test_a_territory_is_created_with_its_manager_and_the_default_orientation_systems(directory, token_mint):
    territory = await new_territory(directory, token_mint)

    assert [m.firstname for m in territory.deployment.managers] == ["Marie"]
    assert sorted(s.name for s in territory.deployment.orientation_systems) == [
        "Professionnel", "Social", "Socio-professionnel"]
    subjects = [e.subject for e in await directory.events()]
    assert subjects[0] == "directory.deployment.created.v1"
    assert subjects.count(c.OrientationSystemCreatedV1.subject) == 3
    assert subjects.count(ManagerCreatedV1.subject) == 1
    # The caller's own territory when none is named.
    assert (await directory.call(c.GetDeploymentV1(), territory.manager_token)).deployment_id == territory.id


async def test_a_manager_creates_a_structure_and_a_professional_found_without_accents_or_case(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    structure = await directory.call(c.CreateStructureV1(structure=c.StructureFields(
        name="Mission Locale d'Évry", city="Évry", postal_code="91000",
        orientation_system_ids=[territory.system("Professionnel")])), territory.manager_token)
    professional = await directory.call(c.CreatePersonV1(
        role=c.PersonRole.professional, person=person("Zoé", "Lefèvre"), structure_ids=[structure.structure_id],
        orientation_system_ids=[territory.system("Professionnel")]), territory.manager_token)

    assert structure.deployment_id == territory.id and structure.version == 1
    assert [s.name for s in professional.structures] == ["Mission Locale d'Évry"]
    [created] = await directory.events(ProfessionalCreatedV1.subject)
    assert created.profile_id == professional.person_id and created.structure_ids == [structure.structure_id]

    found = await directory.call(c.SearchStructuresV1(q="MISSION evry"), territory.manager_token)
    assert [s.structure_id for s in found.structures] == [structure.structure_id] and found.total == 1
    people = await directory.call(c.SearchPeopleV1(q="zoe lefevre", role=c.PersonRole.professional),
                                  territory.manager_token)
    assert [p.person_id for p in people.people] == [professional.person_id]
    assert (await directory.call(c.SearchPeopleV1(q="personne"), territory.manager_token)).total == 0


async def test_a_professional_holds_only_dispositifs_her_structure_offers(directory, token_mint):
    """The person's form proposes only her structure's dispositifs; a request made another way (the API, a crafted
    page post) is refused by the directory itself, in French, naming the dispositif, and changes nothing."""
    territory = await new_territory(directory, token_mint)
    pro_system, social = territory.system("Professionnel"), territory.system("Social")
    atelier = await directory.call(c.CreateStructureV1(structure=c.StructureFields(
        name="Atelier Emploi", orientation_system_ids=[pro_system])), territory.manager_token)
    ccas = await directory.call(c.CreateStructureV1(structure=c.StructureFields(
        name="CCAS", orientation_system_ids=[pro_system, social])), territory.manager_token)

    crafted = c.CreatePersonV1(role=c.PersonRole.professional, person=person("Pauline", "Sansocial"),
                               structure_ids=[atelier.structure_id], orientation_system_ids=[pro_system, social])
    invalid = await refused(directory.call(crafted, territory.manager_token))
    assert invalid.code == ErrorCode.invalid and invalid.details["field"] == "orientation_system_ids"
    assert "« Social »" in invalid.message and "« Atelier Emploi »" in invalid.message
    assert "Professionnel" not in invalid.message  # only what is wrong is named
    several = crafted.model_copy(update={"orientation_system_ids": [territory.system("Socio-professionnel"), social]})
    assert "les dispositifs « Social » et « Socio-professionnel »" in (
        await refused(directory.call(several, territory.manager_token))).message
    assert (await directory.call(c.SearchPeopleV1(q="Sansocial"), territory.manager_token)).total == 0
    assert await directory.events(ProfessionalCreatedV1.subject) == []

    paul = await directory.call(crafted.model_copy(update={"orientation_system_ids": [pro_system]}),
                                territory.manager_token)
    fields = person("Pauline", "Sansocial").model_copy(update={"email": paul.email})
    for systems in ([pro_system, social], [social]):
        edit = c.UpdatePersonV1(person_id=paul.person_id, version=paul.version, structure_ids=[atelier.structure_id],
                                orientation_system_ids=systems, person=fields)
        invalid = await refused(directory.call(edit, territory.manager_token))
        assert invalid.code == ErrorCode.invalid and invalid.details["field"] == "orientation_system_ids"
        assert "« Social »" in invalid.message and "« Atelier Emploi »" in invalid.message
    now = await directory.call(c.GetPersonV1(person_id=paul.person_id), territory.manager_token)
    assert now.version == paul.version and [s.name for s in now.orientation_systems] == ["Professionnel"]
    assert await directory.events(ProfessionalUpdatedV1.subject) == []

    # Moved to the CCAS, which offers it, Social is hers; moved back to the Atelier, she cannot take it along.
    moved = await directory.call(c.UpdatePersonV1(
        person_id=paul.person_id, version=paul.version, structure_ids=[ccas.structure_id],
        orientation_system_ids=[pro_system, social], person=fields), territory.manager_token)
    assert [s.name for s in moved.orientation_systems] == ["Professionnel", "Social"]
    back = c.UpdatePersonV1(person_id=paul.person_id, version=moved.version, structure_ids=[atelier.structure_id],
                            orientation_system_ids=[pro_system, social], person=fields)
    assert (await refused(directory.call(back, territory.manager_token))).code == ErrorCode.invalid
    back = back.model_copy(update={"orientation_system_ids": [pro_system]})
    assert [s.structure_id for s in (await directory.call(back, territory.manager_token)).structures] == [
        atelier.structure_id]


async def test_an_edit_of_an_outdated_version_is_a_conflict_carrying_the_current_one(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    structure = await directory.call(c.CreateStructureV1(structure=c.StructureFields(name="PLIE")),
                                     territory.manager_token)
    professional = await directory.call(c.CreatePersonV1(
        role=c.PersonRole.professional, person=person("Paul", "Durand"), structure_ids=[structure.structure_id]),
        territory.manager_token)

    edit = c.UpdatePersonV1(person_id=professional.person_id, version=1, structure_ids=[structure.structure_id],
                            person=person("Paul", "Durand", position="Conseiller"))
    assert (await directory.call(edit, territory.manager_token)).version == 2
    conflict = await refused(directory.call(edit, territory.manager_token))
    assert conflict.code == ErrorCode.conflict
    assert conflict.details["current"]["version"] == 2 and conflict.details["current"]["position"] == "Conseiller"

    renamed = c.UpdateStructureV1(structure_id=structure.structure_id, version=1,
                                  structure=c.StructureFields(name="PLIE Sud"))
    assert (await directory.call(renamed, territory.manager_token)).version == 2
    assert (await refused(directory.call(renamed, territory.manager_token))).code == ErrorCode.conflict


async def test_what_lies_in_another_territory_is_not_found_and_refusals_have_their_codes(directory, token_mint):
    mine, other = await new_territory(directory, token_mint), await new_territory(directory, token_mint)
    elsewhere = await directory.call(c.CreateStructureV1(structure=c.StructureFields(name="Ailleurs")),
                                     other.manager_token)
    professional = token_mint.token(Role.professional, deployment_id=mine.id, profile_id=uuid.uuid4())

    for call, code in [
        (c.GetStructureV1(structure_id=elsewhere.structure_id), ErrorCode.not_found),
        (c.GetDeploymentV1(deployment_id=other.id), ErrorCode.not_found),
        (c.SearchPeopleV1(deployment_id=other.id), ErrorCode.not_found),
        (c.GetPersonV1(person_id=uuid.uuid4()), ErrorCode.not_found),
    ]:
        assert (await refused(directory.call(call, mine.manager_token))).code == code, call
    create = c.CreateStructureV1(structure=c.StructureFields(name="Interdite"))
    assert (await refused(directory.call(create, professional))).code == ErrorCode.forbidden
    assert (await refused(directory.call(create))).code == ErrorCode.unauthenticated
    assert (await refused(directory.call(create, "not-a-token"))).code == ErrorCode.unauthenticated
    bad_siret = c.CreateStructureV1(structure=c.StructureFields(name="Mal saisie", siret="12345678901234"))
    invalid = await refused(directory.call(bad_siret, mine.manager_token))
    assert invalid.code == ErrorCode.invalid and invalid.details["field"] == "siret"
    # A request breaking its contract's own rules (as a client other than ours could send it) is the caller's 422.
    too_many = await refused(directory.call(c.SearchStructuresV1.model_construct(limit=1000), mine.manager_token))
    assert too_many.code == ErrorCode.invalid and [f["loc"] for f in too_many.details["fields"]] == [["limit"]]
    assert (await directory.call(c.SearchStructuresV1(), other.manager_token)).total == 1


async def test_a_profile_edit_made_at_identity_is_applied_once_however_often_it_is_delivered(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    structure = await directory.call(c.CreateStructureV1(structure=c.StructureFields(name="CCAS")),
                                     territory.manager_token)
    professional = await directory.call(c.CreatePersonV1(
        role=c.PersonRole.professional, person=person("Léa", "Martin"), structure_ids=[structure.structure_id]),
        territory.manager_token)
    edited = AccountProfileChangedV1(
        account_id=uuid.uuid4(), role=Role.professional, deployment_id=territory.id,
        profile_id=professional.person_id, email=professional.email, firstname="Léa", lastname="Martin-Roux",
        phone="06 12 34 56 78", position="Référente RSA")

    await directory.deliver(edited)
    await directory.deliver(edited)  # redelivered: JetStream delivers at least once

    now = await directory.call(c.GetPersonV1(person_id=professional.person_id), territory.manager_token)
    assert (now.lastname, now.position, now.phone, now.version) == ("Martin-Roux", "Référente RSA", "06 12 34 56 78", 2)
    [updated] = await directory.events(ProfessionalUpdatedV1.subject)
    assert updated.lastname == "Martin-Roux"


async def test_beneficiaries_are_counted_once_per_territory(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    created = BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=territory.id, firstname="Sophie")

    await directory.deliver(created)
    await directory.deliver(created)
    await directory.deliver(BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=territory.id))

    assert (await directory.call(c.GetDeploymentV1(), territory.manager_token)).beneficiaries == 2


async def test_an_imports_beneficiaries_are_counted_together_in_one_statement_each_kind(directory, token_mint):
    """An import sends thousands of these: a batch reads which beneficiaries are already counted in one query and
    inserts the others in one statement, not a query and a flush per event; counted as one by one."""
    from sqlalchemy import event as sa_event

    territory = await new_territory(directory, token_mint)
    [created] = [s for s in directory.service.bus.subscriptions if s.durable == "directory-beneficiary-created"]
    known = BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=territory.id)
    await directory.deliver(known)
    again = BeneficiaryCreatedV1(profile_id=known.profile_id, deployment_id=territory.id)  # a new event, same person
    news = [BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=territory.id) for _ in range(20)]
    twice = BeneficiaryCreatedV1(profile_id=news[0].profile_id, deployment_id=territory.id)
    statements = []

    def count(_conn, _cursor, statement, *_args):
        if "beneficiary_seen" in statement:
            statements.append(statement)

    engine = directory.service.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        await created.together([again, *news, twice, BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=None)])
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    await created.together([again, *news])  # redelivered: nothing more

    assert (await directory.call(c.GetDeploymentV1(), territory.manager_token)).beneficiaries == 21
    assert len(statements) <= 2, "\n\n".join(statements)
