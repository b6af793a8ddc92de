"""Exports through notebook's broker in memory, on SQLite and PostgreSQL: asked, written by the worker from the
pilotage read model (rows put there directly), read back as CSV and XLSX; each role gets only its rows (a
structure admin her structure's, a professional her notebooks); bad input is refused with nothing recorded; a
redelivered event does not write the file again."""
from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import delete, func, select

from contracts import notebook as c
from contracts import pilotage as p
from contracts.base import ErrorCode
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1
from contracts.identity import Role
from contracts.profiles import (
    DeploymentCreatedV1,
    ManagerCreatedV1,
    OrientationManagerCreatedV1,
    ProfessionalCreatedV1,
)
from notebook.adapters.orm import ExportJob, PilotageNotebook, SavedQueryRow
from notebook.handlers import exports
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration

TRICKY_FIRSTNAME = 'Zoé "la grande"; née\nà Sète'
FORMULA = "=HYPERLINK(\"http://x\")"


@pytest.fixture
def stored(monkeypatch) -> dict[str, bytes]:
    """The object store, as a dict: the broker in memory has none."""
    files: dict[str, bytes] = {}

    async def store_file(_deps, name: str, path: Path) -> None:
        files[name] = path.read_bytes()

    monkeypatch.setattr(exports, "store_file", store_file)
    return files


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


@dataclass
class World:
    deployment_id: uuid.UUID
    manager: str
    admin_a: str
    pro: str
    structure_a: uuid.UUID
    structure_b: uuid.UUID
    notebooks: dict[str, uuid.UUID]  # lastname → notebook id


async def world(notebook: InMemoryService, token_mint) -> World:
    deployment, a, b, system = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    manager_id, pro_id, admin_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await notebook.deliver(DeploymentCreatedV1(deployment_id=deployment, label="Drôme", department_code="26"))
    await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=system, deployment_id=deployment,
                                                      name="Professionnel", orientation_type=OrientationType.pro))
    for structure, name in ((a, "Insertion A; Sud"), (b, "Structure B")):
        await notebook.deliver(StructureCreatedV1(structure_id=structure, deployment_id=deployment, name=name,
                                                  city="Valence"))
    await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=deployment, firstname="Marie",
                                            lastname="Gérante", email=f"g-{uuid.uuid4().hex[:6]}@cd26.fr"))
    await notebook.deliver(ProfessionalCreatedV1(
        profile_id=pro_id, deployment_id=deployment, firstname="Pierre", lastname="Pro",
        email=f"p-{uuid.uuid4().hex[:6]}@cd26.fr", structure_ids=[a], orientation_system_ids=[system]))
    co_id = uuid.uuid4()
    await notebook.deliver(OrientationManagerCreatedV1(profile_id=co_id, deployment_id=deployment, firstname="Giulia",
                                                       lastname="Diaby", email=f"co-{uuid.uuid4().hex[:6]}@cd26.fr"))
    manager = token_mint.token(Role.manager, deployment_id=deployment, profile_id=manager_id)
    pro = token_mint.token(Role.professional, deployment_id=deployment, profile_id=pro_id, structure_ids=[a])
    notebooks = {}
    for lastname in ("Alpha", "Bravo", "Charlie"):
        created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
            firstname="Léa", lastname=f"{lastname}{uuid.uuid4().hex[:4]}", date_of_birth=date(1990, 4, 12))),
            manager)
        notebooks[lastname] = created.notebook_id
    await notebook.call(c.JoinNotebookV1(notebook_id=notebooks["Alpha"], as_referent=True,
                                         orientation_system_id=system), pro)
    # The read model as notebook.notebook.changed.v1 would leave it (no relay here): Alpha and Bravo in A, Charlie
    # in B; Alpha with accents, separators, quotes, a line break and a formula.
    facts = {
        "Alpha": dict(lastname=FORMULA, firstname=TRICKY_FIRSTNAME, structure_id=a, referent_id=pro_id,
                      orientation_manager_id=co_id,
                      cer_state="signed", cer_end_date=date(2027, 3, 31), themes="|emploi|logement|"),
        "Bravo": dict(lastname="Bravo", firstname="Élodie", structure_id=a),
        "Charlie": dict(lastname="Charlie", firstname="Noël", structure_id=b),
    }
    now = datetime.now(UTC)
    async with notebook.sessions.begin() as session:
        await session.execute(delete(PilotageNotebook).where(PilotageNotebook.notebook_id.in_(notebooks.values())))
        for key, values in facts.items():
            session.add(PilotageNotebook(
                notebook_id=notebooks[key], deployment_id=deployment, date_of_birth=date(1990, 4, 12),
                orientation_system_id=system, support="accompanied", rsa_right="rsa_droit_ouvert_versable",
                subject_to_right_and_duty=True, created_at=now, refreshed_at=now, origin="manual",
                **{"cer_state": "none", "themes": "", **values}))
    admin_a = token_mint.token(Role.admin_structure, deployment_id=deployment, profile_id=admin_id,
                               structure_ids=[a])
    return World(deployment, manager, admin_a, pro, a, b, notebooks)


async def exported(notebook: InMemoryService, stored, token: str, list_name=p.ExportList.beneficiaries,
                   file_format=p.ExportFormat.csv, **fields) -> tuple[p.ExportView, bytes]:
    started = await notebook.call(p.StartExportV1(list_name=list_name, format=file_format, **fields), token)
    assert started.export.state == p.ExportState.queued
    [event] = [e for e in await notebook.events(p.ExportRequestedV1.subject)
               if e.export_id == started.export.export_id]
    await notebook.deliver(event)
    view = (await notebook.call(p.GetExportV1(export_id=started.export.export_id), token)).export
    assert view.state == p.ExportState.done, view.error
    found = await notebook.call(p.GetExportFileV1(export_id=view.export_id), token)
    assert found.filename == view.filename and found.filename.endswith(f".{file_format.value}")
    return view, stored[found.object_name]


def csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    assert b"\r\n" in content
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


async def test_a_manager_exports_the_territory_as_csv_read_back_intact(notebook, token_mint, stored):
    w = await world(notebook, token_mint)
    view, content = await exported(notebook, stored, w.manager)
    rows = csv_rows(content)
    assert view.rows_done == view.rows_total == 3 and len(rows) == 3
    assert view.expires_at - view.finished_at == timedelta(days=7)  # the download link's week
    alpha = next(r for r in rows if r["Prénom"] == TRICKY_FIRSTNAME)  # quotes, ; and the line break intact
    assert alpha["Nom"] == "'" + FORMULA  # never a formula
    assert alpha["Structure"] == "Insertion A; Sud" and alpha["Référent"] == "Pierre Pro"
    assert alpha["Chargé d'orientation"] == "Giulia Diaby"
    assert list(rows[0]).index("Chargé d'orientation") == list(rows[0]).index("Référent") + 1
    assert alpha["Date de naissance"] == "12/04/1990" and alpha["Fin du CER"] == "31/03/2027"
    assert alpha["État du CER"] == "Signé" and alpha["Soumis aux droits et devoirs"] == "oui"
    assert alpha["Droit RSA"] == "Droit ouvert et versable" and alpha["Statut d'accompagnement"] == "Accompagné"
    assert "NIR" not in ";".join(rows[0]) and str(w.notebooks["Alpha"]) not in content.decode("utf-8-sig")
    # The export is recorded and listed: who, which list, how many rows.
    listed = await notebook.call(p.ListExportsV1(), w.manager)
    assert listed.exports[0].export_id == view.export_id and listed.exports[0].requested_by_name == "Marie Gérante"


async def test_xlsx_has_typed_columns_and_filters_narrow_the_rows(notebook, token_mint, stored):
    w = await world(notebook, token_mint)
    filters = p.BeneficiaryFilters(structure_ids=[w.structure_b])
    view, content = await exported(notebook, stored, w.manager, file_format=p.ExportFormat.xlsx, filters=filters)
    assert view.filters == filters and view.rows_done == 1 and view.filters_summary == ["Structure : Structure B"]
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    header, rows = sheet[0], sheet[1:]
    assert header[:4] == ["Nom", "Prénom", "Date de naissance", "Structure"]
    assert len(rows) == 1 and rows[0][0] == "Charlie" and rows[0][1] == "Noël"
    assert rows[0][2] == date(1990, 4, 12)  # a date cell, not text
    assert rows[0][header.index("Soumis aux droits et devoirs")] == "oui"


async def test_a_structure_admin_and_a_professional_get_only_their_rows(notebook, token_mint, stored):
    w = await world(notebook, token_mint)
    _, content = await exported(notebook, stored, w.admin_a)
    assert sorted(r["Structure"] for r in csv_rows(content)) == ["Insertion A; Sud", "Insertion A; Sud"]
    # Asking for structure B's rows does not widen her scope.
    _, content = await exported(notebook, stored, w.admin_a,
                                filters=p.BeneficiaryFilters(structure_ids=[w.structure_b]))
    assert csv_rows(content) == []
    _, content = await exported(notebook, stored, w.pro)
    assert [r["Prénom"] for r in csv_rows(content)] == [TRICKY_FIRSTNAME]  # only the notebook she follows
    # Her exports are hers: the manager sees them (her territory), the structure admin does not.
    mine = await notebook.call(p.ListExportsV1(), w.pro)
    assert {e.requested_by_name for e in mine.exports} == {"Pierre Pro"}
    error = await refused(notebook.call(p.GetExportV1(export_id=mine.exports[0].export_id), w.admin_a))
    assert error.code == ErrorCode.not_found
    seen = await notebook.call(p.GetExportV1(export_id=mine.exports[0].export_id), w.manager)
    assert seen.export.requested_by_name == "Pierre Pro"


async def test_other_lists_stay_in_scope(notebook, token_mint, stored):
    w = await world(notebook, token_mint)
    _, content = await exported(notebook, stored, w.manager, list_name=p.ExportList.structures)
    names = {r["Nom"]: r for r in csv_rows(content)}
    assert set(names) == {"Insertion A; Sud", "Structure B"} and names["Insertion A; Sud"]["Professionnels"] == "1"
    _, content = await exported(notebook, stored, w.admin_a, list_name=p.ExportList.professionals)
    assert [(r["Nom"], r["Référent de (carnets)"]) for r in csv_rows(content)] == [("Pro", "1")]
    _, content = await exported(notebook, stored, w.pro, list_name=p.ExportList.actions)
    assert csv_rows(content) == []


async def test_bad_input_is_refused_with_nothing_recorded(notebook, token_mint, stored):
    w = await world(notebook, token_mint)
    other = await world(notebook, token_mint)

    async def jobs() -> int:
        async with notebook.sessions() as session:
            return await session.scalar(select(func.count()).select_from(ExportJob))

    before = await jobs()
    error = await refused(notebook.call(p.StartExportV1(list_name=p.ExportList.structures,
                                                        filters=p.BeneficiaryFilters(cer_states=["none"])), w.manager))
    assert error.code == ErrorCode.invalid and "bénéficiaires" in error.message
    error = await refused(notebook.call(p.StartExportV1(list_name=p.ExportList.structures), w.pro))
    assert error.code == ErrorCode.forbidden and "profil" in error.message
    error = await refused(notebook.call(p.StartExportV1(list_name=p.ExportList.beneficiaries,
                                                        query_id=uuid.uuid4()), w.manager))
    assert error.code == ErrorCode.not_found
    error = await refused(notebook.call(p.StartExportV1(list_name=p.ExportList.beneficiaries,
                                                        deployment_id=other.deployment_id), w.manager))
    assert error.code == ErrorCode.forbidden
    beneficiary = token_mint.token(Role.beneficiary, deployment_id=w.deployment_id, profile_id=uuid.uuid4())
    error = await refused(notebook.call(p.StartExportV1(list_name=p.ExportList.beneficiaries), beneficiary))
    assert error.code == ErrorCode.forbidden
    assert await jobs() == before
    # Another territory's export: the same answer as an unknown one.
    view, _ = await exported(notebook, stored, other.manager)
    for request in (p.GetExportV1(export_id=view.export_id), p.GetExportFileV1(export_id=view.export_id)):
        error = await refused(notebook.call(request, w.manager))
        assert error.code == ErrorCode.not_found and error.message == exports.EXPORT_NOT_FOUND


async def test_a_redelivered_request_does_not_write_again(notebook, token_mint, stored):
    w = await world(notebook, token_mint)
    view, _ = await exported(notebook, stored, w.manager)
    stored.clear()
    [event] = [e for e in await notebook.events(p.ExportRequestedV1.subject) if e.export_id == view.export_id]
    await notebook.deliver(event)
    assert stored == {}
    again = await notebook.call(p.GetExportV1(export_id=view.export_id), w.manager)
    assert again.export.state == p.ExportState.done and again.export.finished_at == view.finished_at


async def test_the_imports_list_is_read_from_the_import_service_and_written_at_once(services_under_test, token_mint,
                                                                                   stored):
    notebook, data_import = await services_under_test("notebook", "data_import")
    w = await world(notebook, token_mint)
    started = await notebook.call(p.StartExportV1(list_name=p.ExportList.imports), w.manager)
    assert started.export.state == p.ExportState.done  # no background: the asker's token reads the list
    assert [e for e in await notebook.events(p.ExportRequestedV1.subject)
            if e.export_id == started.export.export_id] == []
    found = await notebook.call(p.GetExportFileV1(export_id=started.export.export_id), w.manager)
    rows = csv_rows(stored[found.object_name])
    assert rows == [] and started.export.rows_done == 0  # a new territory has imported nothing yet
    assert stored[found.object_name].decode("utf-8-sig").startswith("Fichier;Type;État;Lignes")
    error = await refused(notebook.call(p.StartExportV1(list_name=p.ExportList.imports), w.pro))
    assert error.code == ErrorCode.forbidden


async def test_the_imports_list_holds_every_import_of_the_territory_past_one_page(services_under_test, token_mint,
                                                                                   stored):
    """The import service answers 200 imports a page; a territory's daily flux pass that in a few months."""
    from data_import.adapters.orm import imports

    notebook, data_import = await services_under_test("notebook", "data_import")
    w = await world(notebook, token_mint)
    deployment = w.deployment_id
    now = datetime.now(UTC)
    counts = dict.fromkeys(("rows_total", "rows_done", "created", "updated", "unchanged", "rejected", "excluded",
                            "review_new", "review_same", "review_conflict", "review_invalid"), 0)
    async with data_import.sessions() as session, session.begin():
        await session.execute(imports.insert(), [{
            "id": uuid.uuid4(), "kind": "caf-msa", "filename": f"RSABEM-{n:03d}.xml", "deployment_id": deployment,
            "structure_id": None, "account_id": uuid.uuid4(), "actor": {}, "created_by_name": "Flux", "state": "done",
            "reason": "", "fingerprint": None, "header": [], "warnings": [], "created_at": now - timedelta(days=n),
            **counts} for n in range(205)])

    started = await notebook.call(p.StartExportV1(list_name=p.ExportList.imports), w.manager)

    found = await notebook.call(p.GetExportFileV1(export_id=started.export.export_id), w.manager)
    rows = csv_rows(stored[found.object_name])
    assert started.export.rows_done == len(rows) == 205
    assert sorted(row["Fichier"] for row in rows) == [f"RSABEM-{n:03d}.xml" for n in range(205)]


async def test_a_saved_query_gives_its_filters_and_name(notebook, token_mint, stored):
    w = await world(notebook, token_mint)
    other = await world(notebook, token_mint)
    now = datetime.now(UTC)
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    async with notebook.sessions.begin() as session:
        session.add(SavedQueryRow(id=mine, deployment_id=w.deployment_id, owner_id=uuid.uuid4(), owner_name="Paul",
                                  name="Structure B", shared=True, created_at=now,
                                  filters=p.BeneficiaryFilters(structure_ids=[w.structure_b]).model_dump(mode="json")))
        session.add(SavedQueryRow(id=theirs, deployment_id=other.deployment_id, owner_id=uuid.uuid4(), owner_name="X",
                                  name="Ailleurs", shared=True, created_at=now, filters={}))
    view, content = await exported(notebook, stored, w.manager, query_id=mine)
    assert view.label == "Bénéficiaires — requête « Structure B »" and view.rows_done == 1
    assert [r["Nom"] for r in csv_rows(content)] == ["Charlie"]
    # Its page sends the filters it shows: changed since it was opened, they are exported, and the label says so.
    view, content = await exported(notebook, stored, w.manager, query_id=mine,
                                   filters=p.BeneficiaryFilters(structure_ids=[w.structure_a]))
    assert view.label == "Bénéficiaires — requête « Structure B » (filtres modifiés)" and view.rows_done == 2
    view, _ = await exported(notebook, stored, w.manager, query_id=mine,
                             filters=p.BeneficiaryFilters(structure_ids=[w.structure_b]))
    assert view.label == "Bénéficiaires — requête « Structure B »"
    error = await refused(notebook.call(p.StartExportV1(list_name=p.ExportList.beneficiaries, query_id=theirs),
                                        w.manager))
    assert error.code == ErrorCode.not_found and error.message == exports.QUERY_NOT_FOUND


async def test_an_export_left_running_by_a_dead_replica_restarts_and_a_file_expires(notebook, token_mint, stored):
    w = await world(notebook, token_mint)
    view, _ = await exported(notebook, stored, w.manager)
    [event] = [e for e in await notebook.events(p.ExportRequestedV1.subject) if e.export_id == view.export_id]
    now = datetime.now(UTC)
    async with notebook.sessions.begin() as session:
        job = await session.get(ExportJob, view.export_id)
        job.state, job.heartbeat_at, job.rows_done = "running", now, 10
    with pytest.raises(exports.StillRunning):  # another replica is on it: the event comes back later
        await exports.claim(SimpleDeps(notebook.sessions), view.export_id)
    async with notebook.sessions.begin() as session:
        (await session.get(ExportJob, view.export_id)).heartbeat_at = now - exports.LEASE * 2
    stored.clear()
    await notebook.deliver(event)
    again = (await notebook.call(p.GetExportV1(export_id=view.export_id), w.manager)).export
    assert again.state == p.ExportState.done and again.rows_done == 3 and len(stored) == 1
    # Seven days later the file is gone: the export says so, the download is refused in French.
    async with notebook.sessions.begin() as session:
        (await session.get(ExportJob, view.export_id)).expires_at = now - timedelta(minutes=1)
    assert (await notebook.call(p.GetExportV1(export_id=view.export_id), w.manager)).export.state == "expired"
    error = await refused(notebook.call(p.GetExportFileV1(export_id=view.export_id), w.manager))
    assert error.code == ErrorCode.not_found and "7 jours" in error.message


@dataclass
class SimpleDeps:
    sessions: object

    @staticmethod
    def clock() -> datetime:
        return datetime.now(UTC)


async def test_requests_appointments_actions_and_people_keep_to_a_structure_admin_s_structures(notebook, token_mint,
                                                                                             stored):
    """The lists read from the notebook's own tables (reorientation requests, appointments, actions, people): the
    manager gets the territory's, a structure admin only her structure's, a professional only her notebooks'."""
    w = await world(notebook, token_mint)
    social, pro_b_id = uuid.uuid4(), uuid.uuid4()
    await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=social, deployment_id=w.deployment_id,
                                                      name="Social", orientation_type=OrientationType.social))
    async with notebook.sessions() as session:
        system = (await session.get(PilotageNotebook, w.notebooks["Alpha"])).orientation_system_id
    await notebook.deliver(ProfessionalCreatedV1(
        profile_id=pro_b_id, deployment_id=w.deployment_id, firstname="Bérénice", lastname="Brun",
        email=f"b-{uuid.uuid4().hex[:6]}@cd26.fr", structure_ids=[w.structure_b], orientation_system_ids=[system]))
    pro_b = token_mint.token(Role.professional, deployment_id=w.deployment_id, profile_id=pro_b_id,
                             structure_ids=[w.structure_b])
    await notebook.call(c.JoinNotebookV1(notebook_id=w.notebooks["Charlie"], as_referent=True,
                                         orientation_system_id=system), pro_b)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    for key, token, theme in (("Alpha", w.pro, "emploi"), ("Charlie", pro_b, "logement")):
        await notebook.call(c.BookAppointmentV1(notebook_id=w.notebooks[key], at=at), token)
        focus = await notebook.call(c.AddFocusV1(notebook_id=w.notebooks[key], theme=theme), token)
        target = await notebook.call(c.AddTargetV1(focus_id=focus.id, target=f"Objectif {key}"), token)
        await notebook.call(c.AddActionV1(target_id=target.id, action=f"Action {key}"), token)
        await notebook.call(c.RequestReorientationV1(notebook_id=w.notebooks[key], orientation_system_id=social,
                                                     reason=f"Motif {key}; « social »"), token)

    def names(content: bytes) -> list[str]:
        return sorted(r["Nom"][:-4] for r in csv_rows(content))  # lastnames without their random suffix

    _, content = await exported(notebook, stored, w.manager, list_name=p.ExportList.orientation_requests)
    rows = csv_rows(content)
    assert names(content) == ["Alpha", "Charlie"]
    alpha = next(r for r in rows if r["Nom"].startswith("Alpha"))
    assert (alpha["Demandée par"], alpha["Dispositif demandé"], alpha["Statut"]) == ("Pierre Pro", "Social",
                                                                                      "En attente")
    assert alpha["Motif"] == "Motif Alpha; « social »" and alpha["Date de naissance"] == "12/04/1990"
    view, content = await exported(notebook, stored, w.manager, list_name=p.ExportList.appointments,
                                   file_format=p.ExportFormat.xlsx)
    header, *lines = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    assert view.rows_done == len(lines) == 2 and header[:2] == ["Nom", "Prénom"]
    assert {line[header.index("Avec")] for line in lines} == {"Pierre Pro", "Bérénice Brun"}
    assert all(isinstance(line[header.index("Rendez-vous le")], datetime) for line in lines)  # typed cells
    _, content = await exported(notebook, stored, w.manager, list_name=p.ExportList.actions)
    assert names(content) == ["Alpha", "Charlie"]
    _, content = await exported(notebook, stored, w.manager, list_name=p.ExportList.professionals)
    assert sorted(r["Nom"] for r in csv_rows(content)) == ["Brun", "Diaby", "Pro"]

    # The structure admin of A: none of structure B's rows, whatever the list.
    for list_name in (p.ExportList.appointments, p.ExportList.actions):
        _, content = await exported(notebook, stored, w.admin_a, list_name=list_name)
        assert names(content) == ["Alpha"], list_name
    _, content = await exported(notebook, stored, w.admin_a, list_name=p.ExportList.professionals)
    assert [r["Nom"] for r in csv_rows(content)] == ["Pro"]
    error = await refused(notebook.call(p.StartExportV1(list_name=p.ExportList.orientation_requests), w.admin_a))
    assert error.code == ErrorCode.forbidden
    # A professional: the notebooks she follows only.
    for list_name in (p.ExportList.appointments, p.ExportList.actions):
        _, content = await exported(notebook, stored, pro_b, list_name=list_name)
        assert names(content) == ["Charlie"], list_name
