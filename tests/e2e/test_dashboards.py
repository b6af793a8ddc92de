"""Dashboards through the gateway, on real NATS and both databases: the demo manager reads the territory's dashboard
as JSON, its page (inline SVG charts, tables, links to the lists) and a figure's CSV; each point with a drill-down
counts what the beneficiaries' list counts for its filters, « soumis aux droits et devoirs sans CER » per structure
included; a professional is refused, a bad period is refused in French."""
from __future__ import annotations

import csv
import io

import pytest
from carnet.demo import DEMO_NOTEBOOKS
from testkit.system import bearer, sign_in

from contracts.pilotage import BeneficiaryFilters, QueryActionsV1, QueryBeneficiariesV1
from gateway.web.pilotage_filters import filters_to_query
from servicekit.bus import client_bus
from tests.e2e.test_exports import export
from tests.e2e.test_notebook import page_with_systems, seed_demo, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


async def listed(system, token: str, drill: dict, list_name: str = "beneficiaries") -> int:
    asked = QueryActionsV1 if list_name == "actions" else QueryBeneficiariesV1
    async with client_bus("test", system.nats_url) as bus:
        reply = await bus.call(asked(filters=BeneficiaryFilters.model_validate(drill), limit=1),
                               headers={"Authorization": f"Bearer {token}"})
    return reply.total


def figure(body: dict, key: str) -> dict:
    return next(f for f in body["figures"] if f["key"] == key)


async def test_a_manager_reads_the_dashboard_and_its_numbers_match_the_lists(system):
    await seed_demo(system)
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        demo = len(DEMO_NOTEBOOKS.beneficiaries)

        # The read model follows the notebooks by events: wait until every demo notebook is counted.
        async def complete():
            answer = await client.get("/api/v1/pilotage/dashboard", headers=bearer(manager))
            assert answer.status_code == 200, answer.text
            body = answer.json()
            support = figure(body, "accompagnement")
            today = sum(s["points"][-1]["value"] for s in support["series"])
            return body if today >= demo else None
        body = await until(complete, timeout_s=90)
        assert body["scope"] == "territory" and body["label"].startswith("Territoire")

        checked = 0
        for fig in body["figures"]:
            for series in fig["series"]:
                for point in series["points"]:
                    if point["drill"] is not None and point["value"] and not point["drill_note"]:
                        assert await listed(system, manager, point["drill"], point["drill_list"]) == point["value"], (
                            fig["key"], point["label"])
                        checked += 1
        assert checked >= 3
        coverage = figure(body, "couverture-cer")
        without = next(s for s in coverage["series"] if s["name"] == "Sans CER")
        assert all(p["drill"]["cer_states"] == ["none"] and p["drill"]["subject_to_right_and_duty"] is True
                   for p in without["points"])

        page = await client.get("/pilotage", headers=bearer(manager))
        assert page.status_code == 200
        assert '<svg id="chart-couverture-cer"' in page.text and 'role="figure"' in page.text
        assert "/beneficiaires/requetes?" in page.text and "Télécharger (CSV)" in page.text

        download = await client.get("/pilotage/figures/couverture-cer.csv", headers=bearer(manager))
        assert download.status_code == 200 and download.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
        assert rows[1][0] == "Catégorie" and "Sans CER" in rows[1]
        assert len(rows) - 2 == len(without["points"])

        refused = await client.get("/api/v1/pilotage/dashboard?period_from=2026-02-01&period_to=2026-01-01",
                                   headers=bearer(manager))
        assert refused.status_code == 422 and "finit avant de commencer" in refused.json()["message"]
        national = await client.get("/api/v1/pilotage/dashboard?scope=national", headers=bearer(manager))
        assert national.status_code == 403

        pro = await sign_in(system, client, "pro2@demo.carnet.test")
        assert (await client.get("/api/v1/pilotage/dashboard", headers=bearer(pro))).status_code == 403


async def test_a_new_drill_down_link_leads_to_its_list_which_exports_the_same_rows(system):
    """Issue 18 item 3: a delay bucket (or « Autres », an actions' cell) links, on the page, to its list; the list
    shows the figure's number, and its export with the same filters has as many rows."""
    await seed_demo(system)
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        demo = len(DEMO_NOTEBOOKS.beneficiaries)
        # Sophie's référent orients her and plans an action: a delay and an action to drill down to.
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        sophie = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)
        page = await page_with_systems(client, pro, sophie)
        joined = await client.post(f"/api/v1/notebooks/{sophie}/members", headers=bearer(pro), json={
            "as_referent": True, "orientation_system_id": page["my_orientation_systems"][0]["orientation_system_id"]})
        assert joined.status_code == 200, joined.text
        focus = await client.post(f"/api/v1/notebooks/{sophie}/focuses", headers=bearer(pro), json={"theme": "emploi"})
        target = await client.post(f"/api/v1/focuses/{focus.json()['id']}/targets", headers=bearer(pro), json={
            "target": "Retrouver un emploi", "linked_to": "no"})
        action = await client.post(f"/api/v1/targets/{target.json()['id']}/actions", headers=bearer(pro),
                                   json={"action": "Atelier CV", "status": "planned"})
        assert action.status_code in (200, 201), action.text

        async def complete():
            body = (await client.get("/api/v1/pilotage/dashboard", headers=bearer(manager))).json()
            today = sum(s["points"][-1]["value"] for s in figure(body, "accompagnement")["series"])
            actions = sum(p["value"] for s in figure(body, "actions")["series"] for p in s["points"])
            return body if today >= demo and actions >= 1 else None
        body = await until(complete, timeout_s=90)
        new = [(fig["key"], point) for key in ("delai-orientation", "delai-cer", "charge-referents", "actions")
               for fig in [figure(body, key)] for series in fig["series"] for point in series["points"]
               if key != "charge-referents" or point["label"] == "Autres"]
        assert all(point["drill"] is not None for _, point in new)
        # Sophie, oriented today: the « 0 à 7 jours » bucket of the delay to the first orientation.
        key, point = next((k, p) for k, p in new if p["value"] and p["drill_list"] == "beneficiaries")
        drill = BeneficiaryFilters.model_validate(point["drill"])
        href = f"/beneficiaires/requetes?{filters_to_query(drill)}"

        page = await client.get("/pilotage", headers=bearer(manager))
        assert f'href="{href.replace("&", "&amp;")}"' in page.text, key
        shown = await client.get(href, headers=bearer(manager))
        value = int(point["value"])
        assert shown.status_code == 200 and f'<h2 id="resultat">{value} bénéficiaire' in shown.text, key
        done, _ = await export(client, manager, list="beneficiaries", filters=point["drill"], format="csv")
        assert done["rows"] == value, key

        # The cell of Sophie's action: the actions' list (linked from the page) and its export agree.
        cell = next(p for k, p in new if k == "actions" and p["value"])
        href = f"/pilotage/actions?{filters_to_query(BeneficiaryFilters.model_validate(cell['drill']))}"
        assert f'href="{href.replace("&", "&amp;")}"' in page.text
        actions = await client.get(href, headers=bearer(manager))
        assert actions.status_code == 200 and f"{int(cell['value'])} action" in actions.text
        assert "TIFOUR Sophie" in actions.text  # the action of her notebook
        done, _ = await export(client, manager, list="actions", filters=cell["drill"], format="csv")
        assert done["rows"] == cell["value"]
