"""The import service as its bootstrap builds it, on a real nats-server (RPCs, the object store, the outbox relay)
and on SQLite and PostgreSQL, with a small fake owner standing in for notebook and directory: upload, review with
the rows the file repeats flagged, apply with exclusions, the report; bad files; who sees what; a restart."""
from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import timedelta
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from contracts.audit import ImportAuditRecordedV1
from contracts.identity import GetJwksV1, JwksReply, Role
from contracts.imports import (ApplyDirectoryImportV1, ApplyImportV1, ApplyNotebookImportV1, AppliedReply,
                               FinishUploadV1, GetImportReportV1, GetImportTemplateV1, GetImportV1, ImportBatch,
                               ImportCompletedV1, ImportKind, ImportState, ListImportRowsV1, ListImportsV1, MatchView,
                               OpenImportV1, Outcome, ReviewDirectoryImportV1, ReviewedReply, ReviewNotebookImportV1,
                               ReviewStatus, RowOutcome, RowReview)
from contracts.base import ErrorCode
from data_import.bootstrap import build
from data_import.config import DataImportSettings
from servicekit.bus import Bus
from servicekit.db import utcnow
from servicekit.errors import RpcTimeout, ServiceError, Unavailable
from servicekit.housekeeping import delete_expired
from servicekit.messaging import outbox_table
from servicekit.objects import read_stream, uploads
from servicekit.topology import SERVICES_BY_NAME
from testkit.handlers import TokenMint

pytestmark = pytest.mark.integration
VARIABLE = ("nir", "mobile_numbers")


@dataclass
class FakeOwner:
    """Notebook and directory as the common brief says they answer: beneficiaries known by their identifier in
    the SI, "Conflit" as a last name contradicting what exists, each ``(import_id, row)`` applied once."""

    people: dict[str, dict] = field(default_factory=dict)
    applied: dict[tuple[uuid.UUID, int], RowOutcome] = field(default_factory=dict)
    effects: list[tuple[uuid.UUID, int]] = field(default_factory=list)
    unavailable: int = 0  # answers this many batches "unavailable" before answering again
    batches: list[ImportBatch] = field(default_factory=list)

    def review(self, values: dict) -> RowReview | tuple[str, list[str]]:
        if values.get("lastname") == "Conflit":
            return "conflict", ["Un bénéficiaire de même nom existe avec une autre date de naissance."]
        known = self.people.get(values.get("external_id") or values.get("email"))
        if known is None:
            return "new", []
        return "same", [f for f in VARIABLE if values.get(f) is not None and values.get(f) != known.get(f)]

    async def on_review(self, batch: ImportBatch, _ctx) -> ReviewedReply:
        self.batches.append(batch)
        results = []
        for row in batch.rows:
            status, detail = self.review(row.values)
            results.append(RowReview(row=row.row, status=ReviewStatus(status),
                                     messages=detail if status == "conflict" else [],
                                     changed=detail if status == "same" else [],
                                     match=MatchView(label=row.values.get("firstname", "")) if status == "same"
                                     else None))
        return ReviewedReply(results=results)

    async def on_apply(self, batch: ImportBatch, _ctx) -> AppliedReply:
        self.batches.append(batch)
        if self.unavailable:
            self.unavailable -= 1
            raise Unavailable("Le service est indisponible.")
        results = []
        for row in batch.rows:
            key = (batch.import_id, row.row)
            if key not in self.applied:
                status, changed = self.review(row.values)
                person_key = row.values.get("external_id") or row.values.get("email")
                if status == "conflict":
                    outcome = RowOutcome(row=row.row, outcome=Outcome.rejected, messages=changed)
                else:
                    outcome = RowOutcome(row=row.row, target_id=uuid.uuid4(), outcome=(
                        Outcome.created if status == "new" else Outcome.updated if changed else Outcome.unchanged))
                    self.people[person_key] = {**self.people.get(person_key, {}), **{
                        k: v for k, v in row.values.items() if v is not None}}
                    self.effects.append(key)
                self.applied[key] = outcome
            results.append(self.applied[key])
        return AppliedReply(results=results)


@dataclass
class Harness:
    nats_url: str
    database_url: str
    mint: TokenMint
    owner: FakeOwner
    client: Bus
    territory: uuid.UUID = field(default_factory=uuid.uuid4)

    def manager(self, territory: uuid.UUID | None = None) -> str:
        return self.mint.token(Role.manager, deployment_id=territory or self.territory, profile_id=uuid.uuid4())

    async def call(self, request, token: str, within_s: float = 30) -> Any:
        # Bounded in time, not in tries: each try may wait the client's whole RPC timeout.
        deadline = asyncio.get_running_loop().time() + within_s
        while True:
            try:
                return await self.client.call(request, headers={"Authorization": f"Bearer {token}"})
            except RpcTimeout:  # a replica just started: its subscriptions may be on their way to the server
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)

    async def upload(self, token: str, filename: str, data: bytes, kind=ImportKind.beneficiaries, **options):
        opened = await self.call(OpenImportV1(kind=kind, filename=filename, **options), token)
        assert opened.object_name == f"imports/{opened.import_id}"
        await (await uploads(self.client.stream_context)).put(opened.object_name, data)
        view = await self.call(FinishUploadV1(import_id=opened.import_id), token)
        assert view.state in (ImportState.parsing, ImportState.review, ImportState.failed)
        return opened.import_id

    async def wait(self, token: str, import_id: uuid.UUID, *states: ImportState, timeout_s: float = 30):
        # Bounded in time, not in tries, as ``call``: a slow machine must not turn 20 s into an hour.
        view, deadline = None, asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            try:
                view = await self.call(GetImportV1(import_id=import_id), token, within_s=0)
            except RpcTimeout:  # a replica just started: its subscriptions are on their way to the server
                continue
            if view.state in states:
                return view
            await asyncio.sleep(0.05)
        raise AssertionError(f"import still {view.state if view else None}, not {states}: {view}")

    async def rows(self, token: str, import_id: uuid.UUID, status: ReviewStatus | None = None):
        return (await self.call(ListImportRowsV1(import_id=import_id, status=status), token)).rows

    async def read(self, name: str) -> bytes:
        store = await uploads(self.client.stream_context)
        return b"".join([chunk async for chunk in read_stream(store, name)])


@pytest.fixture
async def harness(nats_url, databases):
    url = await databases.create("data_import", SERVICES_BY_NAME["data_import"].migrations_dir)
    mint, owner = TokenMint(), FakeOwner()
    fake = Bus(f"fake-owner-{uuid.uuid4().hex[:6]}", nats_url)

    async def jwks(_request, _ctx) -> JwksReply:
        return JwksReply(keys=mint.jwks())

    fake.handle(GetJwksV1, jwks)
    for request_type in (ReviewNotebookImportV1, ReviewDirectoryImportV1):
        fake.handle(request_type, owner.on_review)
    for request_type in (ApplyNotebookImportV1, ApplyDirectoryImportV1):
        fake.handle(request_type, owner.on_apply)
    client = Bus("test-client", nats_url, rpc_timeout_s=10)
    await fake.start()
    await client.start()
    try:
        yield Harness(nats_url, url, mint, owner, client)
    finally:
        await client.stop()
        await fake.stop()


@pytest.fixture
async def service(harness):
    """``await service(**settings)``: the import service started (stopped at the end of the test)."""
    started = []

    async def start(**settings) -> Any:
        built = build(DataImportSettings(nats_url=harness.nats_url, database_url=harness.database_url, env="dev",
                                         resume_every_s=0.2, retry_max_s=0.2, **settings))
        await built.start()
        started.append(built)
        return built

    yield start
    for built in started:
        if not built.stopped:  # a test may stop one itself, as a crash would
            await asyncio.wait_for(built.stop(), 30)


def beneficiaries(*lines: str, header: str = "Identifiant dans le SI*;Prénom*;Nom*;Date de naissance*;NIR;"
                  "Téléphone;Couleur préférée") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


FILE = beneficiaries(
    "A1;Hélène;Çelik;12/03/1985;;06 12 34 56 78;bleu",  # 2 new
    "A2;Jean;Dupont;01/01/1990;;01 48 12 34 56;",  # 3 same, a phone changed
    "A3;Marc;Durand;31/02/1990;;;",  # 4 invalid date
    "A1;Autre;Nom;01/01/1980;;;",  # 5 the same identifier as row 2
    "A4;hélène;CELIK;1985-03-12;;;",  # 6 the same person as row 2
    "A5;Léa;Conflit;01/01/1970;;;",  # 7 the owner says conflict
    "A6;Paul;Exclu;01/01/1970;;;",  # 8 new, excluded by the uploader
)


async def outbox_events(database_url: str, subject: str, event_type=ImportCompletedV1) -> list:
    from servicekit.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            payloads = (await connection.execute(select(outbox_table.c.payload).where(
                outbox_table.c.subject == subject).order_by(outbox_table.c.seq))).scalars().all()
    finally:
        await engine.dispose()
    return [event_type.model_validate_json(p) for p in payloads]


async def test_a_file_is_reviewed_applied_but_its_excluded_rows_and_reported_errors_first(harness, service):
    await service()
    harness.owner.people["A2"] = {"external_id": "A2", "mobile_numbers": ["+33612345678"]}
    token = harness.manager()
    import_id = await harness.upload(token, "beneficiaires.csv", FILE)

    view = await harness.wait(token, import_id, ImportState.review)
    assert (view.rows_total, view.rows_done) == (7, 7)
    assert view.review.model_dump() == {"new": 2, "same": 1, "conflict": 3, "invalid": 1}
    assert view.warnings == ["Colonnes inconnues, ignorées : « Couleur préférée »."]
    conflicts = {row.row: row.messages for row in await harness.rows(token, import_id, ReviewStatus.conflict)}
    assert conflicts == {
        5: ["Ligne en double : même « Identifiant dans le SI » que la ligne 2."],
        6: ["Ligne en double : même nom, prénom et date de naissance que la ligne 2."],
        7: ["Un bénéficiaire de même nom existe avec une autre date de naissance."]}
    [invalid] = await harness.rows(token, import_id, ReviewStatus.invalid)
    assert invalid.row == 4 and "« Date de naissance »" in invalid.messages[0]
    [first, *_] = await harness.rows(token, import_id)
    assert first.values["Prénom*"] == "Hélène" and first.values["Nom*"] == "Çelik" and first.outcome is None
    # Only the valid rows that no other row repeats went to the owner, with their parsed values.
    [review] = harness.owner.batches
    assert [row.row for row in review.rows] == [2, 3, 7, 8]
    assert review.rows[0].values["date_of_birth"] == "1985-03-12"
    assert review.rows[0].values["mobile_numbers"] == ["+33612345678"] and review.rows[0].values["nir"] is None
    assert review.actor.role == Role.manager and review.actor.deployment_id == harness.territory

    # A row number the import does not have (a tampered form, a typo in an API call): refused, nothing applied.
    for unknown in ([8, 99], [0], [-3], [2**40]):
        with pytest.raises(ServiceError) as refused:
            await harness.call(ApplyImportV1(import_id=import_id, exclude_rows=unknown), token)
        assert refused.value.code == ErrorCode.invalid
        assert refused.value.message.startswith("Ces lignes ne font pas partie de l'import")
        assert str(unknown[-1]) in refused.value.message and "rien n'a été appliqué" in refused.value.message
    assert (await harness.call(GetImportV1(import_id=import_id), token)).state == ImportState.review
    assert all(row.outcome is None for row in await harness.rows(token, import_id))

    await harness.call(ApplyImportV1(import_id=import_id, exclude_rows=[8, 4]), token)
    with pytest.raises(ServiceError) as again:
        await harness.call(ApplyImportV1(import_id=import_id), token)
    assert again.value.code == ErrorCode.conflict
    done = await harness.wait(token, import_id, ImportState.done)
    assert done.counts.model_dump() == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 4, "excluded": 1}
    assert done.rows_done == 7 and done.finished_at is not None
    assert sorted(harness.owner.effects) == [(import_id, 2), (import_id, 3)]
    outcomes = {row.row: row.outcome for row in await harness.rows(token, import_id)}
    assert outcomes == {2: Outcome.created, 3: Outcome.updated, 4: Outcome.rejected, 5: Outcome.rejected,
                        6: Outcome.rejected, 7: Outcome.rejected, 8: Outcome.excluded}

    reply = await harness.call(GetImportReportV1(import_id=import_id), token)
    assert reply.object_name == f"reports/{import_id}.csv" and reply.filename == "rapport-beneficiaires.csv"
    data = await harness.read(reply.object_name)
    assert data.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:5] == ["Ligne", "Statut", "Résultat", "Messages", "Identifiant dans le SI*"]
    assert [line[:3] for line in lines[1:]] == [
        ["4", "invalide", "refusé"], ["5", "conflit", "refusé"], ["6", "conflit", "refusé"],
        ["7", "conflit", "refusé"], ["2", "nouveau", "créé"], ["3", "existant", "mis à jour"],
        ["8", "nouveau", "exclu"]]
    assert lines[5][4:8] == ["A1", "Hélène", "Çelik", "12/03/1985"]
    xlsx = await harness.call(GetImportReportV1(import_id=import_id, format="xlsx"), token)
    assert (await harness.read(xlsx.object_name)).startswith(b"PK")

    for _ in range(50):
        [event] = await outbox_events(harness.database_url, ImportCompletedV1.subject) or [None]
        if event:
            break
        await asyncio.sleep(0.1)
    assert (event.import_id, event.state, event.counts.created) == (import_id, ImportState.done, 1)

    # The same file again: a warning names the first import, every applied row is now unchanged.
    again_id = await harness.upload(token, "beneficiaires.csv", FILE)
    view = await harness.wait(token, again_id, ImportState.review)
    assert any(w.startswith("Ce fichier a déjà été importé le ") for w in view.warnings)
    await harness.call(ApplyImportV1(import_id=again_id, exclude_rows=[8]), token)
    done = await harness.wait(token, again_id, ImportState.done)
    assert (done.counts.created, done.counts.updated, done.counts.unchanged) == (0, 0, 2)
    listed = await harness.call(ListImportsV1(kind=ImportKind.beneficiaries), harness.manager())
    assert [i.import_id for i in listed.imports] == [again_id, import_id]


@pytest.mark.parametrize(("filename", "data", "reason"), [
    ("vide.csv", b"", "Le fichier est vide."),
    ("entete.csv", beneficiaries(), "ne contient que la ligne d'en-tête"),
    ("colonne.csv", beneficiaries("A1;Jean;Dupont;", header="Identifiant dans le SI;Prénom;Nom;NIR"),
     "La colonne obligatoire « Date de naissance » est absente"),
    ("notes.txt", FILE, "n'est pas d'un type accepté"),
    ("tableur.xlsx", FILE, "son contenu est au format CSV"),
])
async def test_a_bad_file_fails_with_its_reason_in_french(harness, service, filename, data, reason):
    await service()
    token = harness.manager()
    import_id = await harness.upload(token, filename, data)
    view = await harness.wait(token, import_id, ImportState.failed)
    assert reason in view.reason and view.rows_total == 0
    assert harness.owner.batches == []


async def test_the_end_of_a_structure_admins_import_names_her_structure(harness, service):
    """ImportCompletedV1 carries the structure the import was opened for: the structure's dashboard counts it
    (issue 18 item 3); a manager's territory import names none."""
    await service()
    structure = uuid.uuid4()
    admin = harness.mint.token(Role.admin_structure, deployment_id=harness.territory, structure_ids=[structure])
    mine = await harness.upload(admin, "pros.csv", b"", kind=ImportKind.professionals, structure_id=structure)
    territory = await harness.upload(harness.manager(), "vide.csv", b"")
    await harness.wait(admin, mine, ImportState.failed)
    await harness.wait(harness.manager(), territory, ImportState.failed)
    events = {e.import_id: e for e in await outbox_events(harness.database_url, ImportCompletedV1.subject)}
    assert (events[mine].structure_id, events[mine].deployment_id) == (structure, harness.territory)
    assert events[territory].structure_id is None


async def test_an_upload_that_failed_ends_the_import_with_its_error(harness, service):
    await service()
    token = harness.manager()
    opened = await harness.call(OpenImportV1(kind=ImportKind.beneficiaries, filename="gros.csv"), token)
    view = await harness.call(FinishUploadV1(import_id=opened.import_id, error="Le fichier dépasse 50 Mo."), token)
    assert (view.state, view.reason) == (ImportState.failed, "Le fichier dépasse 50 Mo.")


async def test_imports_are_opened_by_who_may_and_seen_only_in_their_scope(harness, service):
    await service()
    token = harness.manager()
    professional = harness.mint.token(Role.professional, deployment_id=harness.territory)
    structure = uuid.uuid4()
    admin = harness.mint.token(Role.admin_structure, deployment_id=harness.territory, structure_ids=[structure])
    for kind, who in ((ImportKind.beneficiaries, professional), (ImportKind.beneficiaries, admin),
                      (ImportKind.referents, token)):
        with pytest.raises(ServiceError) as refused:
            await harness.call(OpenImportV1(kind=kind, filename="f.csv"), who)
        assert refused.value.code == ErrorCode.forbidden
    with pytest.raises(ServiceError) as unauthenticated:
        await harness.client.call(OpenImportV1(kind=ImportKind.beneficiaries, filename="f.csv"))
    assert unauthenticated.value.code == ErrorCode.unauthenticated

    import_id = await harness.upload(token, "beneficiaires.csv", FILE)
    mine = await harness.upload(admin, "pros.csv", b"Courriel;Pr\xc3\xa9nom;Nom\na@b.fr;A;B\n",
                                kind=ImportKind.professionals)
    for who, visible in ((harness.manager(uuid.uuid4()), []), (professional, []), (admin, [mine]),
                         (harness.manager(), [mine, import_id])):
        listed = await harness.call(ListImportsV1(), who)
        assert [i.import_id for i in listed.imports] == visible
        if import_id not in visible:
            for request in (GetImportV1(import_id=import_id), ListImportRowsV1(import_id=import_id),
                            ApplyImportV1(import_id=import_id), GetImportReportV1(import_id=import_id)):
                with pytest.raises(ServiceError) as hidden:
                    await harness.call(request, who)
                assert hidden.value.code == ErrorCode.not_found
    await harness.wait(admin, mine, ImportState.review)
    assert harness.owner.batches[-1].structure_id == structure
    assert isinstance(harness.owner.batches[-1], ReviewDirectoryImportV1)


async def test_a_template_has_the_kinds_header_with_mandatory_columns_marked(harness, service):
    await service()
    token = harness.manager()
    reply = await harness.call(GetImportTemplateV1(kind=ImportKind.professionals), token)
    assert (reply.object_name, reply.filename) == ("templates/professionals.csv", "modele-import-professionals.csv")
    assert (await harness.read(reply.object_name)).decode("utf-8-sig").splitlines() == [
        "Courriel*;Prénom*;Nom*;Téléphone;Fonction"]
    xlsx = await harness.call(GetImportTemplateV1(kind=ImportKind.beneficiaries, format="xlsx"), token)
    assert (await harness.read(xlsx.object_name)).startswith(b"PK")


async def test_an_import_interrupted_while_applying_is_resumed_by_another_replica_each_row_once(harness, service):
    first = await service(lease_s=1.0)
    token = harness.manager()
    lines = [f"B{i};Prénom{i};Nom{i};01/01/1980;;;" for i in range(1, 1201)]
    import_id = await harness.upload(token, "gros.csv", beneficiaries(*lines))
    await harness.wait(token, import_id, ImportState.review)
    harness.owner.unavailable = 10**6  # the owner down: the first replica retries its batches
    await harness.call(ApplyImportV1(import_id=import_id), token)
    for _ in range(100):
        if sum(isinstance(b, ApplyNotebookImportV1) for b in harness.owner.batches) >= 3:
            break
        await asyncio.sleep(0.05)
    await first.stop()  # as a crash: its lease runs out
    harness.owner.unavailable = 0
    await service(lease_s=1.0)
    done = await harness.wait(token, import_id, ImportState.done)
    assert (done.counts.created, done.rows_done) == (1200, 1200)
    assert len(harness.owner.effects) == len(set(harness.owner.effects)) == 1200


FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "cdb-v1"
V1_FILES = [
    ("import_beneficiaires.csv", ImportKind.beneficiaries),
    ("import_beneficiaires_buggy.csv", ImportKind.beneficiaries),
    ("import_beneficiaires_partial.csv", ImportKind.beneficiaries),
    ("import_beneficiaires_with_all_date_formats.csv", ImportKind.beneficiaries),
    ("re_import_beneficiaires.csv", ImportKind.beneficiaries),
    ("import_structures.csv", ImportKind.structures),
    ("import_structures_buggy.csv", ImportKind.structures),
    ("e2e_import_structures.csv", ImportKind.structures),
    ("import_structures_missing_key.csv", ImportKind.structures),  # without Siret, an optional column
    ("import_charges_orientation.csv", ImportKind.orientation_managers),
    ("import_charges_orientation.xls", ImportKind.orientation_managers),
    ("import_charges_orientation.xlsx", ImportKind.orientation_managers),
    ("e2e_import_charges_orientation.xlsx", ImportKind.orientation_managers),
    ("import_professionnels.csv", ImportKind.professionals),
    ("beneficiaires_en_attente.csv", ImportKind.referents),
    ("import_reorientation_change_referent.csv", ImportKind.reorientations),
    ("import_reorientation_change_structure.csv", ImportKind.reorientations),
]


@pytest.mark.parametrize(("filename", "kind"), V1_FILES)
async def test_every_v1_file_is_read_and_reviewed(harness, service, filename, kind, db_backend):
    if db_backend == "postgresql" and filename != V1_FILES[0][0]:
        pytest.skip("the reading does not depend on the database: SQLite is enough")
    path = FIXTURES / filename
    if not path.exists():
        pytest.skip(f"{path} is not here")
    await service()
    structure = uuid.uuid4()
    token = (harness.mint.token(Role.admin_structure, deployment_id=harness.territory, structure_ids=[structure])
             if kind == ImportKind.referents else harness.manager())
    options = {"structure_id": structure} if kind == ImportKind.professionals else {}
    import_id = await harness.upload(token, filename, path.read_bytes(), kind=kind, **options)
    view = await harness.wait(token, import_id, ImportState.review, ImportState.failed)
    assert view.state == ImportState.review, view.reason
    assert view.rows_total > 0 and sum(view.review.model_dump().values()) == view.rows_total
    rows = (await harness.call(ListImportRowsV1(import_id=import_id, limit=500), token)).rows
    assert len(rows) == view.rows_total and all(row.values for row in rows)



# --- the antivirus (issue 21): no file is read before clamd says it is clean ------------------------------------

async def upload_scans_of(database_url: str) -> dict[uuid.UUID, tuple]:
    from data_import.adapters.orm import upload_scans
    from servicekit.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(upload_scans))).all()
    finally:
        await engine.dispose()
    return {row.import_id: (row.verdict, row.signature, row.size, row.sha256) for row in rows}


async def test_an_infected_file_is_refused_unread_deleted_and_recorded_a_clean_one_goes_on(harness, service,
                                                                                           clamd_socket):
    from nats.js.errors import NotFoundError

    from testkit.eicar import eicar

    running = await service(clamd_socket=clamd_socket)
    token = harness.manager()
    infected = beneficiaries("A1;Hélène;Çelik;12/03/1985;;;").replace(b"\xc3\x87elik", eicar())
    import_id = await harness.upload(token, "beneficiaires.csv", infected)

    view = await harness.wait(token, import_id, ImportState.failed)
    assert view.reason == ("Le fichier contient un virus (Eicar-Test-Signature) : il a été refusé et n'a pas été "
                           "lu.")
    assert view.rows_total == 0 and harness.owner.batches == []  # never parsed, nothing reviewed
    assert await harness.rows(token, import_id) == []
    with pytest.raises(NotFoundError):  # nobody may download it any more
        await (await uploads(harness.client.stream_context)).get_info(f"imports/{import_id}")
    [event] = await outbox_events(harness.database_url, ImportCompletedV1.subject)
    assert (event.import_id, event.state, event.reason) == (import_id, ImportState.failed, view.reason)
    [line] = [line for line in await outbox_events(harness.database_url, ImportAuditRecordedV1.subject,
                                                   ImportAuditRecordedV1) if line.action == "import.file_infected"]
    assert (line.action, line.target_id, line.deployment_id, line.actor_role, line.details) == (
        "import.file_infected", str(import_id), harness.territory, "manager",
        {"kind": "beneficiaries", "signature": "Eicar-Test-Signature"})

    clean_id = await harness.upload(token, "beneficiaires.csv", FILE)
    clean = await harness.wait(token, clean_id, ImportState.review)
    assert clean.rows_total == 7
    scans = await upload_scans_of(harness.database_url)
    assert scans[import_id][:3] == ("infected", "Eicar-Test-Signature", len(infected))
    assert scans[clean_id][:3] == ("clean", None, len(FILE)) and len(scans[clean_id][3]) == 64
    # Verdicts go with their import, a year later.
    deleted = await delete_expired(running.sessions, running.kept, now=utcnow() + timedelta(days=366))
    assert (deleted["imports"], deleted["upload_scans"]) == (2, 2)
    assert await upload_scans_of(harness.database_url) == {}


async def test_an_unreachable_antivirus_fails_the_import_unread(harness, service, tmp_path):
    await service(clamd_socket=str(tmp_path / "absent.sock"), clamd_timeout_s=2)
    token = harness.manager()
    import_id = await harness.upload(token, "beneficiaires.csv", FILE)
    view = await harness.wait(token, import_id, ImportState.failed)
    assert view.reason.startswith("L'antivirus est indisponible : le fichier n'a pas pu être analysé et n'a pas été "
                                  "lu. Réessayez")
    assert harness.owner.batches == []
    assert (await upload_scans_of(harness.database_url))[import_id][0] == "error"


async def test_without_an_antivirus_uploads_are_refused_outside_dev_and_read_with_a_warning_in_dev(harness, service):
    production = build(DataImportSettings(nats_url=harness.nats_url, database_url=harness.database_url, env="prod",
                                          public_url="https://carnet.example.fr"))
    await production.start()
    try:
        with pytest.raises(ServiceError) as refused:
            await harness.call(OpenImportV1(kind=ImportKind.beneficiaries, filename="beneficiaires.csv"),
                               harness.manager())
        assert refused.value.code == ErrorCode.unavailable
        assert "aucun antivirus n'est configuré" in refused.value.message
    finally:
        await production.stop()

    await service()  # dev, no DATA_IMPORT_CLAMD_SOCKET: `make run` on a machine without clamd
    token = harness.manager()
    import_id = await harness.upload(token, "beneficiaires.csv", FILE)
    await harness.wait(token, import_id, ImportState.review)
    assert (await upload_scans_of(harness.database_url))[import_id][0] == "unscanned"
