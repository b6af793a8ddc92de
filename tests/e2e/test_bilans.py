"""A bilan d'accompagnement through the gateway, on real NATS and both databases: the demo référent writes one from
Sophie's notebook without typing anything the notebook holds (its objectives and actions come pre-filled with their
progress), from the API and from the editor page; she reads it from her own login, downloads its PDF (text checked)
and hears of it by email."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from carnet.demo import DEMO_DEPLOYMENT_LABEL, DEMO_NOTEBOOKS
from pypdf import PdfReader
from testkit.system import bearer, csrf_of, sign_in

from tests.e2e.test_notebook import messages_about, page_with_systems, seed_demo, until

pytestmark = pytest.mark.e2e

SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)


async def all_links_in(system, client, bilan_id: str) -> bool:
    emails = await messages_about(system, client, "beneficiaire@demo.carnet.test", "Un bilan de votre accompagnement")
    return any(f"/mon-carnet/bilans/{bilan_id}" in email["text"] for email in emails)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_a_bilan_written_by_the_referent_is_read_by_the_beneficiary(system):
    await seed_demo(system)
    async with system.client() as client:
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        me = await sign_in(system, client, "beneficiaire@demo.carnet.test")
        other = await sign_in(system, client, "pro2@demo.carnet.test")
        h = bearer(pro)
        page = await page_with_systems(client, pro, SOPHIE)
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=h, json={
            "as_referent": True, "orientation_system_id": page["my_orientation_systems"][0]["orientation_system_id"]})
        assert joined.status_code == 200, joined.text
        # The plan d'action the notebook holds: an objective, an action started since.
        focus = await client.post(f"/api/v1/notebooks/{SOPHIE}/focuses", headers=h, json={"theme": "emploi"})
        target = await client.post(f"/api/v1/focuses/{focus.json()['id']}/targets", headers=h, json={
            "target": "Retrouver un emploi dans la restauration", "linked_to": "no"})
        assert target.status_code in (200, 201), target.text
        action = await client.post(f"/api/v1/targets/{target.json()['id']}/actions", headers=h,
                                   json={"action": "Atelier CV et lettre de motivation", "status": "planned"})
        assert action.status_code in (200, 201), action.text
        started = await client.put(f"/api/v1/actions/{action.json()['id']}", headers=h,
                                   json={"version": 1, "status": "in_progress"})
        assert started.status_code == 200, started.text

        # The pre-filled bilan: everything comes from the notebook.
        base = f"/api/v1/notebooks/{SOPHIE}/bilans"
        draft = await client.get(f"{base}/prefill", headers=h)
        assert draft.status_code == 200, draft.text
        today = date.fromisoformat(draft.json()["bilan_date"])  # the service's (Paris) day
        objectives = {o["target"]: o for o in draft.json()["objectives"]}
        job = objectives["Retrouver un emploi dans la restauration"]
        assert [(a["action"], a["status_label"]) for a in job["actions"]] == [
            ("Atelier CV et lettre de motivation", "en cours")]
        assert [(c["before"], c["after"]) for c in job["actions"][0]["changes"]] == [("en projet", "en cours")]

        # The editor page shows it pre-filled; a first bilan dated yesterday is saved from it (nothing was there
        # yet: the plan d'action was made today).
        editor = await client.get(f"/carnets/{SOPHIE}/bilans/nouveau", headers=h)
        assert editor.status_code == 200, editor.text
        assert "Atelier CV et lettre de motivation" in editor.text and 'name="assessment"' in editor.text
        yesterday = today - timedelta(days=1)
        earlier = await client.get(f"/carnets/{SOPHIE}/bilans/nouveau", headers=h,
                                   params={"date": yesterday.isoformat()})
        assert earlier.status_code == 200 and "Aucun objectif dans le plan d'action à cette date" in earlier.text
        saved = await client.post(f"/carnets/{SOPHIE}/bilans/nouveau", headers=h, data={
            "csrf": csrf_of(client), "bilan_date": yesterday.isoformat(), "assessment": "Premier point, démarrage"})
        assert saved.status_code == 303, saved.text
        first = saved.headers["location"].split("/bilans/")[1].split("?")[0]
        shown = await client.get(saved.headers["location"], headers=h)
        assert "Le bilan est enregistré" in shown.text and "Premier point, démarrage" in shown.text

        # Saved from the API with only what the référent writes: the progress since yesterday's bilan.
        created = await client.post(base, headers=h, json={
            "assessment": "Sophie s'investit dans ses démarches.", "next_steps": "Préparer deux entretiens"})
        assert created.status_code == 201, created.text
        bid = created.json()["id"]
        again = await client.post(base, headers=h, json={"assessment": "Encore"})
        assert again.status_code == 422 and "existe déjà" in again.json()["message"]
        forbidden = await client.post(base, headers=bearer(me), json={"assessment": "Mon avis"})
        assert forbidden.status_code in (403, 404)

        # The beneficiary: her list, the bilan, its PDF; another professional of the territory, not a member: no.
        mine = await client.get("/api/v1/me/notebook/bilans", headers=bearer(me))
        assert mine.status_code == 200, mine.text
        mine = mine.json()
        assert [b["bilan_id"] for b in mine["bilans"]] == [bid, first] and mine["allowed"] == []
        hers = (await client.get(f"/api/v1/me/notebook/bilans/{bid}", headers=bearer(me))).json()
        assert hers["assessment"] == "Sophie s'investit dans ses démarches." and hers["bilan_date"] == str(today)
        assert hers["previous_date"] == str(yesterday)
        [action_now] = hers["objectives"][0]["actions"]
        assert (action_now["status_label"], action_now["progress"]) == ("en cours", "Nouveau depuis le dernier bilan")
        pdf = await client.get(f"/api/v1/me/notebook/bilans/{bid}/pdf", headers=bearer(me))
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = pdf_text(pdf.content)
        for expected in (DEMO_DEPLOYMENT_LABEL, "Bilan d'accompagnement", f"Bilan du {today:%d/%m/%Y}",
                         f"depuis le bilan du {yesterday:%d/%m/%Y}", "Sophie Tifour",
                         "Retrouver un emploi dans la restauration", "Atelier CV et lettre de motivation",
                         "Nouveau depuis le dernier bilan", "en projet → en cours",
                         "Sophie s'investit dans ses démarches.", "Préparer deux entretiens"):
            assert expected in text, expected
        assert (await client.get(f"{base}/{bid}/pdf", headers=h)).status_code == 200
        assert (await client.get(f"{base}/{bid}", headers=bearer(other))).status_code in (403, 404)

        # The pages: the notebook's section « Bilans », the bilan with its PDF button, hers on /mon-carnet.
        notebook_page = await client.get(f"/carnets/{SOPHIE}", headers=h)
        assert 'id="bilans"' in notebook_page.text and f"/bilans/{bid}" in notebook_page.text
        own = await client.get("/mon-carnet", headers=bearer(me))
        assert f"/mon-carnet/bilans/{bid}" in own.text and "Rédiger un bilan" not in own.text
        view = await client.get(f"/mon-carnet/bilans/{bid}", headers=bearer(me))
        assert view.status_code == 200 and "Préparer deux entretiens" in view.text
        assert f"/mon-carnet/bilans/{bid}/pdf" in view.text
        page_pdf = await client.get(f"/mon-carnet/bilans/{bid}/pdf", headers=bearer(me))
        assert page_pdf.status_code == 200 and "Bilan d'accompagnement" in pdf_text(page_pdf.content)

        # The editor page: pre-filled; a date already covered is refused in French and nothing is saved.
        editor = await client.get(f"/carnets/{SOPHIE}/bilans/nouveau", headers=h)
        assert editor.status_code == 422 and "existe déjà" in editor.text
        refused = await client.post(f"/carnets/{SOPHIE}/bilans/nouveau", headers=h, data={
            "csrf": csrf_of(client), "bilan_date": today.isoformat(), "assessment": "Deuxième"})
        assert refused.status_code == 422 and "existe déjà" in refused.text
        empty = await client.post(f"/carnets/{SOPHIE}/bilans/nouveau", headers=h, data={
            "csrf": csrf_of(client), "bilan_date": "", "assessment": " "})
        assert empty.status_code == 422 and "appréciation" in empty.text
        not_a_day = await client.post(f"/carnets/{SOPHIE}/bilans/nouveau", headers=h, data={
            "csrf": csrf_of(client), "bilan_date": "31/02/2026", "assessment": "Troisième"})
        assert not_a_day.status_code == 422
        assert "La date du bilan n&#39;est pas une date valide (AAAA-MM-JJ)." in not_a_day.text
        assert len((await client.get(base, headers=h)).json()["bilans"]) == 2

        # She hears of it by email, with a link to read it from her login.
        assert await until(lambda: all_links_in(system, client, bid), timeout_s=60)
