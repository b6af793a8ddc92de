"""The « Requêtes » page and its API with a notebook service answering hostile names: a saved query, a structure
and a beneficiary named like markup stay text; the filters go to the service as the URL says and come back in the
export and save forms (same names); a bad filter is refused in French with nothing asked."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest

from contracts.identity import GetMeV1, MeReply, Role
from contracts.notebook import GetReferentialsV1, Referentials, SupportStatus
from contracts.pilotage import (
    BeneficiaryFact,
    BeneficiaryFactsReply,
    BeneficiaryFilters,
    CerState,
    Choice,
    Count,
    GetQueryChoicesV1,
    GetSavedQueryV1,
    ListSavedQueriesV1,
    QueryBeneficiariesV1,
    QueryChoicesReply,
    SavedQueriesReply,
    SavedQuery,
    SavedQueryReply,
    SaveQueryV1,
)
from gateway.config import GatewaySettings
from gateway.main import create_app
from gateway.web.pilotage_filters import filters_to_query
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
TERRITORY, STRUCTURE, QUERY = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
HOSTILE = '<script>alert("x")</script>'
NOW = datetime(2026, 11, 29, 9, tzinfo=UTC)
SAVED = SavedQuery(query_id=QUERY, name=HOSTILE, filters=BeneficiaryFilters(
    subject_to_right_and_duty=True, cer_states=[CerState.none]), shared=True, owner_name=HOSTILE, mine=True,
    created_at=NOW)


def notebook_rpc() -> FakeRpc:
    return FakeRpc({
        GetMeV1: MeReply(account_id=uuid.uuid4(), email="gestion@carnet.fr", phone=None, role=Role.manager,
                         deployment_id=TERRITORY, profile_id=uuid.uuid4(), structure_ids=[], firstname="Gisèle",
                         lastname="Gestion"),
        QueryBeneficiariesV1: BeneficiaryFactsReply(
            total=1, by_structure=[Count(key=str(STRUCTURE), label=HOSTILE, count=1)], rows=[BeneficiaryFact(
                notebook_id=uuid.uuid4(), deployment_id=TERRITORY, lastname=HOSTILE, firstname="Sophie",
                structure_name=HOSTILE, referent_name=HOSTILE, support=SupportStatus.waiting, created_at=NOW,
                cer_end_date=date(2027, 1, 31), last_activity_at=NOW)]),
        GetQueryChoicesV1: QueryChoicesReply(structures=[Choice(id=STRUCTURE, label=HOSTILE)]),
        GetReferentialsV1: Referentials(themes={"emploi": "Emploi"}, focus_themes=[], target_themes={}, situations=[],
                                        targets=[], actions=[]),
        ListSavedQueriesV1: SavedQueriesReply(queries=[SAVED]),
        GetSavedQueryV1: SavedQueryReply(query=SAVED), SaveQueryV1: SavedQueryReply(query=SAVED)})


async def get(path: str) -> tuple[httpx.Response, FakeRpc]:
    rpc = notebook_rpc()
    return await visit(rpc, path), rpc


async def test_names_with_markup_stay_text():
    response, _ = await get("/beneficiaires/requetes")
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in response.text


async def test_the_url_is_the_query_and_the_forms_post_the_same_filters():
    filters = BeneficiaryFilters(structure_ids=[STRUCTURE], without_structure=True, support=["waiting"],
                                 subject_to_right_and_duty=True, cer_states=["none"], themes=["emploi"],
                                 created_from=date(2026, 1, 1))
    response, rpc = await get(f"/beneficiaires/requetes?{filters_to_query(filters)}&offset=50")
    [asked] = rpc.sent(QueryBeneficiariesV1)
    assert (asked.filters, asked.offset) == (filters, 50)
    page = response.text
    assert '<form method="post" action="/exports"' in page
    assert '<input type="hidden" name="list_name" value="beneficiaries">' in page
    assert f'<input type="hidden" name="structure_ids" value="{STRUCTURE}">' in page
    assert '<input type="hidden" name="subject_to_right_and_duty" value="1">' in page
    assert 'name="format" value="csv">Exporter en CSV' in page and 'value="xlsx">Exporter en Excel' in page
    assert f'name="structure_ids" value="{STRUCTURE}" checked' in page


async def test_a_saved_query_opens_with_its_filters():
    response, rpc = await get(f"/beneficiaires/requetes?requete={QUERY}")
    [asked] = rpc.sent(QueryBeneficiariesV1)
    assert asked.filters == SAVED.filters
    assert f'<input type="hidden" name="query_id" value="{QUERY}">' in response.text


async def test_a_bad_filter_is_refused_in_french_and_nothing_is_asked():
    response, rpc = await get("/beneficiaires/requetes?created_from=2026-02-01&created_to=2026-01-01")
    assert response.status_code == 400 or response.status_code == 422
    assert "La période « création » finit avant de commencer." in response.text
    assert rpc.sent(QueryBeneficiariesV1) == []
    response, rpc = await get("/beneficiaires/requetes?support=tous")
    assert "statut d&#39;accompagnement" in response.text and rpc.sent(QueryBeneficiariesV1) == []


async def test_the_api_passes_the_filters_and_answers_the_saved_query():
    app = create_app(GatewaySettings(env="test"))
    rpc = app.state.rpc = notebook_rpc()
    headers = {"Authorization": "Bearer eyJ.access.token"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        found = await client.post("/api/v1/pilotage/beneficiaries", headers=headers, json={
            "filters": {"cer_states": ["none"], "subject_to_right_and_duty": True}, "limit": 10})
        assert found.status_code == 200 and found.json()["total"] == 1
        [asked] = rpc.sent(QueryBeneficiariesV1)
        assert (asked.filters.cer_states, asked.limit) == ([CerState.none], 10)
        bad = await client.post("/api/v1/pilotage/beneficiaries", headers=headers,
                                json={"filters": {"support": ["tous"]}})
        assert bad.status_code == 422
        saved = await client.get(f"/api/v1/queries/{QUERY}", headers=headers)
        assert saved.status_code == 200 and saved.json()["name"] == HOSTILE


async def test_every_field_of_the_builder_goes_from_the_url_to_the_service_and_the_export_form():
    """Issue 18 item 2's criteria, all at once: the URL's filters reach the service unchanged, the page's filter
    form shows each one chosen, and its export form sends each one again."""
    referent, system = uuid.uuid4(), uuid.uuid4()
    filters = BeneficiaryFilters(
        structure_ids=[STRUCTURE], referent_ids=[referent], orientation_system_ids=[system],
        support=["accompanied", "waiting"], rsa_rights=["rsa_droit_ouvert_versable"], subject_to_right_and_duty=True,
        cer_states=["none", "ended"], cer_end_from=date(2026, 12, 1), cer_end_to=date(2026, 12, 31),
        last_activity_from=date(2026, 1, 1), last_activity_to=date(2026, 6, 30), themes=["emploi"],
        created_from=date(2025, 1, 1), created_to=date(2025, 12, 31), origins=["import", "cafmsa"])
    response, rpc = await get(f"/beneficiaires/requetes?{filters_to_query(filters)}")
    assert response.status_code == 200, response.text
    [asked] = rpc.sent(QueryBeneficiariesV1)
    assert asked.filters == filters
    page = response.text
    export_form = page[page.index('<form method="post" action="/exports"'):]
    export_form = export_form[:export_form.index("</form>")]
    for field, value in (("referent_ids", referent), ("orientation_system_ids", system), ("support", "waiting"),
                         ("rsa_rights", "rsa_droit_ouvert_versable"), ("cer_states", "ended"),
                         ("cer_end_from", "2026-12-01"), ("cer_end_to", "2026-12-31"),
                         ("last_activity_from", "2026-01-01"), ("last_activity_to", "2026-06-30"),
                         ("themes", "emploi"), ("created_from", "2025-01-01"), ("created_to", "2025-12-31"),
                         ("origins", "import"), ("origins", "cafmsa")):
        assert f'<input type="hidden" name="{field}" value="{value}">' in export_form, field
    for field, value in (("rsa_rights", "rsa_droit_ouvert_versable"), ("origins", "import"), ("cer_states", "ended"),
                         ("support", "waiting"), ("structure_ids", STRUCTURE), ("themes", "emploi")):
        assert f'name="{field}" value="{value}" checked' in page, field


async def test_the_builders_lists_are_boxes_to_tick_in_named_groups_not_selects_needing_ctrl():
    """Structures, référents, systems and themes were <select multiple> (Ctrl or Cmd to choose two, unknown to
    many and awkward on a phone): each is now a group of boxes under its legend, posting the same names."""
    response, _ = await get(f"/beneficiaires/requetes?structure_ids={STRUCTURE}")
    page = response.text
    assert "multiple" not in page and "Ctrl" not in page
    for legend in ("Structures", "Référents", "Dispositifs d&#39;orientation", "Thèmes des axes de travail"):
        assert re.search(rf"<fieldset[^>]*><legend>{legend}</legend>", page), legend
    assert re.search(rf'<input type="checkbox" id="structure_ids-{STRUCTURE}" name="structure_ids" '
                     rf'value="{STRUCTURE}" checked><label for="structure_ids-{STRUCTURE}">&lt;script&gt;', page)
    assert '<input type="checkbox" id="themes-emploi" name="themes" value="emploi" >' in page


async def save(form: dict) -> tuple[httpx.Response, FakeRpc]:
    rpc = notebook_rpc()
    return await visit(rpc, "/beneficiaires/requetes", {"name": "Sans CER", "cer_states": "none", **form}), rpc


@pytest.mark.parametrize("query_id", ["pas-un-identifiant", f"{QUERY}0", f"{QUERY}{'x' * 400}", "12345"])
async def test_a_query_id_that_is_not_one_is_refused_in_french_and_nothing_is_saved(query_id):
    """A tampered hidden ``query_id`` is not « no query open »: saving it as a new query is not what was asked."""
    response, rpc = await save({"query_id": query_id})
    assert response.status_code == 422
    assert "La requête n&#39;est pas un identifiant valide." in response.text
    assert 'role="alert"' in response.text and rpc.sent(SaveQueryV1) == []


async def test_saving_updates_the_query_open_or_saves_a_new_one():
    response, rpc = await save({"query_id": str(QUERY)})
    assert response.status_code == 303 and [r.query_id for r in rpc.sent(SaveQueryV1)] == [QUERY]
    response, rpc = await save({"query_id": ""})
    assert response.status_code == 303 and [r.query_id for r in rpc.sent(SaveQueryV1)] == [None]
    response, rpc = await save({})
    assert response.status_code == 303 and [r.query_id for r in rpc.sent(SaveQueryV1)] == [None]
