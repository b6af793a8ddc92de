"""Scanned uploads (issue 21): through the gateway, the EICAR test file is refused by clamd before the import
service reads it, with a French reason on the API and on the import's page; a clean file goes on to review.

The system's import service is pointed at the test session's clamd (testkit), whose only signature is EICAR's."""
from __future__ import annotations

import asyncio

import pytest

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_TERRITORY
from testkit.eicar import eicar
from testkit.system import bearer, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

MANAGER = "manager@demo.carnet.test"
HEADER = "Identifiant dans le SI*;Prénom*;Nom*;Date de naissance*"
REFUSED = "Le fichier contient un virus (Eicar-Test-Signature) : il a été refusé et n&#39;a pas été lu."


async def import_ends(client, token: str, import_id: str, states: set[str], timeout_s: float = 60) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        answer = await client.get(f"/api/v1/imports/{import_id}", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        if answer.json()["state"] in states:
            return answer.json()
        assert answer.json()["state"] in ("receiving", "parsing"), answer.json()
        assert asyncio.get_running_loop().time() < deadline, answer.json()
        await asyncio.sleep(0.1)


async def test_the_eicar_file_is_refused_unread_in_french_and_a_clean_file_is_reviewed(system, clamd_socket):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    async with system.client() as browser:
        token = await sign_in(system, browser, MANAGER)
        await system.login_by_link(browser, MANAGER, count=2)  # the session cookie, for the import's page

        infected = f"{HEADER}\nA1;Hélène;".encode() + eicar() + b";12/03/1985\n"
        answer = await browser.post("/api/v1/imports/beneficiaries", headers=bearer(token),
                                    files={"file": ("beneficiaires.csv", infected, "text/csv")})
        assert answer.status_code in (200, 201, 202), answer.text
        import_id = answer.json()["import_id"]
        view = await import_ends(browser, token, import_id, {"failed", "review", "done"})
        assert view["state"] == "failed"
        assert view["reason"] == REFUSED.replace("&#39;", "'")
        assert view["rows_total"] == 0
        rows = await browser.get(f"/api/v1/imports/{import_id}/rows", headers=bearer(token))
        assert rows.status_code == 200 and rows.json()["rows"] == [], rows.text

        page = await browser.get(f"/imports/{import_id}")
        assert page.status_code == 200, page.text
        assert f"L'import a échoué : {REFUSED}" in page.text

        async def audited() -> list[dict]:  # the refusal in the territory's audit trail, as its managers read it
            answer = await browser.get("/api/v1/audit", headers=bearer(token),
                                       params={"action": "import.file_infected"})
            assert answer.status_code == 200, answer.text
            return answer.json()["lines"]

        for _ in range(100):
            if lines := await audited():
                break
            await asyncio.sleep(0.1)
        [line] = lines
        assert (line["target_id"], line["details"]["signature"]) == (import_id, "Eicar-Test-Signature")

        clean = f"{HEADER}\nA1;Hélène;Çelik;12/03/1985\n".encode()
        answer = await browser.post("/api/v1/imports/beneficiaries", headers=bearer(token),
                                    files={"file": ("beneficiaires.csv", clean, "text/csv")})
        assert answer.status_code in (200, 201, 202), answer.text
        view = await import_ends(browser, token, answer.json()["import_id"], {"failed", "review", "done"})
        assert view["state"] == "review", view
        assert view["rows_total"] == 1


@pytest.mark.service_env(data_import={"CARNET_ENV": "prod", "DATA_IMPORT_CLAMD_SOCKET": ""})
async def test_outside_dev_without_an_antivirus_the_upload_is_refused_before_it_is_stored(system):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    async with system.client() as client:
        token = await sign_in(system, client, MANAGER)
        clean = f"{HEADER}\nA1;Hélène;Çelik;12/03/1985\n".encode()
        answer = await client.post("/api/v1/imports/beneficiaries", headers=bearer(token),
                                   files={"file": ("beneficiaires.csv", clean, "text/csv")})
        assert answer.status_code == 503, answer.text
        assert "aucun antivirus n'est configuré" in answer.json()["message"]
        assert (await client.get("/api/v1/imports", headers=bearer(token))).json()["imports"] == []
