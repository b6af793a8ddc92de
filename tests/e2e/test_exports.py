"""Exports through the gateway, on real NATS and both databases: the demo manager exports the territory's
beneficiaries as CSV and its structures as Excel, follows each until done, downloads the file streamed from the
object store and reads it back; the page form does the same; bad input (unknown list, bad format, someone else's
export) is refused in French with nothing recorded."""
from __future__ import annotations

import csv
import io
import uuid

import pytest
from carnet.demo import DEMO_NOTEBOOKS
from python_calamine import CalamineWorkbook
from testkit.system import bearer, csrf_of, sign_in

from tests.e2e.test_notebook import seed_demo, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


async def finished(client, token: str, export_id: str) -> dict:
    async def check():
        answer = await client.get(f"/api/v1/exports/{export_id}", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["state"] != "failed", body
        return body if body["state"] == "done" else None
    return await until(check, timeout_s=60)


async def export(client, token: str, **body) -> tuple[dict, bytes]:
    started = await client.post("/api/v1/exports", headers=bearer(token), json=body)
    assert started.status_code == 202, started.text
    done = await finished(client, token, started.json()["export_id"])
    assert done["download_url"] == f"/api/v1/exports/{done['export_id']}/download" and done["rows"] == done["rows_done"]
    file = await client.get(done["download_url"], headers=bearer(token))
    assert file.status_code == 200, file.text
    assert done["filename"] in file.headers["content-disposition"]
    return done, file.content


def content_of(rows: list[dict]) -> str:
    return ";".join(";".join(r.values()) for r in rows)


async def test_a_manager_exports_lists_and_downloads_them(system):
    await seed_demo(system)
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        pro = await sign_in(system, client, "pro2@demo.carnet.test")
        wanted = {b.beneficiary.lastname for b in DEMO_NOTEBOOKS.beneficiaries}

        # The pilotage read model follows the notebooks by events: export until every demo notebook is there.
        async def complete():
            done, content = await export(client, manager, list="beneficiaries", format="csv")
            assert content.startswith(b"\xef\xbb\xbf")
            rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
            return (done, rows) if wanted <= {r["Nom"] for r in rows} else None
        done, rows = await until(complete, timeout_s=90)
        assert done["rows"] == len(rows) and done["list_name"] == "beneficiaries"
        sophie = next(r for r in rows if r["Nom"] == "Tifour")
        assert sophie["Prénom"] == "Sophie" and sophie["Soumis aux droits et devoirs"] == "oui"
        assert "2800593190123" not in content_of(rows) and "1234567" not in content_of(rows)  # no identifier
        assert {"Nom", "Prénom", "Date de naissance", "Structure", "Référent", "État du CER"} <= set(rows[0])

        done, content = await export(client, manager, list="structures", format="xlsx")
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
        assert sheet[0][0] == "Nom" and len(sheet) - 1 == done["rows"] >= 1

        # The page's form: a small export is ready when its page opens.
        assert (await client.get("/exports", headers=bearer(manager))).status_code == 200  # its CSRF cookie
        page = await client.post("/exports", headers=bearer(manager), data={
            "csrf": csrf_of(client), "list_name": "beneficiaries", "format": "xlsx", "subject_to_right_and_duty": "1"})
        assert page.status_code == 303, page.text
        shown = await client.get(page.headers["location"], headers=bearer(manager))
        assert shown.status_code == 200 and ("Télécharger" in shown.text or "<progress" in shown.text)
        assert ("<progress" in shown.text) == ("refresh" in shown.headers)  # refreshes itself while running
        listed = await client.get("/exports", headers=bearer(manager))
        assert "Soumis aux droits et devoirs : oui" in listed.text and "Agathe Deblouze" in listed.text
        # « Exporter » on the lists, with the list's current filters.
        shown = await client.get("/beneficiaires?support=accompanied&droits_et_devoirs=1", headers=bearer(manager))
        assert 'name="list_name" value="beneficiaries"' in shown.text
        assert 'name="support" value="accompanied"' in shown.text and 'name="subject_to_right_and_duty"' in shown.text
        for path, list_name in (("/territoire/structures", "structures"), ("/territoire/personnes", "professionals")):
            shown = await client.get(path, headers=bearer(manager))
            assert f'name="list_name" value="{list_name}"' in shown.text and "Exporter (Excel)" in shown.text
        page = await client.post("/exports", headers=bearer(manager), data={
            "csrf": csrf_of(client), "list_name": "actions", "format": "csv"})
        assert page.status_code == 303, page.text

        # Bad input: a French refusal, nothing recorded.
        before = (await client.get("/api/v1/exports", headers=bearer(manager))).json()["total"]
        for body in ({"list": "nope"}, {"list": "beneficiaries", "format": "pdf"},
                     {"list": "structures", "filters": {"cer_states": ["none"]}}):
            refused = await client.post("/api/v1/exports", headers=bearer(manager), json=body)
            assert refused.status_code == 422, refused.text
        assert "bénéficiaires" in refused.json()["message"]
        form = await client.post("/exports", headers=bearer(manager), data={
            "csrf": csrf_of(client), "list_name": "nope", "format": "csv"})
        assert form.status_code == 422 and "Choisissez une liste" in form.text
        assert (await client.get("/api/v1/exports", headers=bearer(manager))).json()["total"] == before
        # Someone else's export, or none: not found.
        for export_id in (done["export_id"], str(uuid.uuid4())):
            for path in (f"/api/v1/exports/{export_id}", f"/api/v1/exports/{export_id}/download"):
                answer = await client.get(path, headers=bearer(pro))
                assert answer.status_code == 404, answer.text
                assert answer.json()["message"] == "Cet export n'existe pas."


async def test_the_beneficiaries_list_and_its_export_name_the_charge_d_orientation(system):
    """Issue 20: the managers' and orientation managers' list of beneficiaries has a « Chargé d'orientation »
    column, and so has its export, beside the référent's; a professional's list does not."""
    await seed_demo(system)
    sophie = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)
    giulia = "93000000-0000-4000-8000-00000000b003"
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        co = await sign_in(system, client, "orientation@demo.carnet.test")
        pro = await sign_in(system, client, "pro@demo.carnet.test")

        async def assigned():
            answer = await client.post("/api/v1/notebooks/orientation-manager-assignments", headers=bearer(manager),
                                       json={"notebook_ids": [sophie], "person_id": giulia})
            return answer.status_code == 200 and answer.json()["assigned"] == 1  # once the person reached the notebook
        await until(assigned)

        for token in (manager, co):
            page = await client.get("/beneficiaires?q=Tifour", headers=bearer(token))
            assert page.status_code == 200
            assert '<th scope="col">Chargé d\'orientation</th>' in page.text.replace("&#39;", "'")
            assert "<td>Giulia Diaby</td>" in page.text
        shown = await client.get("/beneficiaires?q=Tifour", headers=bearer(pro))
        assert "Chargé d" not in shown.text.split("<table", 1)[-1].split("</table>")[0]

        async def exported_with_giulia():
            _done, content = await export(client, manager, list="beneficiaries", format="csv")
            rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
            row = next((r for r in rows if r["Nom"] == "Tifour"), None)
            return row if row and row["Chargé d'orientation"] else None
        row = await until(exported_with_giulia, timeout_s=90)
        assert row["Chargé d'orientation"] == "Giulia Diaby"
        assert list(row).index("Chargé d'orientation") == list(row).index("Référent") + 1
