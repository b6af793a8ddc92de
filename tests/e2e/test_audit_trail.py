"""The audit trail through the gateway, on real NATS and both databases (issue 21): a professional's read of the
demo beneficiary's notebook reaches the hash-chained log; the territory's manager sees that line on « Journal
d'audit » and in its CSV export, another territory's manager does not, a professional may not read the journal;
and the log the services wrote verifies intact with `carnet audit verify`."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from carnet.demo import DEMO_NOTEBOOKS
from contracts.identity import DemoAccount, DeploymentChoice, Role
from testkit.system import bearer, sign_in

from tests.e2e.test_notebook import page_with_systems, seed_demo, until

pytestmark = pytest.mark.e2e

SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)
D51 = uuid.UUID("51000000-0000-4000-8000-000000000051")
MANAGER_51 = DemoAccount(email="manager51@demo.carnet.test", role=Role.manager, deployment_id=D51,
                         firstname="Marne", lastname="Gestion")


async def test_a_read_of_sophies_notebook_is_in_her_territorys_audit_trail_only(system):
    await seed_demo(system)
    await system.seed(MANAGER_51, deployments=[DeploymentChoice(deployment_id=D51, label="Démo 51",
                                                                department_code="51")])
    async with system.client() as client:
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        elsewhere = await sign_in(system, client, MANAGER_51.email)
        pierre = (await client.get("/api/v1/me", headers=bearer(pro))).json()["account_id"]

        read = await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(pro))
        assert read.status_code == 200, read.text

        async def pierres_read():
            answer = await client.get("/api/v1/audit", headers=bearer(manager), params={
                "notebook_id": SOPHIE, "action": "notebook.read", "actor_account_id": pierre})
            assert answer.status_code == 200, answer.text
            return answer.json()["lines"]
        [line, *_] = await until(pierres_read)
        assert (line["actor_role"], line["target_type"], line["notebook_id"]) == ("professional", "notebook", SOPHIE)
        assert "Sophie" not in str(line) and "Tifour" not in str(line)  # ids only in the trail

        # A change of her notebook by Pierre (he joins her group as référent), and the manager's own login.
        page = await page_with_systems(client, pro, SOPHIE)
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(pro), json={
            "as_referent": True, "orientation_system_id": page["my_orientation_systems"][0]["orientation_system_id"]})
        assert joined.status_code == 200, joined.text

        async def lines(token, **params):
            answer = await client.get("/api/v1/audit", headers=bearer(token), params=params)
            assert answer.status_code == 200, answer.text
            return answer.json()["lines"]
        [change, *_] = await until(lambda: lines(manager, notebook_id=SOPHIE, action="notebook.changed",
                                                 actor_account_id=pierre))
        assert change["details"]["rpc"].startswith("rpc.notebook.") and change["actor_role"] == "professional"
        agathe = (await client.get("/api/v1/me", headers=bearer(manager))).json()["account_id"]
        [login, *_] = await until(lambda: lines(manager, action="account.link_used", actor_account_id=agathe))
        assert (login["target_type"], login["target_id"]) == ("account", agathe)

        page = await client.get("/journal", headers=bearer(manager), params={"carnet": SOPHIE})
        assert page.status_code == 200, page.text
        assert "Journal d'audit" in page.text and pierre in page.text
        assert "<td>Consultation du carnet</td>" in page.text
        assert f"<td>Carnet {SOPHIE}</td>" in page.text and "<td>notebook " not in page.text  # no internal code
        assert 'href="/journal"' in (await client.get("/", headers=bearer(manager))).text  # in the managers' menu

        export = await client.get("/journal.csv", headers=bearer(manager), params={"carnet": SOPHIE})
        assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
        text = export.content.decode("utf-8")
        assert text.startswith("\ufeffN°;Date (heure de Paris);Compte;")
        assert any(row.split(";")[2] == pierre and "Consultation du carnet" in row and row.split(";")[5] == "Carnet"
                   and SOPHIE in row
                   for row in text.splitlines()[1:])

        # Another territory's manager reads nothing of Sophie's notebook; a professional reads no journal.
        theirs = await client.get("/api/v1/audit", headers=bearer(elsewhere), params={"notebook_id": SOPHIE})
        assert theirs.status_code == 200 and theirs.json()["total"] == 0
        their_page = await client.get("/journal", headers=bearer(elsewhere), params={"carnet": SOPHIE})
        assert "Aucune ligne" in their_page.text and pierre not in their_page.text
        assert (await client.get("/api/v1/audit", headers=bearer(pro))).status_code == 403

    # What the services wrote, chained: intact.
    result = await asyncio.to_thread(carnet_audit_verify, system.database_urls["audit"])
    assert result.returncode == 0, result.stderr
    assert "Journal d'audit intact" in result.stdout


def carnet_audit_verify(database_url: str) -> subprocess.CompletedProcess:
    """`carnet audit verify` as an operator runs it, in a process of its own."""
    return subprocess.run([str(Path(sys.executable).parent / "carnet"), "audit", "verify", "--database-url",
                           database_url], capture_output=True, text=True, timeout=60)
