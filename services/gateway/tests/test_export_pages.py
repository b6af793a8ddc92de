"""The exports' pages with a notebook service answering (issue 18 item 1): a large export being written shows a
progress bar of its rows and refreshes itself; a finished one its download link and until when the file is kept
(7 days); an expired one says so; the list shows a territory's manager who exported which list, with which
filters, how many rows — names stay text."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contracts.identity import GetMeV1, MeReply, Role
from contracts.pilotage import (
    ExportFormat,
    ExportList,
    ExportReply,
    ExportsReply,
    ExportState,
    ExportView,
    GetExportV1,
    ListExportsV1,
    StartExportV1,
)
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
TERRITORY = uuid.uuid4()
HOSTILE = '<script>alert("x")</script>'
NOW = datetime(2026, 11, 29, 9, tzinfo=UTC)


def view(state: ExportState, **fields) -> ExportView:
    return ExportView(export_id=uuid.uuid4(), list_name=ExportList.beneficiaries, format=ExportFormat.xlsx,
                      label="Bénéficiaires — requête « Sans CER »", state=state, requested_by_name="Marie Gérante",
                      requested_at=NOW, filename="beneficiaires-2026-11-29.xlsx", **fields)


ME = MeReply(account_id=uuid.uuid4(), email="gestion@carnet.fr", phone=None, role=Role.manager, deployment_id=TERRITORY,
             profile_id=uuid.uuid4(), structure_ids=[], firstname="Marie", lastname="Gérante")


def exports_rpc(export: ExportView | None = None, exports: list[ExportView] = ()) -> FakeRpc:
    def the_export(request) -> ExportReply:  # asked for only where a test gives one
        return ExportReply(export=export)

    return FakeRpc({GetMeV1: ME, GetExportV1: the_export, StartExportV1: the_export,
                    ListExportsV1: ExportsReply(exports=list(exports), total=len(exports))})


async def test_a_large_export_shows_its_progress_and_refreshes_itself():
    running = view(ExportState.running, rows_total=100_000, rows_done=35_000)
    page = await visit(exports_rpc(running), f"/exports/{running.export_id}")
    assert page.status_code == 200 and page.headers["refresh"] == "2"
    assert '<progress id="export-progress" max="100000" value="35000">' in page.text
    assert "35000 lignes sur 100000" in page.text and "Télécharger" not in page.text


async def test_a_finished_export_gives_its_link_kept_seven_days_and_an_expired_one_says_so():
    done = view(ExportState.done, rows_total=3, rows_done=3, finished_at=NOW, expires_at=NOW + timedelta(days=7))
    page = await visit(exports_rpc(done), f"/exports/{done.export_id}")
    assert page.status_code == 200 and "refresh" not in page.headers and "<progress" not in page.text
    assert f'href="/api/v1/exports/{done.export_id}/download" download>Télécharger {done.filename}' in page.text
    assert "L'export est prêt : 3 lignes." in page.text
    assert "gardé jusqu'au 06/12/2026" in page.text  # 7 days after it was written
    expired = view(ExportState.expired, rows_total=3, rows_done=3, finished_at=NOW, expires_at=NOW)
    page = await visit(exports_rpc(expired), f"/exports/{expired.export_id}")
    assert "gardés 7 jours" in page.text and "/download" not in page.text


async def test_a_manager_sees_who_exported_what_with_which_filters_and_how_many_rows():
    mine = view(ExportState.done, rows_total=12, rows_done=12, expires_at=NOW + timedelta(days=7),
                filters_summary=["Soumis aux droits et devoirs : oui", "État du CER : Aucun CER"])
    theirs = view(ExportState.running, rows_total=40_000, rows_done=5_000).model_copy(update={
        "requested_by_name": HOSTILE, "list_name": ExportList.appointments, "label": ""})
    page = await visit(exports_rpc(exports=[mine, theirs]), "/exports")
    assert page.status_code == 200
    assert "Vous voyez tous les exports de votre territoire" in page.text
    rows = page.text[page.text.index("<tbody>"):page.text.index("</tbody>")].split("<tr>")[1:]
    assert len(rows) == 2
    assert "Marie Gérante" in rows[0] and "<td>12</td>" in rows[0] and "Soumis aux droits et devoirs : oui" in rows[0]
    assert "Rendez-vous" in rows[1] and "<td>5000</td>" in rows[1] and "En cours" in rows[1]
    assert HOSTILE not in page.text and "&lt;script&gt;" in rows[1]


@pytest.mark.parametrize(("data", "message"), [
    ({"list_name": "nope", "format": "csv"}, "Choisissez une liste à exporter."),
    ({"list_name": "actions", "format": "pdf"}, "Choisissez le format CSV ou Excel."),
    ({"list_name": "actions", "query_id": "pas-un-id"}, "La requête n&#39;est pas un identifiant valide."),
    ({"list_name": "beneficiaries", "support": "tous"}, "statut d&#39;accompagnement"),
])
async def test_a_bad_export_form_is_refused_in_french_and_nothing_is_started(data, message):
    rpc = exports_rpc()
    page = await visit(rpc, "/exports", data)
    assert page.status_code == 422 and message in page.text
    if data["list_name"] == "actions":  # the form, as chosen
        assert '<option value="actions" selected>' in page.text
    assert rpc.sent(StartExportV1) == []


async def test_the_export_form_starts_the_export_the_api_body_would():
    """The form is parsed by POST /api/v1/exports' body model: its « list » is the form's « list_name »."""
    rpc = exports_rpc(view(ExportState.done, rows_total=1, rows_done=1))
    page = await visit(rpc, "/exports", {"list_name": "beneficiaries", "format": "xlsx", "support": "accompanied"})
    assert page.status_code == 303
    [started] = rpc.sent(StartExportV1)
    assert (started.list_name, started.format) == (ExportList.beneficiaries, ExportFormat.xlsx)
    assert [s.value for s in started.filters.support] == ["accompanied"]
