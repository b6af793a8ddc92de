"""Directory's side of file imports (spec §4.1 B–D) through its broker in memory, on SQLite and PostgreSQL: batches
of rows parsed as the import service parses v1's files, reviewed, then applied exactly once per (import, row)."""
from __future__ import annotations

import asyncio
import itertools
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contracts import directory as c
from contracts.base import ErrorCode
from contracts.identity import Role
from contracts.imports import (ApplyDirectoryImportV1, ImportActor, ImportKind, ImportRowValues, Outcome,
                               ReviewDirectoryImportV1, ReviewStatus)
from contracts.profiles import (AdminStructureCreatedV1, AdminStructureUpdatedV1, OrientationManagerCreatedV1,
                                ProfessionalCreatedV1, ProfessionalUpdatedV1)
from data_import.domain.kinds import ValidRow, match_header, validate_row
from data_import.domain.reading import read_table
from directory.adapters.orm import ImportApplied, Person, Structure
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration
DEPARTMENT_CODES = (str(code) for code in itertools.count(300))

REPOSITORY = Path(__file__).resolve().parents[3]
# v1's files live in shared/, inside the checkout (on the device machine) or next to it (../shared).
FIXTURES = REPOSITORY / "shared" / "fixtures" / "cdb-v1"
if not FIXTURES.is_dir():
    FIXTURES = REPOSITORY.parent / "shared" / "fixtures" / "cdb-v1"
# The people's addresses (a structure's own address may be shared).
PEOPLE_EMAILS = {"structures": "admin_email", "orientation-managers": "email", "professionals": "email"}


@pytest.fixture
async def directory(service_under_test) -> InMemoryService:
    return await service_under_test("directory")


def tagged(email: str, tag: str) -> str:
    """Addresses are unique in every territory: each test's own domain keeps the tests of a module apart."""
    local, _, domain = email.partition("@")
    return f"{local}@{tag}.{domain}"


def fixture_rows(name: str, kind: str, tag: str) -> tuple[list[ImportRowValues], dict[int, list[str]]]:
    """v1's file as the import service sends it: valid rows' values by field (JSON), and invalid rows' errors."""
    table = read_table(FIXTURES / name, name)
    header_map = match_header(kind, table.header)
    valid, errors = [], {}
    for row in table.rows():
        checked = validate_row(kind, header_map, row.cells)
        if isinstance(checked, ValidRow):
            values = {k: tagged(v, tag) if k == PEOPLE_EMAILS[kind] and v else v for k, v in checked.values.items()}
            valid.append(ImportRowValues.model_validate_json(ImportRowValues(row=row.number, values=values)
                                                             .model_dump_json()))
        else:
            errors[row.number] = [e.message for e in checked.errors]
    return valid, errors


class Territory:
    def __init__(self, directory: InMemoryService, deployment: c.DeploymentReply, token_mint) -> None:
        self.directory, self.deployment = directory, deployment
        [manager] = deployment.managers
        self.manager = ImportActor(account_id=uuid.uuid4(), role=Role.manager, deployment_id=self.id,
                                   profile_id=manager.person_id, name="Marie Gérante")
        self.token = token_mint.token(Role.manager, deployment_id=self.id, profile_id=manager.person_id)
        self.tag = uuid.uuid4().hex[:8]

    @property
    def id(self) -> uuid.UUID:
        return self.deployment.deployment_id

    async def review(self, kind: ImportKind, rows, actor: ImportActor | None = None, structure_id=None):
        return (await self.directory.call(ReviewDirectoryImportV1(
            import_id=uuid.uuid4(), kind=kind, actor=actor or self.manager, structure_id=structure_id,
            rows=rows))).results

    async def apply(self, kind: ImportKind, rows, actor: ImportActor | None = None, structure_id=None,
                    import_id: uuid.UUID | None = None):
        return (await self.directory.call(ApplyDirectoryImportV1(
            import_id=import_id or uuid.uuid4(), kind=kind, actor=actor or self.manager, structure_id=structure_id,
            rows=rows))).results

    def admin_of(self, structure_id: uuid.UUID) -> ImportActor:
        return ImportActor(account_id=uuid.uuid4(), role=Role.admin_structure, deployment_id=self.id,
                           profile_id=uuid.uuid4(), structure_ids=[structure_id], name="Jacques Célaire")

    async def structure(self, name: str, **fields) -> c.StructureReply:
        return await self.directory.call(c.CreateStructureV1(structure=c.StructureFields(name=name, **fields)),
                                         self.token)

    async def person(self, role: c.PersonRole, firstname: str, lastname: str, email: str, structure_ids=(),
                     **fields) -> c.PersonReply:
        return await self.directory.call(c.CreatePersonV1(
            role=role, person=c.PersonFields(firstname=firstname, lastname=lastname, email=email, **fields),
            structure_ids=list(structure_ids)), self.token)

    def email(self, local: str) -> str:
        return f"{local}@{self.tag}.test.fr"


async def new_territory(directory: InMemoryService, token_mint) -> Territory:
    deployment = await directory.call(c.CreateDeploymentV1(
        label="Seine-Saint-Denis", department_code=next(DEPARTMENT_CODES), manager=c.PersonFields(
            firstname="Marie", lastname="Gérante", email=f"gerante.{uuid.uuid4().hex[:8]}@test.fr")),
        token_mint.token(Role.admin_cdb))
    return Territory(directory, deployment, token_mint)


def row(number: int, **values) -> ImportRowValues:
    return ImportRowValues(row=number, values=values)


async def count(directory: InMemoryService, model, *where) -> int:
    async with directory.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


# --- structures (spec §4.1 B) -------------------------------------------------------------------------------


async def test_v1_structures_file_creates_one_structure_with_its_two_admins_then_reimported_is_unchanged(
        directory, token_mint):
    territory = await new_territory(directory, token_mint)
    rows, errors = fixture_rows("import_structures.csv", "structures", territory.tag)
    assert errors == {} and [r.row for r in rows] == [2, 3]

    reviews = await territory.review(ImportKind.structures, rows)
    assert [r.status for r in reviews] == [ReviewStatus.new, ReviewStatus.new]
    assert reviews[0].messages == [
        "« Téléphones » : seul le premier numéro est enregistré (l'annuaire en garde un seul).",
        "« Téléphones responsable » : seul le premier numéro est enregistré (l'annuaire en garde un seul)."]

    import_id = uuid.uuid4()
    applied = await territory.apply(ImportKind.structures, rows, import_id=import_id)
    assert [r.outcome for r in applied] == [Outcome.created, Outcome.updated]  # the second line adds an admin
    assert applied[0].target_id == applied[1].target_id
    structure = await directory.call(c.GetStructureV1(structure_id=applied[0].target_id), territory.token)
    assert (structure.name, structure.city, structure.postal_code, structure.siret, structure.phone,
            structure.website, structure.email) == (
        "CD 93", "Bobigny", "93000", "22930008201453", "+33601234567",
        "https://carnetdebord.inclusion.beta.gouv.fr", "contact@cd93.fr")
    admins = await directory.call(c.SearchPeopleV1(role=c.PersonRole.admin_structure,
                                                   structure_id=structure.structure_id), territory.token)
    assert sorted((p.firstname, p.lastname, p.email, p.position, p.phone) for p in admins.people) == [
        ("Ruben", "Delamare", tagged("ruben.delamare@cd93.fr", territory.tag), "responsable insertion",
         "+33612345671"),
        ("Zoé", "Lacaze", tagged("zoe.lacaze@cd93.fr", territory.tag), "responsable insertion", "+33682345611")]
    created = await directory.events(AdminStructureCreatedV1.subject)
    assert {e.email for e in created} == {p.email for p in admins.people}
    assert all(e.structure_ids == [structure.structure_id] and e.created_by_name == "Marie Gérante" for e in created)

    # The same file again: recognised, nothing to change, nothing written.
    events_before = len(await directory.events())
    again = await territory.review(ImportKind.structures, rows)
    assert [(r.status, r.changed, r.match.target_id) for r in again] == [
        (ReviewStatus.same, [], structure.structure_id)] * 2
    assert again[0].match.label == "CD 93 (93000 Bobigny)"
    reapplied = await territory.apply(ImportKind.structures, rows)
    assert [r.outcome for r in reapplied] == [Outcome.unchanged, Outcome.unchanged]
    assert len(await directory.events()) == events_before
    assert await count(directory, Structure, Structure.deployment_id == territory.id) == 1


async def test_a_structure_matched_by_name_without_case_or_accents_updates_its_variable_fields_only(
        directory, token_mint):
    territory = await new_territory(directory, token_mint)
    existing = await territory.structure("Mission Locale d'Évry", city="Évry", postal_code="91000",
                                         short_desc="Ancienne description", website="https://ml.fr")
    admin = await territory.person(c.PersonRole.admin_structure, "Ana", "Lopez", territory.email("ana"),
                                   [existing.structure_id], position="Directrice")
    rows = [row(2, name="  MISSION locale d'evry ", short_desc="Nouvelle description", city=None,
                postal_code="91000", website=None, phones=["+33160000000"], admin_email=admin.email,
                admin_firstname="Anna", admin_lastname="Lopes", admin_position=None, admin_phones=None)]

    [review] = await territory.review(ImportKind.structures, rows)
    assert (review.status, review.match.target_id, review.changed) == (
        ReviewStatus.same, existing.structure_id, ["short_desc", "phones"])

    [outcome] = await territory.apply(ImportKind.structures, rows)
    assert (outcome.outcome, outcome.target_id) == (Outcome.updated, existing.structure_id)
    now = await directory.call(c.GetStructureV1(structure_id=existing.structure_id), territory.token)
    # Identity (the name) kept as it was written; empty cells change nothing.
    assert (now.name, now.short_desc, now.phone, now.city, now.website, now.version) == (
        "Mission Locale d'Évry", "Nouvelle description", "+33160000000", "Évry", "https://ml.fr", 2)
    person = await directory.call(c.GetPersonV1(person_id=admin.person_id), territory.token)
    assert (person.firstname, person.lastname, person.version) == ("Ana", "Lopez", 1)  # names are never overwritten
    assert [e.subject for e in await directory.events() if e.subject.startswith("directory.structure.")][-1] == \
        c.StructureUpdatedV1.subject


async def test_an_existing_admin_is_linked_to_a_new_structure_and_keeps_their_other_one(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    first = await territory.structure("CCAS de Bobigny")
    admin = await territory.person(c.PersonRole.admin_structure, "Jacques", "Célaire", territory.email("jacques"),
                                   [first.structure_id])
    rows = [row(2, name="PLIE Est", postal_code="93000", city="Bobigny", admin_email=admin.email.upper())]

    [review] = await territory.review(ImportKind.structures, rows)
    assert review.status == ReviewStatus.new
    assert review.messages == [f"Le gestionnaire Jacques Célaire ({admin.email}) a déjà un compte : "
                               "il sera rattaché à la structure."]
    [outcome] = await territory.apply(ImportKind.structures, rows)
    assert outcome.outcome == Outcome.created
    person = await directory.call(c.GetPersonV1(person_id=admin.person_id), territory.token)
    assert sorted(s.name for s in person.structures) == ["CCAS de Bobigny", "PLIE Est"]
    [updated] = await directory.events(AdminStructureUpdatedV1.subject)
    assert set(updated.structure_ids) == {first.structure_id, outcome.target_id}


async def test_v1_buggy_structures_file_and_conflicting_admins_are_refused_per_row(directory, token_mint):
    territory, other = await new_territory(directory, token_mint), await new_territory(directory, token_mint)
    rows, errors = fixture_rows("import_structures_buggy.csv", "structures", territory.tag)
    # The import service refuses rows 3 (no name), 4 (website, email, SIRET, admin email) and 5 (phone, admin email).
    assert [r.row for r in rows] == [2] and sorted(errors) == [3, 4, 5]
    pro_elsewhere = await other.person(c.PersonRole.orientation_manager, "Laure", "Loge", other.email("laure"))
    manager_here = territory.deployment.managers[0]
    rows += [
        row(6, name="Sans responsable", postal_code="93000", city="Bobigny", admin_email=territory.email("nouveau")),
        row(7, name="Mal saisie", postal_code="93000", city="Bobigny", siret="12345678901234",
            admin_email=territory.email("x"), admin_firstname="X", admin_lastname="Y"),
        row(8, name="Ailleurs", postal_code="93000", city="Bobigny", admin_email=pro_elsewhere.email),
        row(9, name="Gérée", postal_code="93000", city="Bobigny", admin_email=manager_here.email),
    ]
    reviews = await territory.review(ImportKind.structures, rows)
    assert [r.status for r in reviews] == [ReviewStatus.new, ReviewStatus.invalid, ReviewStatus.invalid,
                                           ReviewStatus.conflict, ReviewStatus.conflict]
    assert reviews[1].messages == ["« Prénom responsable » : Ce champ est obligatoire : prénom."]
    assert reviews[2].messages[0].startswith("« Siret (Luhn) » : Le SIRET doit compter 14 chiffres")
    assert reviews[3].messages == ["« Courriel responsable » : Un compte associé à cette adresse électronique existe "
                                   "déjà. Il n'est pas celui d'un gestionnaire de structure de ce territoire : "
                                   "indiquez une autre adresse."]
    assert reviews[4].messages == reviews[3].messages

    applied = await territory.apply(ImportKind.structures, rows)
    assert [r.outcome for r in applied] == [Outcome.created] + [Outcome.rejected] * 4
    assert applied[1].messages == reviews[1].messages
    assert await count(directory, Structure, Structure.deployment_id == territory.id) == 1


# --- orientation managers (spec §4.1 C) -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "refused"), [
    ("import_charges_orientation.csv", [4, 5]), ("import_charges_orientation.xlsx", []),
    ("import_charges_orientation.xls", []), ("e2e_import_charges_orientation.xlsx", [4, 5])])
async def test_v1_orientation_managers_file_creates_them_with_first_and_last_names_in_their_place(
        directory, token_mint, name, refused):
    territory = await new_territory(directory, token_mint)
    rows, errors = fixture_rows(name, "orientation-managers", territory.tag)
    assert [r.row for r in rows] == [2, 3] and sorted(errors) == refused  # the import service refuses those

    assert [r.status for r in await territory.review(ImportKind.orientation_managers, rows)] == [ReviewStatus.new] * 2
    applied = await territory.apply(ImportKind.orientation_managers, rows)
    assert [r.outcome for r in applied] == [Outcome.created] * 2
    people = await directory.call(c.SearchPeopleV1(role=c.PersonRole.orientation_manager), territory.token)
    assert sorted((p.firstname, p.lastname, p.email, p.phone) for p in people.people) == [
        ("Cyane", "Cimanca", tagged("cyane@cd26.fr", territory.tag), "+33612345670"),
        ("Woirnesse", "La Réunion", tagged("woirnesse@cd26.fr", territory.tag), "+33912345670")]
    assert len(await directory.events(OrientationManagerCreatedV1.subject)) == 2

    again = await territory.review(ImportKind.orientation_managers, rows)
    assert [(r.status, r.changed) for r in again] == [(ReviewStatus.same, [])] * 2
    assert [r.outcome for r in await territory.apply(ImportKind.orientation_managers, rows)] == [
        Outcome.unchanged] * 2


async def test_an_orientation_manager_reimported_gets_a_new_phone_and_an_address_held_elsewhere_conflicts(
        directory, token_mint):
    territory, other = await new_territory(directory, token_mint), await new_territory(directory, token_mint)
    giulia = await territory.person(c.PersonRole.orientation_manager, "Giulia", "Diaby", territory.email("giulia"))
    samy = await other.person(c.PersonRole.orientation_manager, "Samy", "Rouate", other.email("samy"))
    rows = [row(2, email=giulia.email, firstname="Julia", lastname=None, phones=["+33612345678"]),
            row(3, email=samy.email, firstname="Samy", lastname="Rouate")]

    reviews = await territory.review(ImportKind.orientation_managers, rows)
    assert [(r.status, r.changed) for r in reviews] == [(ReviewStatus.same, ["phones"]), (ReviewStatus.conflict, [])]
    assert reviews[0].match.label == f"Giulia Diaby ({giulia.email})"
    # What lies in another territory is not shown: only that the address is taken.
    assert reviews[1].messages == ["Un compte associé à cette adresse électronique existe déjà."]
    assert reviews[1].match is None

    applied = await territory.apply(ImportKind.orientation_managers, rows)
    assert [(r.outcome, r.target_id) for r in applied] == [(Outcome.updated, giulia.person_id),
                                                           (Outcome.rejected, None)]
    now = await directory.call(c.GetPersonV1(person_id=giulia.person_id), territory.token)
    assert (now.firstname, now.lastname, now.phone, now.version) == ("Giulia", "Diaby", "+33612345678", 2)


# --- professionals (spec §4.1 D) ------------------------------------------------------------------------------


async def test_v1_professionals_file_is_imported_by_the_structure_admin_into_their_structure(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    structure = await territory.structure("Groupe NS")
    admin = territory.admin_of(structure.structure_id)
    rows, errors = fixture_rows("import_professionnels.csv", "professionals", territory.tag)
    assert errors == {} and len(rows) == 2

    reviews = await territory.review(ImportKind.professionals, rows, admin, structure.structure_id)
    assert [r.status for r in reviews] == [ReviewStatus.new] * 2
    applied = await territory.apply(ImportKind.professionals, rows, admin, structure.structure_id)
    assert [r.outcome for r in applied] == [Outcome.created] * 2
    people = await directory.call(c.SearchPeopleV1(structure_id=structure.structure_id), territory.token)
    assert sorted((p.role, p.firstname, p.lastname, p.phone, p.position) for p in people.people) == [
        ("professional", "Salomé", "Légase", "+33901234567", "Conseillère en insertion"),
        ("professional", "Sofia", "Poltroné", "+33601234567", "Chargée d'insertion")]
    created = await directory.events(ProfessionalCreatedV1.subject)
    assert [e.structure_ids for e in created] == [[structure.structure_id]] * 2
    assert {e.created_by_name for e in created} == {"Jacques Célaire"}

    # Re-imported with a new position: updated, names untouched.
    rows[0].values.update(position="Référente RSA", firstname="Salome", lastname="Legase")
    reviews = await territory.review(ImportKind.professionals, rows, admin, structure.structure_id)
    assert [(r.status, r.changed) for r in reviews] == [(ReviewStatus.same, ["position"]), (ReviewStatus.same, [])]
    applied = await territory.apply(ImportKind.professionals, rows, admin, structure.structure_id)
    assert [r.outcome for r in applied] == [Outcome.updated, Outcome.unchanged]
    [updated] = await directory.events(ProfessionalUpdatedV1.subject)
    assert (updated.firstname, updated.lastname, updated.position) == ("Salomé", "Légase", "Référente RSA")


async def test_a_professional_of_another_structure_or_territory_or_role_is_a_conflict(directory, token_mint):
    territory, other = await new_territory(directory, token_mint), await new_territory(directory, token_mint)
    mine, theirs = await territory.structure("CCAS"), await territory.structure("PLIE")
    elsewhere = await other.structure("CCAS")
    in_theirs = await territory.person(c.PersonRole.professional, "Paul", "Durand", territory.email("paul"),
                                       [theirs.structure_id])
    far = await other.person(c.PersonRole.professional, "Léa", "Martin", other.email("lea"), [elsewhere.structure_id])
    manager = territory.deployment.managers[0]
    rows = [row(2, email=in_theirs.email, firstname="Paul", lastname="Durand"),
            row(3, email=far.email, firstname="Léa", lastname="Martin"),
            row(4, email=manager.email, firstname="Marie", lastname="Gérante"),
            row(5, email=territory.email("nouvelle"), firstname="Nina", lastname="Simone", mobile_number="+33612")]

    reviews = await territory.review(ImportKind.professionals, rows, structure_id=mine.structure_id)
    assert [r.status for r in reviews] == [ReviewStatus.conflict] * 3 + [ReviewStatus.invalid]
    assert reviews[0].messages == [
        "Un compte associé à cette adresse électronique existe déjà. C'est celui d'un professionnel d'une autre "
        "structure du territoire : un professionnel n'appartient qu'à une structure."]
    assert reviews[0].match.target_id == in_theirs.person_id
    assert reviews[1].messages == reviews[2].messages == ["Un compte associé à cette adresse électronique existe déjà."]
    assert reviews[3].messages[0].startswith("« Téléphone » : Le numéro de téléphone « +33612 » n'est pas valide.")
    applied = await territory.apply(ImportKind.professionals, rows, structure_id=mine.structure_id)
    assert [r.outcome for r in applied] == [Outcome.rejected] * 4


# --- exactly once, rows alone ---------------------------------------------------------------------------------


async def test_a_batch_sent_twice_is_applied_once_and_answers_the_recorded_outcomes(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    rows, _ = fixture_rows("e2e_import_structures.csv", "structures", territory.tag)
    import_id = uuid.uuid4()

    first = await territory.apply(ImportKind.structures, rows, import_id=import_id)
    events = len(await directory.events())
    again = await territory.apply(ImportKind.structures, rows, import_id=import_id)

    assert again == first and [r.outcome for r in again] == [Outcome.created, Outcome.updated]
    assert len(await directory.events()) == events
    assert await count(directory, Structure, Structure.deployment_id == territory.id) == 1
    assert await count(directory, Person, Person.deployment_id == territory.id,
                       Person.role == c.PersonRole.admin_structure) == 2
    assert await count(directory, ImportApplied, ImportApplied.import_id == import_id) == 2
    # A batch resent with rows it had not carried applies those only.
    extra = row(9, name="PLIE", postal_code="93000", city="Bobigny", admin_email=territory.email("plie"),
                admin_firstname="Pia", admin_lastname="Lie")
    resent = await territory.apply(ImportKind.structures, [*rows, extra], import_id=import_id)
    assert resent[:2] == first and resent[2].outcome == Outcome.created


async def test_a_refused_row_does_not_stop_the_others_nor_leave_half_of_itself(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    # The admin created by the first line is the one linked by the third; the second line's admin cannot be
    # created (a first name too long for the form), so its structure is not created either.
    rows = [row(2, name="Alpha", postal_code="93000", city="Bobigny", admin_email=territory.email("a"),
                admin_firstname="A", admin_lastname="A"),
            row(3, name="Bêta", postal_code="93000", city="Bobigny", admin_email=territory.email("b"),
                admin_firstname="B" * 200, admin_lastname="B"),
            row(4, name="Gamma", postal_code="93000", city="Bobigny", admin_email=territory.email("a"),
                admin_firstname="A", admin_lastname="A")]

    reviews = await territory.review(ImportKind.structures, rows)
    assert reviews[1].status == ReviewStatus.invalid
    applied = await territory.apply(ImportKind.structures, rows)
    assert [r.outcome for r in applied] == [Outcome.created, Outcome.rejected, Outcome.created]
    names = (await directory.call(c.SearchStructuresV1(), territory.token)).structures
    assert sorted(s.name for s in names) == ["Alpha", "Gamma"]  # Bêta not half-created without its admin
    admin = await directory.call(c.SearchPeopleV1(role=c.PersonRole.admin_structure), territory.token)
    [a] = admin.people
    assert sorted(s.name for s in a.structures) == ["Alpha", "Gamma"]


async def test_a_row_refused_by_the_database_is_rolled_back_alone(directory, token_mint, monkeypatch):
    territory = await new_territory(directory, token_mint)
    from directory.handlers.imports import structures as module

    real = module.add_person

    async def failing(session, deps, deployment_id, role, fields, *args, **kwargs):
        if fields.firstname == "Boum":
            await real(session, deps, deployment_id, role, fields, *args, **kwargs)
            raise RuntimeError("boom")
        return await real(session, deps, deployment_id, role, fields, *args, **kwargs)

    monkeypatch.setattr(module, "add_person", failing)
    rows = [row(2, name="Un", postal_code="93000", city="Bobigny", admin_email=territory.email("un"),
                admin_firstname="Une", admin_lastname="Admin"),
            row(3, name="Deux", postal_code="93000", city="Bobigny", admin_email=territory.email("deux"),
                admin_firstname="Boum", admin_lastname="Admin"),
            row(4, name="Deux", postal_code="93000", city="Bobigny", admin_email=territory.email("trois"),
                admin_firstname="Trois", admin_lastname="Admin")]
    applied = await territory.apply(ImportKind.structures, rows)

    assert [r.outcome for r in applied] == [Outcome.created, Outcome.rejected, Outcome.created]
    assert applied[1].messages == [
        "Cette ligne n'a pas été enregistrée à cause d'une erreur inattendue. Importez-la de nouveau."]
    assert await count(directory, Person, Person.email == territory.email("deux")) == 0
    created = await directory.events(c.StructureCreatedV1.subject)
    assert [e.name for e in created] == ["Un", "Deux"]  # the rolled-back row's event is gone with it


# --- who may import what --------------------------------------------------------------------------------------


async def test_actors_out_of_scope_are_refused(directory, token_mint):
    territory, other = await new_territory(directory, token_mint), await new_territory(directory, token_mint)
    mine, theirs = await territory.structure("CCAS"), await other.structure("CCAS")
    pros = [row(2, email=territory.email("p"), firstname="P", lastname="Q")]
    structures = [row(2, name="X", postal_code="93000", city="Bobigny", admin_email=territory.email("x"))]
    professional = ImportActor(account_id=uuid.uuid4(), role=Role.professional, deployment_id=territory.id,
                               structure_ids=[mine.structure_id])
    admin_elsewhere = territory.admin_of(uuid.uuid4())
    for kind, rows, actor, structure_id in [
        (ImportKind.professionals, pros, other.manager, mine.structure_id),  # manager of another territory
        (ImportKind.professionals, pros, territory.manager, theirs.structure_id),
        (ImportKind.professionals, pros, admin_elsewhere, mine.structure_id),  # admin of another structure
        (ImportKind.professionals, pros, professional, mine.structure_id),
        (ImportKind.structures, structures, territory.admin_of(mine.structure_id), None),
        (ImportKind.structures, structures, professional, None),
        (ImportKind.orientation_managers, pros, territory.admin_of(mine.structure_id), None),
        (ImportKind.professionals, pros, territory.manager.model_copy(update={"role": Role.admin_cdb}),
         mine.structure_id),
    ]:
        for call in (territory.review, territory.apply):
            error = await refused(call(kind, rows, actor, structure_id))
            assert error.code == ErrorCode.forbidden, (kind, actor.role, call)
    missing = await refused(territory.review(ImportKind.professionals, pros, territory.manager))
    assert missing.code == ErrorCode.invalid
    assert await count(directory, Person, Person.deployment_id == territory.id) == 1  # the manager only
    # A manager imports the professionals of any structure of their territory.
    applied = await territory.apply(ImportKind.professionals, pros, structure_id=mine.structure_id)
    assert [r.outcome for r in applied] == [Outcome.created]


async def test_what_changed_since_the_review_is_read_again_when_applying(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    structure = await territory.structure("CCAS")
    rows = [row(2, email=territory.email("tom"), firstname="Tom", lastname="Pouce")]
    [review] = await territory.review(ImportKind.professionals, rows, structure_id=structure.structure_id)
    assert review.status == ReviewStatus.new

    await territory.person(c.PersonRole.orientation_manager, "Tom", "Pouce", territory.email("tom"))

    [outcome] = await territory.apply(ImportKind.professionals, rows, structure_id=structure.structure_id)
    assert (outcome.outcome, outcome.messages) == (
        Outcome.rejected, ["Un compte associé à cette adresse électronique existe déjà."])


async def test_two_deliveries_of_a_batch_at_once_apply_it_once(directory, token_mint):
    territory = await new_territory(directory, token_mint)
    rows = [row(n, name=f"Structure {n}", postal_code="93000", city="Bobigny", admin_email=territory.email(f"a{n}"),
                admin_firstname="A", admin_lastname=f"N{n}") for n in range(2, 12)]
    import_id = uuid.uuid4()

    first, second = await asyncio.gather(territory.apply(ImportKind.structures, rows, import_id=import_id),
                                         territory.apply(ImportKind.structures, rows, import_id=import_id))

    assert first == second and {r.outcome for r in first} == {Outcome.created}
    assert await count(directory, Structure, Structure.deployment_id == territory.id) == 10
    assert len(await directory.events(c.StructureCreatedV1.subject)) == 10
