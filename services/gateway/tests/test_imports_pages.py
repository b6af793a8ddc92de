"""The import pages, without NATS: who sees which kinds, the history, an import's progress, review, report and
failure; the apply form excludes the rows unchecked; what a file brings (names, cells, messages) is escaped."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from contracts.directory import GetStructureV1, StructureReply
from contracts.identity import GetMeV1, MeReply, Role
from contracts.imports import (
    ApplyImportV1,
    GetImportV1,
    ImportCounts,
    ImportKind,
    ImportRowsReply,
    ImportRowView,
    ImportsReply,
    ImportState,
    ImportView,
    ListImportRowsV1,
    ListImportsV1,
    MatchView,
    Outcome,
    ReviewCounts,
    ReviewStatus,
)
from gateway.config import GatewaySettings
from gateway.main import create_app
from servicekit.errors import Invalid
from services.gateway.tests.fake_bus import FakeRpc

pytestmark = pytest.mark.unit

TOKEN = "eyJ.access.token"
HOSTILE = '"><script>alert(1)</script>'


def me(role: Role, structure_ids: list[uuid.UUID] | None = None) -> MeReply:
    return MeReply(account_id=uuid.uuid4(), email="someone@demo.carnet.test", phone=None, role=role,
                   deployment_id=uuid.uuid4(), profile_id=uuid.uuid4(), structure_ids=structure_ids or [],
                   firstname="Gaëlle", lastname="Martin")


@pytest.fixture
def rpc() -> FakeRpc:
    rpc = FakeRpc()
    rpc.answers[GetMeV1] = me(Role.manager)
    return rpc


@pytest.fixture
def app(rpc):
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = rpc
    return app


async def get(app, path: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                                 cookies={"carnet_csrf": "jeton"}) as client:
        return await client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}, **kwargs)


def view(state: ImportState, **fields) -> ImportView:
    return ImportView(import_id=fields.pop("import_id", uuid.uuid4()), kind=ImportKind.beneficiaries,
                      filename=fields.pop("filename", "beneficiaires.csv"), state=state,
                      created_at=datetime(2026, 11, 28, 9, 30, tzinfo=UTC), created_by_name="Gaëlle Martin", **fields)


def row(number: int, status: ReviewStatus, **fields) -> ImportRowView:
    return ImportRowView(row=number, status=status, values=fields.pop("values", {"Nom*": "Çelik", "Prénom*": "Hélène"}),
                         **fields)


async def test_a_manager_sees_the_kinds_they_import_with_templates_forms_and_history(app, rpc):
    rpc.answers[ListImportsV1] = ImportsReply(imports=[
        view(ImportState.done, filename=HOSTILE, counts=ImportCounts(created=3, rejected=1))])

    page = await get(app, "/imports")

    assert page.status_code == 200
    for kind in ("beneficiaries", "structures", "orientation-managers", "reorientations"):
        assert f'action="/imports/{kind}"' in page.text
        assert f'href="/api/v1/imports/templates/{kind}.csv"' in page.text
        assert f'href="/api/v1/imports/templates/{kind}.xlsx"' in page.text
    assert "/imports/professionals" not in page.text
    assert 'enctype="multipart/form-data"' in page.text and 'name="csrf" value="jeton"' in page.text
    # The CSRF field comes before the file in every form: the server reads it first.
    assert all(form.index('name="csrf"') < form.index('name="file"')
               for form in re.findall(r'<form method="post" action="/imports/.*?</form>', page.text, re.S))
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "3 créée(s)" in page.text and "1 rejetée(s)" in page.text
    assert '<a href="/imports" aria-current="page">Imports</a>' in page.text  # in the navigation, marked as the page read


async def test_the_history_can_hold_one_kind_only_as_a_dashboard_asks(app, rpc):
    """``/imports?kind=caf-msa``: the drill-down of the dashboards' « Imports et flux » (issue 18 item 3)."""
    rpc.answers[ListImportsV1] = ImportsReply(imports=[view(ImportState.done)])

    page = await get(app, "/imports?kind=caf-msa")

    assert page.status_code == 200
    assert rpc.sent(ListImportsV1)[-1].kind == ImportKind.caf_msa
    assert "Imports précédents : Flux CAF/MSA (XML)" in page.text and 'href="/imports#historique"' in page.text
    # An unknown kind lists them all, as the page without filter.
    page = await get(app, "/imports?kind=%3Cscript%3E")
    assert page.status_code == 200 and rpc.sent(ListImportsV1)[-1].kind is None
    assert "Voir tous les imports" not in page.text and "<script>" not in page.text.split("<main", 1)[-1]


async def test_a_structure_admin_of_two_structures_chooses_the_structure(app, rpc):
    first, second = uuid.uuid4(), uuid.uuid4()
    rpc.answers[GetMeV1] = me(Role.admin_structure, [first, second])
    rpc.answers[ListImportsV1] = ImportsReply(imports=[])
    rpc.answers[GetStructureV1] = lambda request: StructureReply(
        structure_id=request.structure_id, deployment_id=uuid.uuid4(), name=f"Structure {HOSTILE}")

    page = await get(app, "/imports")

    assert page.status_code == 200
    assert 'action="/imports/professionals"' in page.text and 'action="/imports/referents"' in page.text
    assert "/imports/beneficiaries" not in page.text
    assert f'<option value="{first}">' in page.text and f'<option value="{second}">' in page.text
    assert "<script>alert" not in page.text


async def test_a_professional_may_not_import(app, rpc):
    rpc.answers[GetMeV1] = me(Role.professional)
    page = await get(app, "/imports")
    assert page.status_code == 403 and "Seuls les gestionnaires" in page.text
    assert 'href="/imports"' not in page.text


async def test_while_parsing_a_progress_bar_updates_itself(app, rpc):
    found = view(ImportState.parsing, rows_total=100_000, rows_done=25_000, rows_per_s=12_500.0, eta_s=6.0)
    rpc.answers[GetImportV1] = found

    page = await get(app, f"/imports/{found.import_id}")

    assert page.status_code == 200
    assert '<progress id="barre" max="100000" value="25000">' in page.text
    assert "12500 lignes par seconde" in page.text and "environ 6 s" in page.text
    assert f'data-source="/api/v1/imports/{found.import_id}"' in page.text
    assert '<script src="/static/import_progress.js" defer></script>' in page.text
    assert '<noscript><meta content="2" http-equiv="refresh"></noscript>' in page.text
    assert rpc.sent(ListImportRowsV1) == []


async def test_the_progress_script_is_served_under_the_csp(app):
    script = await get(app, "/static/import_progress.js")
    assert script.status_code == 200 and "fetch(source" in script.text
    assert "script-src" not in script.headers["content-security-policy"]  # default-src 'self': same origin only


async def test_the_review_shows_counts_filters_rows_warnings_and_the_apply_button(app, rpc):
    found = view(ImportState.review, rows_total=4, review=ReviewCounts(new=1, same=1, conflict=1, invalid=1),
                 warnings=["Ce fichier a déjà été importé le 27/11/2026.", f"Colonne inconnue ignorée : {HOSTILE}"])
    rpc.answers[GetImportV1] = found
    rpc.answers[ListImportRowsV1] = ImportRowsReply(total=4, rows=[
        row(2, ReviewStatus.new),
        row(3, ReviewStatus.same,
            match=MatchView(target_id=uuid.uuid4(), label=f"Hélène {HOSTILE}, née le 12/03/1985")),
        row(4, ReviewStatus.conflict, messages=[f"Homonyme {HOSTILE}"]),
        row(5, ReviewStatus.invalid, values={HOSTILE: HOSTILE}, messages=["Format de date incorrect"]),
    ])

    page = await get(app, f"/imports/{found.import_id}", params={"status": "", "page": "1"})

    assert page.status_code == 200
    for label in ("Tous", "Nouveaux", "Existants", "Conflits", "Invalides"):
        assert f">{label}</a>" in page.text
    assert f'href="/imports/{found.import_id}?status=conflict"' in page.text
    # A box per applicable row only, checked: unchecking excludes.
    assert re.findall(r'name="keep" value="(\d+)"', page.text) == ["2", "3"]
    assert "Format de date incorrect" in page.text and "née le 12/03/1985" in page.text
    assert page.text.index("déjà été importé") < page.text.index("Appliquer l'import")
    assert f'action="/imports/{found.import_id}/appliquer"' in page.text
    assert "<script>alert" not in page.text
    assert rpc.sent(ListImportRowsV1) == [ListImportRowsV1(import_id=found.import_id, offset=0, limit=50)]


async def test_a_filter_and_a_page_ask_the_rows_they_show(app, rpc):
    found = view(ImportState.review, rows_total=200, review=ReviewCounts(conflict=120))
    rpc.answers[GetImportV1] = found
    rpc.answers[ListImportRowsV1] = ImportRowsReply(total=120, rows=[row(60, ReviewStatus.conflict)])

    page = await get(app, f"/imports/{found.import_id}", params={"status": "conflict", "page": "2"})

    assert rpc.sent(ListImportRowsV1) == [ListImportRowsV1(import_id=found.import_id, status=ReviewStatus.conflict,
                                                           offset=50, limit=50)]
    assert "page 2 sur 3" in page.text
    assert f'href="/imports/{found.import_id}?page=3&amp;status=conflict"' in page.text


async def test_the_report_shows_counts_errors_first_and_the_download_links(app, rpc):
    found = view(ImportState.done, rows_total=3, finished_at=datetime(2026, 11, 28, 9, 31, tzinfo=UTC),
                 counts=ImportCounts(created=1, updated=1, rejected=1))
    rpc.answers[GetImportV1] = found
    rpc.answers[ListImportRowsV1] = ImportRowsReply(total=3, rows=[
        row(2, ReviewStatus.new, outcome=Outcome.created),
        row(3, ReviewStatus.same, outcome=Outcome.updated),
        row(4, ReviewStatus.new, outcome=Outcome.rejected, messages=["Ce bénéficiaire existe déjà."]),
    ])

    page = await get(app, f"/imports/{found.import_id}")

    assert page.status_code == 200
    assert f'href="/api/v1/imports/{found.import_id}/report.csv"' in page.text
    assert f'href="/api/v1/imports/{found.import_id}/report.xlsx"' in page.text
    numbers = re.findall(r'<th scope="row">(\d+)</th>', page.text)
    assert numbers == ["4", "2", "3"]
    assert 'name="keep"' not in page.text and "Appliquer l'import" not in page.text


async def test_a_failed_import_says_why_and_links_back(app, rpc):
    found = view(ImportState.failed, reason=f"La colonne obligatoire « Nom » manque. {HOSTILE}")
    rpc.answers[GetImportV1] = found

    page = await get(app, f"/imports/{found.import_id}")

    assert page.status_code == 200 and "La colonne obligatoire « Nom » manque." in page.text
    assert 'href="/imports"' in page.text and "<script>alert" not in page.text


async def test_apply_excludes_the_rows_shown_and_unchecked(app, rpc):
    import_id = uuid.uuid4()
    rpc.answers[ApplyImportV1] = view(ImportState.applying, import_id=import_id)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                                 cookies={"carnet_csrf": "jeton"}) as client:
        reply = await client.post(f"/imports/{import_id}/appliquer", headers={"Authorization": f"Bearer {TOKEN}"},
                                  data={"csrf": "jeton", "shown": ["2", "3", "7"], "keep": ["3"]})
        refused = await client.post(f"/imports/{import_id}/appliquer", headers={"Authorization": f"Bearer {TOKEN}"},
                                    data={"csrf": "autre", "shown": ["2"]})

    assert reply.status_code == 303 and reply.headers["location"] == f"/imports/{import_id}"
    assert rpc.sent(ApplyImportV1) == [ApplyImportV1(import_id=import_id, exclude_rows=[2, 7])]
    assert refused.status_code == 403


async def post_apply(app, import_id: uuid.UUID, data: dict) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                                 cookies={"carnet_csrf": "jeton"}) as client:
        return await client.post(f"/imports/{import_id}/appliquer", headers={"Authorization": f"Bearer {TOKEN}"},
                                 data={"csrf": "jeton", **data})


def in_review(rpc: FakeRpc) -> ImportView:
    found = view(ImportState.review, rows_total=2, review=ReviewCounts(new=2))
    rpc.answers[GetImportV1] = found
    rpc.answers[ListImportRowsV1] = ImportRowsReply(total=2, rows=[row(2, ReviewStatus.new), row(3, ReviewStatus.new)])
    return found


@pytest.mark.parametrize("data", [
    {"shown": ["2", "abc"], "keep": ["2"]}, {"shown": ["2", "²"]}, {"shown": ["2"], "keep": ["-1"]},
    {"shown": ["2", "3" * 5000]}, {"shown": [" 2"]}, {"shown": ["2\x00"]}, {"shown": ["2"], "keep": ["\x00"]},
])
async def test_apply_refuses_a_row_number_that_is_not_one_and_keeps_the_page(app, rpc, data):
    found = in_review(rpc)
    rpc.answers[ApplyImportV1] = view(ImportState.applying, import_id=found.import_id)

    reply = await post_apply(app, found.import_id, data)

    assert reply.status_code == 422
    assert "Les lignes à exclure doivent être désignées par leur numéro ; rien n&#39;a été appliqué." in reply.text
    assert 'role="alert"' in reply.text and f'action="/imports/{found.import_id}/appliquer"' in reply.text
    assert rpc.sent(ApplyImportV1) == []


async def test_apply_shows_the_services_refusal_of_a_row_not_in_the_import_on_the_page(app, rpc):
    found = in_review(rpc)
    message = "Ces lignes ne font pas partie de l'import : 99. Seules des lignes du fichier peuvent être exclues ; " \
              "rien n'a été appliqué."

    def refuse(_request):
        raise Invalid(message)

    rpc.answers[ApplyImportV1] = refuse

    reply = await post_apply(app, found.import_id, {"shown": ["2", "99"], "keep": ["2"]})

    assert reply.status_code == 422 and message.replace("'", "&#39;") in reply.text
    assert f'action="/imports/{found.import_id}/appliquer"' in reply.text and "Appliquer l'import" in reply.text
    assert rpc.sent(ApplyImportV1) == [ApplyImportV1(import_id=found.import_id, exclude_rows=[99])]


async def test_a_refused_apply_keeps_the_boxes_unticked_and_the_page_and_filter_shown(app, rpc):
    """Issue 20 walkthrough: the boxes the user unticked come back unticked, on the page and filter he was on."""
    found = in_review(rpc)

    def refuse(_request):
        raise Invalid("Cet import a changé ; rien n'a été appliqué.")

    rpc.answers[ApplyImportV1] = refuse
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                                 cookies={"carnet_csrf": "jeton"}) as client:
        reply = await client.post(f"/imports/{found.import_id}/appliquer?page=2&status=new",
                                  headers={"Authorization": f"Bearer {TOKEN}"},
                                  data={"csrf": "jeton", "shown": ["2", "3"], "keep": ["3"]})

    assert reply.status_code == 422 and "rien n&#39;a été appliqué" in reply.text
    assert 'id="keep-2">' in reply.text and 'id="keep-3" checked>' in reply.text
    assert rpc.sent(ListImportRowsV1)[-1] == ListImportRowsV1(import_id=found.import_id, status=ReviewStatus.new,
                                                              offset=50, limit=50)
    assert f'action="/imports/{found.import_id}/appliquer?page=2&amp;status=new"' in reply.text


async def test_the_apply_form_posts_to_the_page_and_filter_shown(app, rpc):
    found = in_review(rpc)

    first = await get(app, f"/imports/{found.import_id}")
    filtered = await get(app, f"/imports/{found.import_id}", params={"status": "new", "page": "2"})

    assert f'action="/imports/{found.import_id}/appliquer"' in first.text
    assert 'id="keep-2" checked>' in first.text and 'id="keep-3" checked>' in first.text
    assert f'action="/imports/{found.import_id}/appliquer?page=2&amp;status=new"' in filtered.text
