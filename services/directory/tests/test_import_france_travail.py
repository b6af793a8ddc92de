"""The directory's part of France Travail's principal flux (spec §4.3), through its broker in memory on SQLite and
PostgreSQL: each row's référent and agency found in the territory or created, once per (import, row)."""
from __future__ import annotations

import itertools
import uuid

import pytest
from sqlalchemy import func, select

from contracts import directory as c
from contracts.base import ErrorCode
from contracts.identity import Role
from contracts.imports import ApplyDirectoryImportV1, ImportActor, ImportKind, ImportRowValues, Outcome
from contracts.profiles import ProfessionalCreatedV1
from directory.adapters.orm import Person, PersonStructure, Structure
from directory.handlers.imports import france_travail as ft
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration
DEPARTMENT_CODES = (str(code) for code in itertools.count(600))


@pytest.fixture
async def directory(service_under_test) -> InMemoryService:
    return await service_under_test("directory")


class Territory:
    def __init__(self, directory: InMemoryService, deployment: c.DeploymentReply, token_mint) -> None:
        self.directory, self.id = directory, deployment.deployment_id
        [manager] = deployment.managers
        self.manager = ImportActor(account_id=uuid.uuid4(), role=Role.manager, deployment_id=self.id,
                                   profile_id=manager.person_id, name="Marie Gérante")
        self.token = token_mint.token(Role.manager, deployment_id=self.id, profile_id=manager.person_id)
        self.tag = uuid.uuid4().hex[:8]

    def email(self, local: str) -> str:
        return f"{local}@{self.tag}.pole-emploi.fr"

    async def apply(self, rows: list[ImportRowValues], import_id: uuid.UUID | None = None,
                    actor: ImportActor | None = None):
        return (await self.directory.call(ApplyDirectoryImportV1(
            import_id=import_id or uuid.uuid4(), kind=ImportKind.france_travail_principal,
            actor=actor or self.manager, rows=rows))).results


async def new_territory(directory: InMemoryService, token_mint) -> Territory:
    deployment = await directory.call(c.CreateDeploymentV1(
        label="Ardennes", department_code=next(DEPARTMENT_CODES), manager=c.PersonFields(
            firstname="Marie", lastname="Gérante", email=f"gerante.{uuid.uuid4().hex[:8]}@test.fr")),
        token_mint.token(Role.admin_cdb))
    return Territory(directory, deployment, token_mint)


def row(number: int, agency: str, email: str, firstname: str = "Referent_prenom 1",
        lastname: str = "REFERENT_NOM 1") -> ImportRowValues:
    """A principal row as the import service sends it (its other columns do not matter here)."""
    return ImportRowValues(row=number, values={"identifiant_unique_de": str(uuid.uuid4()), "brsa": True,
                                               "struct_principale": agency, "referent_mail": email,
                                               "referent_prenom": firstname, "referent_nom": lastname})


async def all_of(directory: InMemoryService, query) -> list:
    async with directory.sessions() as session:
        return list((await session.execute(query)).all())


async def test_unknown_agency_and_referent_are_created_once_then_reused(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    first, second = territory.email("referent_prenom3.referent_nom3"), territory.email("agent.deux")
    rows = [row(2, "RETHEL", first), row(3, "Rethel", second, "Jean", "Deux"), row(4, "RETHEL", first)]
    import_id = uuid.uuid4()
    applied = await territory.apply(rows, import_id)

    assert [r.outcome for r in applied] == [Outcome.created, Outcome.created, Outcome.unchanged]
    assert applied[0].messages == [ft.AGENCY_CREATED.format(name="RETHEL"), ft.REFERENT_CREATED.format(
        name="Referent_prenom 1 REFERENT_NOM 1", email=first)]
    assert applied[1].messages == [ft.REFERENT_CREATED.format(name="Jean Deux", email=second)]  # the same agency
    assert applied[2].target_id == applied[0].target_id and applied[2].messages == []
    [(agency_id, name, description)] = await all_of(directory, select(
        Structure.id, Structure.name, Structure.short_desc).where(Structure.deployment_id == territory.id))
    assert (name, description) == ("RETHEL", ft.AGENCY_DESCRIPTION)
    people = await all_of(directory, select(Person.id, Person.role, Person.email, PersonStructure.structure_id).join(
        PersonStructure, PersonStructure.person_id == Person.id).where(Person.deployment_id == territory.id,
                                                                       Person.role == "professional"))
    assert sorted(people, key=str) == sorted([(applied[0].target_id, "professional", first, agency_id),
                                              (applied[1].target_id, "professional", second, agency_id)], key=str)
    # identity opens their accounts from these events, as for a professional created with the form.
    created = await directory.events(ProfessionalCreatedV1.subject)
    assert {e.profile_id for e in created} == {applied[0].target_id, applied[1].target_id}

    # The same batch sent again (after a crash of the import service): the recorded answers, nothing created.
    again = await territory.apply(rows, import_id)
    assert [(r.outcome, r.target_id) for r in again] == [(r.outcome, r.target_id) for r in applied]
    # Another import of the same rows: everyone known now.
    later = await territory.apply(rows)
    assert [(r.outcome, r.target_id) for r in later] == [(Outcome.unchanged, r.target_id) for r in applied]
    async with directory.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Structure).where(
            Structure.deployment_id == territory.id)) == 1


async def test_known_agency_and_professional_are_reused_and_other_accounts_left_alone(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    elsewhere = await new_territory(directory, token_mint)
    agency = await directory.call(c.CreateStructureV1(structure=c.StructureFields(
        name="Charleville-Mézières Val de Vence", city="Charleville-Mézières")), territory.token)
    sanka = await directory.call(c.CreatePersonV1(role=c.PersonRole.professional, person=c.PersonFields(
        firstname="Sanka", lastname="Pro", email=territory.email("sanka")), structure_ids=[agency.structure_id]),
        territory.token)
    admin = await directory.call(c.CreatePersonV1(role=c.PersonRole.admin_structure, person=c.PersonFields(
        firstname="Ada", lastname="Admin", email=territory.email("admin")), structure_ids=[agency.structure_id]),
        territory.token)
    other = await directory.call(c.CreatePersonV1(role=c.PersonRole.professional, person=c.PersonFields(
        firstname="Otto", lastname="Ailleurs", email=elsewhere.email("otto")), structure_ids=[
        (await directory.call(c.CreateStructureV1(structure=c.StructureFields(name="Ailleurs")), elsewhere.token))
        .structure_id]), elsewhere.token)

    applied = await territory.apply([
        row(2, "CHARLEVILLE-MEZIERES VAL DE VENCE", territory.email("sanka")),  # known, accents and case aside
        row(3, "RETHEL", territory.email("SANKA")),  # known wherever she works; her agency is created
        row(4, "RETHEL", territory.email("admin")),  # a structure admin's address
        row(5, "RETHEL", elsewhere.email("otto")),  # a professional of another territory
        row(6, "", territory.email("nobody")),  # no agency named
    ])
    assert [(r.outcome, r.target_id) for r in applied[:2]] == [(Outcome.unchanged, sanka.person_id),
                                                                (Outcome.created, sanka.person_id)]
    assert applied[0].messages == [] and applied[1].messages == [ft.AGENCY_CREATED.format(name="RETHEL")]
    assert [r.outcome for r in applied[2:]] == [Outcome.rejected] * 3
    assert applied[2].messages == [ft.NOT_A_PROFESSIONAL.format(email=territory.email("admin"))]
    assert applied[3].messages == [ft.NOT_A_PROFESSIONAL.format(email=elsewhere.email("otto"))]
    assert applied[4].messages == [ft.NO_REFERENT]
    assert admin.person_id and other.person_id
    names = await all_of(directory, select(Structure.name).where(Structure.deployment_id == territory.id))
    assert sorted(names) == [("Charleville-Mézières Val de Vence",), ("RETHEL",)]  # the refused rows made none
    assert {e.profile_id for e in await directory.events(ProfessionalCreatedV1.subject)} == {
        sanka.person_id, other.person_id}  # the forms' only: nobody created by the import


async def test_only_a_manager_of_the_territory_brings_france_travail_referents(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    admin = ImportActor(account_id=uuid.uuid4(), role=Role.admin_structure, deployment_id=territory.id,
                        profile_id=uuid.uuid4(), structure_ids=[uuid.uuid4()])
    error = await refused(territory.apply([row(2, "RETHEL", territory.email("x"))], actor=admin))
    assert error.code == ErrorCode.forbidden
