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

from contracts.pilotage import BeneficiaryFilters, QueryBeneficiariesV1
from servicekit.bus import client_bus
from tests.e2e.test_notebook import seed_demo, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


async def listed(system, token: str, drill: dict) -> int:
    async with client_bus("test", system.nats_url) as bus:
        reply = await bus.call(QueryBeneficiariesV1(filters=BeneficiaryFilters.model_validate(drill), limit=1),
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
                    if point["drill"] is not None and point["value"]:
                        assert await listed(system, manager, point["drill"]) == point["value"], (fig["key"],
                                                                                                 point["label"])
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
