"""France Travail's principal and actions flux through the notebook's import RPCs, as the import service sends them
(spec §4.3), on SQLite and PostgreSQL: matching within the uploader's territory only, the référent the directory
found or created joining the group, the raw row kept encrypted, re-imports unchanged, actions de-duplicated."""
from __future__ import annotations

import csv
import json
import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contracts import notebook as c
from contracts.base import ErrorCode
from contracts.directory import StructureCreatedV1
from contracts.identity import Role
from contracts.imports import (ApplyNotebookImportV1, ImportActor, ImportKind, ImportRowValues, Outcome,
                               ReviewNotebookImportV1, ReviewStatus)
from contracts.profiles import ManagerCreatedV1, ProfessionalCreatedV1
from notebook.adapters.orm import Beneficiary, ExternalData, Member, ProfessionalProject, TimelineEvent
from notebook.domain.protection import FieldProtection
from notebook.handlers import import_france_travail as ft
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration

FIXTURES = next(p / "shared" / "fixtures" / "cdb-v1" for p in Path(__file__).resolve().parents
                if (p / "shared" / "fixtures" / "cdb-v1").is_dir())
PRINCIPAL = "i03300c.j.extract_spie_carnet_spie_carnet_de_bord_principal.csv"
ACTIONS = "actions_example.csv"
SOPHIE_ID = "71288a46-3c4d-4372-9298-c32936d7e76d"
DATES = {"date_naissance", "date_prescription", "date_realisation_action", "date_prev_debut", "date_debut",
         "date_fin"}


def values_of(cells: dict[str, str]) -> dict:
    """A row as the import service sends it (data_import.domain.kinds): NULL and _ empty, dates as ISO days, brsa a
    boolean, the référent's internal .net address as the .fr one."""
    values = {}
    for header, text in cells.items():
        text = text.strip()
        value = None if text in ("", "NULL", "_") else text
        if value is not None and header in DATES:
            value = value[:10]
        if header == "brsa":
            value = value == "O"
        if header == "referent_mail" and value:
            value = re.sub(r"^[0-9]*(.+)\.net$", r"\1.fr", value)
        values[header.replace(".", "_")] = value
    return values


def fixture_rows(name: str) -> list[ImportRowValues]:
    with (FIXTURES / name).open(encoding="utf-8") as file:
        return [ImportRowValues(row=number, values=values_of(cells))
                for number, cells in enumerate(csv.DictReader(file, delimiter=";"), start=2)]


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


class Territory:
    def __init__(self, notebook: InMemoryService, token_mint) -> None:
        self.notebook, self.token_mint = notebook, token_mint
        self.id, self.manager_id, self.groupe_ns, self.sanka = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        self.manager = ImportActor(account_id=uuid.uuid4(), role=Role.manager, deployment_id=self.id,
                                   profile_id=self.manager_id, name="Agathe Deblouze")
        self.token = token_mint.token(Role.manager, deployment_id=self.id, profile_id=self.manager_id)

    async def open(self) -> Territory:
        """A manager, the Groupe NS and Sanka, its professional, whose address the principal file names."""
        await self.notebook.deliver(StructureCreatedV1(structure_id=self.groupe_ns, deployment_id=self.id,
                                                       name="Groupe NS", city="Rethel"))
        await self.notebook.deliver(ManagerCreatedV1(profile_id=self.manager_id, deployment_id=self.id,
                                                     firstname="Agathe", lastname="Deblouze",
                                                     email=f"agathe.{self.id}@test.carnet.fr"))
        await self.notebook.deliver(ProfessionalCreatedV1(
            profile_id=self.sanka, deployment_id=self.id, firstname="Sanka", lastname="Pro",
            email="sanka@groupe-ns.fr", structure_ids=[self.groupe_ns]))
        return self

    async def beneficiary(self, firstname: str, lastname: str, born: date) -> uuid.UUID:
        created = await self.notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
            firstname=firstname, lastname=lastname, date_of_birth=born)), self.token)
        return created.notebook_id

    async def review(self, kind: ImportKind, rows: list[ImportRowValues]) -> dict:
        reply = await self.notebook.call(ReviewNotebookImportV1(import_id=uuid.uuid4(), kind=kind,
                                                                actor=self.manager, rows=rows))
        return {r.row: r for r in reply.results}

    async def apply(self, kind: ImportKind, rows: list[ImportRowValues], import_id: uuid.UUID | None = None) -> dict:
        reply = await self.notebook.call(ApplyNotebookImportV1(import_id=import_id or uuid.uuid4(), kind=kind,
                                                               actor=self.manager, rows=rows))
        return {r.row: r for r in reply.results}


def protection_of(notebook: InMemoryService) -> FieldProtection:
    return FieldProtection(notebook.service.settings.secret_key.get_secret_value().encode())


async def all_of(notebook, query) -> list:
    async with notebook.sessions() as session:
        return list((await session.execute(query)).all())


async def with_fixture_people(notebook, token_mint) -> tuple[Territory, dict[str, uuid.UUID]]:
    """Sophie Tifour, Hendrix Dorsey and Martin Gal have notebooks in the territory; Edwina Skinner in another."""
    territory = await Territory(notebook, token_mint).open()
    elsewhere = await Territory(notebook, token_mint).open()
    notebooks = {
        "TIFOUR": await territory.beneficiary("Sophie", "Tifour", date(1982, 2, 1)),
        "DORSEY": await territory.beneficiary("Hendrix", "Dorsey", date(1976, 12, 18)),
        "GAL": await territory.beneficiary("Martin", "Gal", date(1978, 3, 23)),
    }
    await elsewhere.beneficiary("Edwina", "Skinner", date(1973, 5, 14))
    return territory, notebooks


def not_at_the_rsa(row: ImportRowValues, number: int) -> ImportRowValues:
    return ImportRowValues(row=number, values={**row.values, "brsa": False})


async def test_principal_file_reviewed_then_applied_within_the_territory_only(notebook, token_mint):
    territory, notebooks = await with_fixture_people(notebook, token_mint)
    principal = fixture_rows(PRINCIPAL)
    assert len(principal) == 4 and all(r.values["brsa"] is True for r in principal)
    rows = [*principal, not_at_the_rsa(principal[0], 6)]

    found = await territory.review(ImportKind.france_travail_principal, rows)
    assert [found[n].status for n in range(2, 7)] == [ReviewStatus.same, ReviewStatus.same, ReviewStatus.same,
                                                      ReviewStatus.conflict, ReviewStatus.same]
    assert found[2].match.label == "Sophie Tifour, né(e) le 01/02/1982"
    assert found[2].changed == ["identifiant_unique_de", "rome_1", "referent_mail", "external_data"]
    assert "Sanka" not in found[2].messages[-1] and "sanka@groupe-ns.fr" in found[2].messages[-1]
    # Edwina Skinner is a beneficiary of another territory: never matched (v1 looked everywhere).
    assert (found[5].match, found[5].messages) == (None, [ft.NOT_FOUND])
    assert (found[6].messages, found[6].changed) == ([ft.NOT_RSA], [])
    assert await all_of(notebook, select(ExternalData.id)) == []  # a review changes nothing

    # The directory found Sanka for Sophie's row and created Martin's référent (an id it answered); Hendrix's row
    # came without one (his référent's address belongs to no professional of the territory, say).
    created_referent = uuid.uuid4()
    rows[0].values[ft.DIRECTORY_PERSON] = str(territory.sanka)
    rows[2].values[ft.DIRECTORY_PERSON] = str(created_referent)
    import_id = uuid.uuid4()
    done = await territory.apply(ImportKind.france_travail_principal, rows, import_id)
    assert [done[n].outcome for n in range(2, 7)] == [Outcome.updated, Outcome.updated, Outcome.updated,
                                                      Outcome.rejected, Outcome.unchanged]
    assert done[2].target_id == notebooks["TIFOUR"] and done[6].messages == [ft.NOT_RSA]
    assert "Referent_prenom 1 REFERENT_NOM 1, référent France Travail, rejoint le groupe de suivi." in done[2].messages

    members = await all_of(notebook, select(Member.notebook_id, Member.person_id, Member.member_type).where(
        Member.notebook_id.in_(notebooks.values())))
    assert sorted(members, key=str) == sorted([(notebooks["TIFOUR"], territory.sanka, "no_referent"),
                                               (notebooks["GAL"], created_referent, "no_referent")], key=str)
    projects = await all_of(notebook, select(ProfessionalProject.notebook_id, ProfessionalProject.rome_code).where(
        ProfessionalProject.notebook_id.in_(notebooks.values())))
    assert sorted(label for n, label in projects if n == notebooks["TIFOUR"]) == [
        "Agent / Agente de nettoyage en collectivité (K2204)",
        "Conducteur / Conductrice d'engins d'exploitation agricole (A1101)"]
    assert len(projects) == 6
    indexes = {n: i for n, i in await all_of(notebook, select(Beneficiary.lastname, Beneficiary.pe_unique_import_id)
                                             .where(Beneficiary.deployment_id == territory.id))}
    assert indexes["Tifour"] == protection_of(notebook).index("pe_unique_import_id", SOPHIE_ID)
    kept = await all_of(notebook, select(ExternalData.source, ExternalData.data_encrypted, ExternalData.sha256).join(
        Beneficiary, Beneficiary.id == ExternalData.beneficiary_id).where(Beneficiary.deployment_id == territory.id))
    assert len(kept) == 3 and {source for source, _, _ in kept} == {"france_travail"}
    raw = [json.loads(protection_of(notebook).decrypt(data))["source"] for _, data, _ in kept]
    assert SOPHIE_ID in {r["identifiant_unique_de"] for r in raw} and all(ft.DIRECTORY_PERSON not in r for r in raw)
    assert "TIFOUR" not in " ".join(data for _, data, _ in kept)  # encrypted at rest
    history = await all_of(notebook, select(TimelineEvent.kind, TimelineEvent.summary, TimelineEvent.source).where(
        TimelineEvent.notebook_id == notebooks["TIFOUR"], TimelineEvent.source == "france_travail"))
    assert sorted(kind for kind, _, _ in history) == ["diagnostic", "member"]

    # The same batch sent again (a crash of the import service): the recorded outcomes, nothing applied twice.
    again = await territory.apply(ImportKind.france_travail_principal, rows, import_id)
    assert {n: r.outcome for n, r in again.items()} == {n: r.outcome for n, r in done.items()}
    # The same file imported again: every row already received, nothing changes.
    reviewed = await territory.review(ImportKind.france_travail_principal, principal)
    assert [(r.status, r.changed) for r in reviewed.values()][:3] == [(ReviewStatus.same, [])] * 3
    second = await territory.apply(ImportKind.france_travail_principal, principal)
    assert [second[n].outcome for n in (2, 3, 4)] == [Outcome.unchanged] * 3
    assert second[2].messages == [ft.ALREADY_RECEIVED]
    assert len(await all_of(notebook, select(ExternalData.id).join(Beneficiary).where(
        Beneficiary.deployment_id == territory.id))) == 3
    # A new version of Sophie's row: Sanka is in her group now, the directory is not asked again.
    newer = ImportRowValues(row=2, values={**principal[0].values, "der_entretien": "2022-01-10"})
    assert (await territory.review(ImportKind.france_travail_principal, [newer]))[2].changed == ["external_data"]


async def test_unknown_rome_and_a_changed_row(notebook, token_mint):
    territory = await Territory(notebook, token_mint).open()
    edwina = await territory.beneficiary("Edwina", "Skinner", date(1973, 5, 14))
    [*_, row] = fixture_rows(PRINCIPAL)  # her first job is "Code Rome Inconnu (FAKE)"
    done = await territory.apply(ImportKind.france_travail_principal, [row])
    assert done[5].outcome == Outcome.updated
    assert done[5].messages[0] == ft.UNKNOWN_ROME.format(label="Code Rome Inconnu (FAKE)")
    assert await all_of(notebook, select(ProfessionalProject.rome_code).where(
        ProfessionalProject.notebook_id == edwina)) == [("Aide ménager / ménagère à domicile (K1304)",)]
    changed = ImportRowValues(row=2, values={**row.values, "modalite_accompagnement": "RENFORCE"})
    again = await territory.apply(ImportKind.france_travail_principal, [changed])
    assert again[2].outcome == Outcome.updated  # a new version of the row is kept, no project added twice
    assert len(await all_of(notebook, select(ProfessionalProject.id).where(
        ProfessionalProject.notebook_id == edwina))) == 1
    assert len(await all_of(notebook, select(ExternalData.id).join(Beneficiary).where(
        Beneficiary.deployment_id == territory.id))) == 2


async def test_actions_file_becomes_history_once(notebook, token_mint):
    territory, notebooks = await with_fixture_people(notebook, token_mint)
    await territory.apply(ImportKind.france_travail_principal, fixture_rows(PRINCIPAL))
    actions = fixture_rows(ACTIONS)
    assert len(actions) == 125
    sophie = [r for r in actions if r.values["identifiant_unique_de"] == SOPHIE_ID]
    assert len(sophie) == 90  # all different (label, day); the 35 other rows name people unknown here

    found = await territory.review(ImportKind.france_travail_actions, actions)
    statuses = [r.status for r in found.values()]
    assert (statuses.count(ReviewStatus.new), statuses.count(ReviewStatus.conflict)) == (90, 35)
    assert {m for r in found.values() if r.status == ReviewStatus.conflict for m in r.messages} == {ft.NO_NOTEBOOK}

    doubled = ImportRowValues(row=200, values=sophie[0].values)  # the same action twice in the file
    done = await territory.apply(ImportKind.france_travail_actions, [*actions, doubled])
    outcomes = [r.outcome for r in done.values()]
    assert (outcomes.count(Outcome.created), outcomes.count(Outcome.rejected), outcomes.count(Outcome.unchanged)) == (
        90, 35, 1)
    assert done[200].messages == [ft.ACTION_KNOWN]
    entries = await all_of(notebook, select(TimelineEvent.summary, TimelineEvent.occurred_at, TimelineEvent.source)
                           .where(TimelineEvent.notebook_id == notebooks["TIFOUR"], TimelineEvent.kind == "action"))
    assert len(entries) == 90 and {source for _, _, source in entries} == {"france_travail"}
    days = {summary: occurred.astimezone(ft.PARIS).date() for summary, occurred, _ in entries}
    # v1's rule: realisation once ended (not a training), else the end, else the prescription.
    assert days["ACCOMPAGNEMENT DES ADHERENTS AU CSP NATIONAL"] == date(2017, 9, 25)
    assert days["ATELIER MOBILITE VOSGES"] == date(2014, 4, 18)
    assert days["ACCOMPAGNEMENT RECHERCHE"] == date(2016, 7, 26)
    assert days["UNE FORMATION DANS LE DOMAINE ENGIN MANUTENTION LEVAGE"] == date(2021, 7, 5)
    assert "TEST INCONNU" in days  # no theme needed: kept as France Travail wrote it

    second = await territory.apply(ImportKind.france_travail_actions, actions)
    outcomes = [r.outcome for r in second.values()]
    assert (outcomes.count(Outcome.unchanged), outcomes.count(Outcome.rejected)) == (90, 35)
    async with notebook.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TimelineEvent).where(
            TimelineEvent.notebook_id == notebooks["TIFOUR"], TimelineEvent.kind == "action")) == 90


async def test_a_training_without_its_domain_is_invalid_and_others_see_nothing(notebook, token_mint):
    territory, _ = await with_fixture_people(notebook, token_mint)
    await territory.apply(ImportKind.france_travail_principal, fixture_rows(PRINCIPAL))
    training = ImportRowValues(row=2, values={"identifiant_unique_de": SOPHIE_ID, "lblaction": ft.FORMATION,
                                              "date_prescription": "2022-01-03", "formation": None})
    assert (await territory.review(ImportKind.france_travail_actions, [training]))[2].messages == [ft.NO_FORMATION]
    # Another territory's manager does not reach Sophie through her identifiant.
    other = await Territory(notebook, token_mint).open()
    action = ImportRowValues(row=2, values={"identifiant_unique_de": SOPHIE_ID, "lblaction": "ATELIER",
                                            "date_prescription": "2022-01-03"})
    assert (await other.apply(ImportKind.france_travail_actions, [action]))[2].outcome == Outcome.rejected
    # Only a manager imports France Travail's flux.
    professional = ImportActor(account_id=uuid.uuid4(), role=Role.professional, deployment_id=territory.id,
                               profile_id=territory.sanka)
    error = await refused(notebook.call(ApplyNotebookImportV1(
        import_id=uuid.uuid4(), kind=ImportKind.france_travail_actions, actor=professional, rows=[action])))
    assert error.code == ErrorCode.forbidden
