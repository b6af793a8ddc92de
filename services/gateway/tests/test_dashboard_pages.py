"""The dashboard page, its CSV and its API with a notebook service answering a hostile figure: a structure named
like markup stays text in the SVG, the table and the CSV; every count links to the list behind it; bad parameters
are refused in French with nothing asked; the charts are accessible SVG (role, title, desc, viewBox)."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import date

import httpx
import pytest

from contracts.identity import GetMeV1, MeReply, Role
from contracts.pilotage import (
    BeneficiaryFilters,
    CerState,
    Choice,
    Figure,
    GetPilotageDashboardV1,
    PilotageDashboardReply,
    PilotageScope,
    Point,
    Series,
)
from gateway.web.charts import chart_of, csv_rows, table_rows
from gateway.web.pilotage_filters import filters_to_query
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
TERRITORY = uuid.uuid4()
ME = MeReply(account_id=uuid.uuid4(), email="gestion@carnet.fr", phone=None, role=Role.manager,
             deployment_id=TERRITORY, profile_id=uuid.uuid4(), structure_ids=[], firstname="Gisèle", lastname="Gestion")
STRUCTURE = uuid.uuid4()
HOSTILE = '<script>alert("x")</script>'
FORMULA = "=HYPERLINK(\"http://evil\")"


def dashboard() -> PilotageDashboardReply:
    without = BeneficiaryFilters(subject_to_right_and_duty=True, cer_states=[CerState.none],
                                 structure_ids=[STRUCTURE])
    return PilotageDashboardReply(
        scope=PilotageScope.territory, label="Territoire Drôme", period_from=date(2025, 12, 1),
        period_to=date(2026, 11, 29), structures=[Choice(id=STRUCTURE, label=HOSTILE)],
        figures=[
            Figure(key="couverture-cer", title="CER des bénéficiaires soumis aux droits et devoirs", kind="stacked",
                   series=[Series(name="Signé ou validé", points=[Point(label=HOSTILE, value=4), Point(
                       label=FORMULA, value=1)]),
                           Series(name="Sans CER", points=[Point(label=HOSTILE, value=1234, drill=without),
                                                           Point(label=FORMULA, value=0)])],
                   summary="1 234 bénéficiaires sans CER"),
            Figure(key="accompagnement", title="Par statut", kind="line", series=[
                Series(name="Accompagné", points=[Point(label="oct. 2026", value=3), Point(
                    label="nov. 2026", value=4, drill=BeneficiaryFilters(support=["accompanied"]))])]),
            Figure(key="delai-cer", title="Délai", kind="histogram", series=[
                Series(name="Bénéficiaires", points=[Point(label="0 à 7 jours", value=2.5),
                                                     Point(label="Plus de 180 jours", value=0)])]),
            Figure(key="actions", title="Actions", kind="stacked", series=[]),
        ])


async def get(path: str) -> tuple[httpx.Response, FakeRpc]:
    rpc = FakeRpc({GetMeV1: ME, GetPilotageDashboardV1: dashboard()})
    return await visit(rpc, path), rpc


async def test_hostile_labels_stay_text_in_the_chart_and_the_table():
    page, rpc = await get("/pilotage?period_from=2025-12-01")
    assert page.status_code == 200
    html = page.text
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert rpc.sent(GetPilotageDashboardV1)[0].period_from == date(2025, 12, 1)
    # Accessible SVG: role, title and desc named, a viewBox to shrink to 320 px, patterns beside colours.
    assert '<svg id="chart-couverture-cer" class="chart chart-wide" viewBox="0 0 640 ' in html
    # and its narrow twin for a phone, with its own ids (issue 20: its texts stay 12 px or more there)
    assert '<svg id="chart-couverture-cer-etroit" class="chart chart-narrow" viewBox="0 0 300 ' in html
    assert '<pattern id="couverture-cer-etroit-p1"' in html and "url(#couverture-cer-etroit-p1)" in html
    assert 'role="figure" aria-labelledby="chart-couverture-cer-title chart-couverture-cer-desc"' in html
    assert '<title id="chart-couverture-cer-title">CER des bénéficiaires' in html
    assert '<pattern id="couverture-cer-p1"' in html and "url(#couverture-cer-p1)" in html
    assert "1\u202f234" in html  # values written on the chart and in the table, in French
    # The count with a list behind it links to it, in the charts (wide and narrow) and in the table.
    target = "/beneficiaires/requetes?" + filters_to_query(dashboard().figures[0].series[1].points[0].drill)
    link = target.replace("&", "&amp;")
    assert html.count(f'href="{link}"') == 3
    assert '<th scope="row">' in html and "<caption>" in html and "<figcaption>" in html
    assert "Aucune donnée sur la période." in html  # the empty figure says so
    assert 'src="/static/chart_png.js"' in html and "Télécharger (CSV)" in html
    assert 'href="/pilotage/figures/couverture-cer.csv?period_from=2025-12-01' in html
    assert "<script>" not in html.replace('<script src="/static/tables.js" defer></script>', "").replace(
        '<script src="/static/chart_png.js" defer></script>', "")


async def test_a_figure_downloads_as_a_csv_excel_opens():
    response, _ = await get("/pilotage/figures/couverture-cer.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["CER des bénéficiaires soumis aux droits et devoirs"]
    assert rows[1] == ["Catégorie", "Signé ou validé", "Sans CER"]
    assert rows[2] == [HOSTILE, "4", "1234"]
    assert rows[3][0] == "'" + FORMULA  # never a formula
    missing, _ = await get("/pilotage/figures/inconnue.csv")
    assert missing.status_code == 404


@pytest.mark.parametrize(("query", "said"), [("period_from=29/11/2026", "n&#39;est pas valide"),
                                             ("structure_id=pas-un-id", "structure choisi n&#39;est pas valide"),
                                             ("scope=monde", "périmètre choisi n&#39;est pas valide")])
async def test_bad_parameters_are_refused_in_french_with_nothing_asked(query, said):
    page, rpc = await get(f"/pilotage?{query}")
    assert page.status_code == 422 and said in page.text and not rpc.sent(GetPilotageDashboardV1)


async def test_the_api_answers_the_reply():
    response, rpc = await get(f"/api/v1/pilotage/dashboard?scope=structure&structure_id={STRUCTURE}")
    assert response.status_code == 200
    assert response.json()["figures"][0]["series"][1]["points"][0]["drill"]["cer_states"] == ["none"]
    [asked] = rpc.sent(GetPilotageDashboardV1)
    assert asked.scope == PilotageScope.structure and asked.structure_id == STRUCTURE


def test_a_line_chart_names_its_series_at_their_ends_and_bars_scale():
    figure = dashboard().figures[1]
    chart = chart_of(figure, filters_to_query)
    assert chart.lines and any(t.text == "Accompagné : 4" for t in chart.texts)
    assert [m.href != "" for m in chart.markers] == [False, True]
    bars = chart_of(dashboard().figures[0], filters_to_query)
    assert max(m.x + m.width for m in bars.marks) <= 640


async def test_a_preset_period_ends_today_and_keeps_the_scope():
    response, _ = await get(f"/pilotage/periode?months=3&scope=structure&structure_id={STRUCTURE}")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/pilotage?scope=structure&structure_id=") and "months=3" in location
    assert "period_from=" in location and "period_to=" in location
    page, _ = await get("/pilotage?months=3")
    assert 'aria-current="true">3 derniers mois' in page.text


def test_a_month_without_record_is_missing_not_zero_on_the_line_the_table_and_the_csv():
    figure = Figure(key="accompagnement", title="Par statut", kind="line", series=[
        Series(name="Accompagné", points=[Point(label="sept. 2026", value=2), Point(label="oct. 2026", value=0,
                                                                                    missing=True),
                                          Point(label="nov. 2026", value=4)])])
    chart = chart_of(figure, filters_to_query)
    assert len(chart.markers) == 2  # no point for October
    assert not any(len(line.points.split()) > 1 for line in chart.lines)  # the line breaks there, never through 0
    assert "oct. 2026 : pas de relevé" in chart.desc
    _, rows = table_rows(figure, filters_to_query)
    assert rows[1] == ("oct. 2026", [("pas de relevé", "")])
    assert csv_rows(figure)[2] == ["oct. 2026", ""] and csv_rows(figure)[3] == ["nov. 2026", "4"]


def test_every_text_of_a_chart_is_drawn_at_12_or_more_the_narrow_ones_at_13_within_300():
    """The texts' sizes that keep them readable once rendered (tests/browser/test_chart_labels.py measures them in
    Chromium): 12 at least on the wide chart, never shrunk; 13 on the narrow one, shrunk at most to 288/300."""
    for figure in dashboard().figures:
        wide, narrow = chart_of(figure, filters_to_query), chart_of(figure, filters_to_query, narrow=True)
        assert wide.width == 640 and narrow.width == 300 and narrow.id == wide.id + "-etroit"
        assert all(t.size >= 12 for t in wide.texts) and all(t.size >= 13 for t in narrow.texts)
        assert max((m.x + m.width for m in narrow.marks), default=0) <= 300
        if figure.kind == "histogram":  # bars on a phone, each bucket's label over its own bar
            assert narrow.marks and all(m.x == 0 for m in narrow.marks)
