"""Issue 18 item 3, at the gateway: the new drill-downs of the dashboard (delay buckets, actions by theme and status,
« Autres », past months) are links in the SVG chart and in the table, escaped; a cell of the actions' figure leads
to the actions' list (``/pilotage/actions``), which shows the same filters' actions, hostile names as text, and
offers their export with those filters."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from html import unescape

import httpx
import pytest

from contracts.identity import GetMeV1, MeReply, Role
from contracts.imports import ImportKind
from contracts.pilotage import (
    ActionFact,
    ActionFactsReply,
    BeneficiaryFilters,
    Figure,
    GetPilotageDashboardV1,
    PilotageDashboardReply,
    PilotageScope,
    Point,
    QueryActionsV1,
    Series,
)
from gateway.web.pilotage_filters import filters_from_query, filters_to_query
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
TERRITORY = uuid.uuid4()
ME = MeReply(account_id=uuid.uuid4(), email="gestion@carnet.fr", phone=None, role=Role.manager,
             deployment_id=TERRITORY, profile_id=uuid.uuid4(), structure_ids=[], firstname="Gisèle", lastname="Gestion")
STRUCTURE = uuid.uuid4()
HOSTILE = '<script>alert("x")</script>'
START, END = date(2025, 12, 1), date(2026, 11, 29)

DELAY = BeneficiaryFilters(created_from=START, created_to=END, orientation_days_min=8, orientation_days_max=30)
ACTIONS = BeneficiaryFilters(structure_ids=[STRUCTURE], themes=['emploi"&<'], action_statuses=["done"],
                             created_from=START, created_to=END)
OTHERS = BeneficiaryFilters(support=["accompanied"], other_than_referent_ids=[uuid.uuid4(), uuid.uuid4()])
PAST = BeneficiaryFilters(created_from=date(2026, 10, 1), created_to=date(2026, 10, 31))


def dashboard() -> PilotageDashboardReply:
    return PilotageDashboardReply(
        scope=PilotageScope.territory, label="Territoire Drôme", period_from=START, period_to=END, figures=[
            Figure(key="delai-orientation", title="Délai", kind="histogram", series=[Series(
                name="Bénéficiaires", points=[Point(label="8 à 30 jours", value=3, drill=DELAY)])]),
            Figure(key="actions", title="Actions", kind="stacked", series=[Series(name="Réalisée", points=[
                Point(label=HOSTILE, value=2, drill=ACTIONS, drill_list="actions")])]),
            Figure(key="charge-referents", title="Par référent", kind="bar", series=[Series(
                name="Bénéficiaires", points=[Point(label="Autres", value=7, drill=OTHERS)])]),
            Figure(key="accompagnement", title="Par statut", kind="line", series=[Series(name="Accompagné", points=[
                Point(label="oct. 2026", value=5, drill=PAST, drill_note="Carnets créés en oct. 2026"),
                Point(label="nov. 2026", value=4, drill=BeneficiaryFilters(support=["accompanied"]))])]),
            Figure(key="imports", title="Imports et flux", kind="stacked", series=[Series(name="Flux CAF/MSA", points=[
                Point(label="nov. 2026", value=3, drill_list="imports", drill_import_kind=ImportKind.caf_msa,
                      drill_note="Imports « Flux CAF/MSA » de votre périmètre"),
                Point(label="oct. 2026", value=1)])]),  # no list behind (another role's dashboard)
        ])


FACTS = ActionFactsReply(total=2, rows=[ActionFact(
    action_id=uuid.uuid4(), notebook_id=uuid.uuid4(), lastname=HOSTILE, firstname="Sophie", structure_name=HOSTILE,
    theme="emploi", theme_label="Emploi", status="done", created_at=datetime(2026, 11, 2, 9, tzinfo=UTC))] * 2)


async def get(path: str) -> tuple[httpx.Response, FakeRpc]:
    rpc = FakeRpc({GetMeV1: ME, GetPilotageDashboardV1: dashboard(), QueryActionsV1: FACTS})
    return await visit(rpc, path), rpc


async def test_every_new_drill_down_is_a_link_in_the_chart_and_the_table():
    page, _ = await get("/pilotage")
    assert page.status_code == 200
    html = page.text
    for path, filters in (("/beneficiaires/requetes", DELAY), ("/pilotage/actions", ACTIONS),
                          ("/beneficiaires/requetes", OTHERS), ("/beneficiaires/requetes", PAST)):
        link = f"{path}?{filters_to_query(filters)}".replace("&", "&amp;")
        assert html.count(f'href="{link}"') == 3, path  # the charts' marks (wide and narrow), the table's cell
    assert "<script>alert" not in html and "emploi%22%26%3C" in html  # escaped in the URL, the label as text
    # A past month's point says which list it leads to.
    assert "(lien : Carnets créés en oct. 2026)" in html
    # « Imports et flux » leads to the imports' page of the point's kind (issue 18 item 3).
    assert html.count('href="/imports?kind=caf-msa"') == 3
    assert html.count('href="/imports?') == 3  # the point without a list behind it is no link


async def test_the_actions_list_shows_the_cell_s_actions_and_exports_them_with_its_filters():
    page, rpc = await get(f"/pilotage/actions?{filters_to_query(ACTIONS)}")
    assert page.status_code == 200
    asked = rpc.asked[-1]
    assert isinstance(asked, QueryActionsV1) and asked.filters == ACTIONS
    html = page.text
    assert "2 actions" in html and "<script>alert" not in html and "&lt;SCRIPT&gt;" in html
    assert "Réalisée" in html and "Créées du 01/12/2025 au 29/11/2026" in html
    # The export form posts the same filters for the actions' list.
    assert '<input type="hidden" name="list_name" value="actions">' in html
    form: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html):
        form.setdefault(name, []).append(unescape(value))
    assert filters_from_query({k: v for k, v in form.items() if k not in ("csrf", "list_name")}) == ACTIONS


async def test_a_bad_filter_on_the_actions_list_is_refused_in_french():
    page, rpc = await get("/pilotage/actions?created_from=demain")
    assert page.status_code in (400, 422)
    assert "Le champ « créé à partir du » contient une valeur invalide." in unescape(page.text)
    assert rpc.sent(QueryActionsV1) == []
