"""The filter builder through the gateway, on real NATS and both databases: the pilotage read model follows the
notebooks by events (its count equals the beneficiaries' list), a référent joining a notebook changes the count of
the accompanied, a query saved and shared by the manager is seen and re-run by a professional, who may not delete
it; the page opens a saved query with its filters and saves one from its form."""
from __future__ import annotations

import pytest
from carnet.demo import DEMO_NOTEBOOKS
from testkit.system import bearer, csrf_of, sign_in

from tests.e2e.test_notebook import page_with_systems, seed_demo, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)


async def query(client, token: str, filters: dict | None = None) -> dict:
    answer = await client.post("/api/v1/pilotage/beneficiaries", headers=bearer(token),
                               json={"filters": filters or {}, "limit": 500})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_change_shows_in_the_count_and_a_saved_query_is_re_run(system):
    await seed_demo(system)
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        pro = await sign_in(system, client, "pro@demo.carnet.test")

        # The read model counts what the list counts, once the events are through.
        listed = (await client.get("/api/v1/notebooks", headers=bearer(manager), params={"limit": 1})).json()
        assert listed["total"] >= len(DEMO_NOTEBOOKS.beneficiaries)

        async def all_there():
            found = await query(client, manager)
            return found if found["total"] == listed["total"] else None
        everything = await until(all_there)
        assert sum(c["count"] for c in everything["by_structure"]) == everything["total"]

        accompanied = {"support": ["accompanied"]}
        before = (await query(client, manager, accompanied))["total"]
        page = await page_with_systems(client, pro, SOPHIE)
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(pro), json={
            "as_referent": True, "orientation_system_id": page["my_orientation_systems"][0]["orientation_system_id"]})
        assert joined.status_code == 200, joined.text

        async def one_more():
            found = await query(client, manager, accompanied)
            return found if found["total"] == before + 1 else None
        after = await until(one_more)
        [sophie] = [r for r in after["rows"] if r["notebook_id"] == SOPHIE]
        assert sophie["referent_name"] == "Pierre Chevalier" and sophie["support"] == "accompanied"

        # Saved and shared by the manager; seen and re-run by the professional within her own scope.
        saved = await client.post("/api/v1/queries", headers=bearer(manager), json={
            "name": "Accompagnés", "filters": accompanied, "shared": True})
        assert saved.status_code == 201, saved.text
        query_id = saved.json()["query_id"]
        again = await client.post("/api/v1/queries", headers=bearer(manager), json={
            "name": "Accompagnés", "filters": {}})
        assert again.status_code == 409 and "Accompagnés" in again.json()["message"]
        seen = (await client.get("/api/v1/queries", headers=bearer(pro))).json()["queries"]
        assert [(q["name"], q["mine"]) for q in seen if q["query_id"] == query_id] == [("Accompagnés", False)]
        reopened = (await client.get(f"/api/v1/queries/{query_id}", headers=bearer(pro))).json()
        mine = await query(client, pro, reopened["filters"])
        assert SOPHIE in [r["notebook_id"] for r in mine["rows"]] and mine["total"] <= after["total"]
        refused = await client.delete(f"/api/v1/queries/{query_id}", headers=bearer(pro))
        assert refused.status_code == 403, refused.text

        # The page: the saved query opened with its filters; another saved from the form.
        shown = await client.get("/beneficiaires/requetes", headers=bearer(manager), params={"requete": query_id})
        assert shown.status_code == 200, shown.text
        assert "Accompagnés" in shown.text and f"{after['total']} bénéficiaire" in shown.text
        form = await client.post("/beneficiaires/requetes", headers=bearer(manager), data={
            "csrf": csrf_of(client), "name": "Droits et devoirs sans CER", "shared": "1",
            "subject_to_right_and_duty": "1", "cer_states": "none"})
        assert form.status_code == 303, form.text
        opened = await client.get(form.headers["location"], headers=bearer(manager))
        assert "La requête est enregistrée." in opened.text and "Droits et devoirs sans CER" in opened.text
        deleted = await client.delete(f"/api/v1/queries/{query_id}", headers=bearer(manager))
        assert deleted.status_code == 200, deleted.text
