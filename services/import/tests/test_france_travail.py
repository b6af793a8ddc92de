"""France Travail's principal and actions flux in the import service (spec §4.3): their columns read from v1's
fixtures (``NULL`` and ``_`` empty, dates with a time, the référent's internal address), then, on a real nats-server
and both databases with fake owners, the principal's rows that need a référent sent to the directory first and to
the notebook with the person the directory answered, each row once."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import asyncio
from typing import Any

import pytest

from contracts.identity import GetJwksV1, JwksReply, Role
from contracts.imports import (ApplyDirectoryImportV1, ApplyImportV1, ApplyNotebookImportV1, AppliedReply,
                               FinishUploadV1, GetImportTemplateV1, GetImportV1, ImportBatch, ImportKind, ImportState, ListImportRowsV1,
                               MatchView, OpenImportV1, Outcome, ReviewedReply, ReviewNotebookImportV1, ReviewStatus,
                               RowOutcome, RowReview)
from data_import.bootstrap import build
from data_import.config import DataImportSettings
from data_import.domain.france_travail import parse_o_n, parse_referent_email
from data_import.domain.kinds import InvalidRow, ValidRow, match_header, validate_row
from data_import.domain.reading import read_table
from data_import.domain.values import Ignored
from data_import.handlers.directory_first import DIRECTORY_PERSON
from servicekit.bus import Bus
from servicekit.errors import RpcTimeout
from servicekit.objects import read_stream, uploads
from servicekit.topology import SERVICES_BY_NAME
from testkit.handlers import TokenMint

FIXTURES = next(p / "shared" / "fixtures" / "cdb-v1" for p in Path(__file__).resolve().parents
                if (p / "shared" / "fixtures" / "cdb-v1").is_dir())
PRINCIPAL = "i03300c.j.extract_spie_carnet_spie_carnet_de_bord_principal.csv"
ACTIONS = "actions_example.csv"


def parsed(kind: str, filename: str) -> list[ValidRow | InvalidRow]:
    table = read_table(FIXTURES / filename, filename)
    header = match_header(kind, table.header)
    assert header.problem is None and header.warnings == []
    return [validate_row(kind, header, row.cells) for row in table.rows()]


# --- reading (pure) ----------------------------------------------------------------------------------------

@pytest.mark.unit
def test_the_principal_fixture_reads_every_column_null_as_empty():
    rows = parsed("france-travail-principal", PRINCIPAL)
    assert len(rows) == 4 and all(isinstance(r, ValidRow) and not r.warnings for r in rows)
    sophie = rows[0].values
    assert len(sophie) == 44  # every column kept: the notebook stores the row as France Travail sent it
    assert (sophie["nom"], sophie["prenom"], sophie["date_naissance"]) == ("TIFOUR", "SOPHIE", date(1982, 2, 1))
    assert sophie["adresse_ligne5"] is None and sophie["mrech_axetravailsecondaire"] is None  # NULL
    assert sophie["brsa"] is True and [r.values["brsa"] for r in rows] == [True] * 4
    assert (sophie["rome_1"], sophie["appelation_rome_1"]) == (
        "A1101", "Conducteur / Conductrice d'engins d'exploitation agricole")
    assert [r.values["referent_mail"] for r in rows] == [
        "sanka@groupe-ns.fr", "sanka@groupe-ns.fr", "referent_prenom3.referent_nom3@pole-emploi.fr",
        "referent_prenom4.referent_nom4@pole-emploi.fr"]


@pytest.mark.unit
def test_the_actions_fixture_reads_its_dates_and_underscore_as_empty():
    rows = parsed("france-travail-actions", ACTIONS)
    assert len(rows) == 125 and all(isinstance(r, ValidRow) for r in rows)
    first = rows[0].values
    assert (first["date_prescription"], first["date_realisation_action"], first["date_prev_debut"]) == (
        date(2022, 3, 3), date(2022, 3, 16), None)
    assert first["adr_dc_commune_id"] == "13005"
    header = match_header("france-travail-actions", ["IDENTIFIANT_UNIQUE_DE", "LblAction", "Date_Prescription"])
    assert header.problem is None  # header names are matched whatever their case
    row = validate_row("france-travail-actions", header, ["x", "ATELIER", "_"])
    assert isinstance(row, InvalidRow) and "date_prescription" in row.errors[0].message.lower()


@pytest.mark.unit
def test_flags_and_the_referent_address():
    assert [parse_o_n(t) for t in ("O", "oui", "N", "NON", "?")] == [True, True, False, False, False]
    assert parse_referent_email("051Jean.Dupont@pole-emploi.net") == "jean.dupont@pole-emploi.fr"
    assert parse_referent_email("sanka@groupe-ns.fr") == "sanka@groupe-ns.fr"
    with pytest.raises(Ignored, match="ne sera pas ajouté"):
        parse_referent_email("pas une adresse")


@pytest.mark.unit
def test_null_is_empty_only_in_france_travail_files():
    header = match_header("reorientations", ["Prénom", "Nom", "Date de naissance"])
    row = validate_row("reorientations", header, ["NULL", "_", "1985-03-12"])
    assert isinstance(row, ValidRow) and (row.values["firstname"], row.values["lastname"]) == ("NULL", "_")


# --- through the service --------------------------------------------------------------------------------------

@dataclass
class FakeOwners:
    """The notebook says the rows naming "sanka" need their référent; the directory answers an id per row."""

    directory: list[ImportBatch] = field(default_factory=list)
    notebook: list[ImportBatch] = field(default_factory=list)
    people: dict[tuple[uuid.UUID, int], uuid.UUID] = field(default_factory=dict)

    async def on_review(self, batch: ImportBatch, _ctx) -> ReviewedReply:
        return ReviewedReply(results=[RowReview(
            row=row.row, status=ReviewStatus.same, match=MatchView(label=row.values.get("prenom") or ""),
            changed=["referent_mail"] if row.values.get("referent_mail") == "sanka@groupe-ns.fr" else ["rome_1"])
            for row in batch.rows])

    async def on_directory(self, batch: ImportBatch, _ctx) -> AppliedReply:
        self.directory.append(batch)
        results = []
        for row in batch.rows:
            person = self.people.setdefault((batch.import_id, row.row), uuid.uuid4())
            results.append(RowOutcome(row=row.row, outcome=Outcome.created, target_id=person,
                                      messages=["Référent créé dans l'annuaire."]))
        return AppliedReply(results=results)

    async def on_notebook(self, batch: ImportBatch, _ctx) -> AppliedReply:
        self.notebook.append(batch)
        return AppliedReply(results=[RowOutcome(row=row.row, outcome=Outcome.updated, target_id=uuid.uuid4(),
                                                messages=["Appliqué."]) for row in batch.rows])


@dataclass
class Harness:
    """The import service's client side, as test_imports_service's (a manager of one territory)."""

    client: Bus
    mint: TokenMint
    owners: FakeOwners
    territory: uuid.UUID = field(default_factory=uuid.uuid4)

    def manager(self) -> str:
        return self.mint.token(Role.manager, deployment_id=self.territory, profile_id=uuid.uuid4())

    async def call(self, request, token: str) -> Any:
        for _ in range(40):
            try:
                return await self.client.call(request, headers={"Authorization": f"Bearer {token}"})
            except RpcTimeout:  # the service just started: its subscriptions may be on their way to the server
                await asyncio.sleep(0.05)
        return await self.client.call(request, headers={"Authorization": f"Bearer {token}"})

    async def upload(self, token: str, filename: str, kind: ImportKind) -> uuid.UUID:
        opened = await self.call(OpenImportV1(kind=kind, filename=filename), token)
        await (await uploads(self.client.stream_context)).put(opened.object_name, (FIXTURES / filename).read_bytes())
        await self.call(FinishUploadV1(import_id=opened.import_id), token)
        return opened.import_id

    async def wait(self, token: str, import_id: uuid.UUID, state: ImportState):
        for _ in range(400):
            view = await self.call(GetImportV1(import_id=import_id), token)
            if view.state == state:
                return view
            assert view.state != ImportState.failed, view.reason
            await asyncio.sleep(0.05)
        raise AssertionError(f"import still {view.state}, not {state}")


@pytest.fixture
async def harness(nats_url, databases):
    url = await databases.create("data_import", SERVICES_BY_NAME["data_import"].migrations_dir)
    mint, owners = TokenMint(), FakeOwners()
    fake = Bus(f"fake-owners-{uuid.uuid4().hex[:6]}", nats_url)

    async def jwks(_request, _ctx) -> JwksReply:
        return JwksReply(keys=mint.jwks())

    fake.handle(GetJwksV1, jwks)
    fake.handle(ReviewNotebookImportV1, owners.on_review)
    fake.handle(ApplyDirectoryImportV1, owners.on_directory)
    fake.handle(ApplyNotebookImportV1, owners.on_notebook)
    client = Bus("test-client", nats_url, rpc_timeout_s=10)
    await fake.start()
    await client.start()
    built = build(DataImportSettings(nats_url=nats_url, database_url=url, env="dev", resume_every_s=0.2,
                                     retry_max_s=0.2))
    await built.start()
    try:
        yield Harness(client, mint, owners)
    finally:
        await built.stop()
        await client.stop()
        await fake.stop()


@pytest.mark.integration
async def test_principal_rows_go_to_the_directory_first_then_to_the_notebook_with_the_person(harness):
    owners = harness.owners
    token = harness.manager()
    import_id = await harness.upload(token, PRINCIPAL, ImportKind.france_travail_principal)
    view = await harness.wait(token, import_id, ImportState.review)
    assert (view.rows_total, view.review.same) == (4, 4)
    await harness.call(ApplyImportV1(import_id=import_id), token)
    done = await harness.wait(token, import_id, ImportState.done)
    assert done.counts.updated == 4

    # Only Sophie's and Hendrix's rows name Sanka: only they reach the directory, before the notebook.
    [directory] = owners.directory
    assert directory.kind == ImportKind.france_travail_principal and [r.row for r in directory.rows] == [2, 3]
    [notebook] = owners.notebook
    persons = {r.row: r.values.get(DIRECTORY_PERSON) for r in notebook.rows}
    assert persons == {2: str(owners.people[(import_id, 2)]), 3: str(owners.people[(import_id, 3)]), 4: None,
                       5: None}
    rows = {r.row: r for r in (await harness.call(ListImportRowsV1(import_id=import_id), token)).rows}
    assert rows[2].messages == ["Référent créé dans l'annuaire.", "Appliqué."]
    assert rows[4].messages == ["Appliqué."]


@pytest.mark.integration
async def test_actions_go_to_the_notebook_alone(harness):
    owners = harness.owners
    token = harness.manager()
    import_id = await harness.upload(token, ACTIONS, ImportKind.france_travail_actions)
    assert (await harness.wait(token, import_id, ImportState.review)).rows_total == 125
    await harness.call(ApplyImportV1(import_id=import_id), token)
    done = await harness.wait(token, import_id, ImportState.done)
    assert done.counts.updated == 125 and owners.directory == []


@pytest.mark.integration
async def test_the_templates_are_france_travails_headers(harness):
    token = harness.manager()
    store = await uploads(harness.client.stream_context)
    csv_template = await harness.call(GetImportTemplateV1(kind=ImportKind.france_travail_actions), token)
    content = b"".join([chunk async for chunk in read_stream(store, csv_template.object_name)])
    assert content.decode("utf-8-sig").splitlines() == [
        "identifiant_unique_de*;codeaction;lblaction*;objectif_formation;date_prescription*;date_realisation_action;"
        "date_prev_debut;date_debut;date_fin;formation;adr.dc_commune_id"]
    xlsx = await harness.call(GetImportTemplateV1(kind=ImportKind.france_travail_principal, format="xlsx"), token)
    assert b"".join([chunk async for chunk in read_stream(store, xlsx.object_name)]).startswith(b"PK")
