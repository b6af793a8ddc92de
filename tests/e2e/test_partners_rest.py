"""Partners' REST API (issue 16 item 4) through the gateway and the real bus, on SQLite and PostgreSQL: a national
administrator creates a credential scoped to a territory, the partner creates notebooks with it as v1's RDV-Insertion
did (spec §4.5), and every answer is v1's: 201, 401, 403, 409 with the notebook, 400 for another territory (not
named) or an unknown manager, 422 in French. Rotation and revocation take effect at once; every call is in the
administrators' log and on their page."""
from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import sys
from pathlib import Path

import httpx
import pytest

from contracts.identity import DemoAccount, Role
from testkit.system import bearer, csrf_of
from tests.e2e.test_imports import ADMIN, ADMIN_TOKENS, imports_system, open_territory  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "partner_client.py"
PAGE_ADMIN = DemoAccount(email="admin-partenaires@demo.carnet.test", role=Role.admin_cdb, firstname="Paule",
                         lastname="Partenaires")


def new_nir() -> str:
    """A NIR of 13 characters no other test uses (the NIR is looked up in every territory)."""
    return f"1{random.randint(40, 99)}{random.randint(1, 12):02d}75{random.randint(0, 999_999):06d}"


async def run_example(*args: str, timeout_s: float = 60) -> tuple[int, str]:
    """examples/partner_client.py run as a partner runs it: a process of its own, from another folder."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE), *args, cwd=Path(EXAMPLE).anchor,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    return process.returncode, out.decode()


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def notebook_body(manager_email: str, deployment_id: str, nir: str, **changes) -> dict:
    notebook = {"nir": nir, "externalId": "rdvi-42", "firstname": "Jay", "lastname": "Randévoui",
                "dateOfBirth": "1978-12-01", "mobileNumber": "06 12 34 56 78", "email": "jay@example.fr",
                "postalCode": "51100", "city": "Reims", **changes}
    return {"rdviUserEmail": manager_email, "deploymentId": deployment_id, "notebook": notebook}


class Partner:
    """A territory with its manager, and a credential of partner ``rdvi`` scoped to it."""

    def __init__(self, territory, manager_email: str, admin_token: str, credential: dict) -> None:
        self.territory, self.manager_email, self.admin_token = territory, manager_email, admin_token
        self.client_id, self.secret = credential["credential"]["client_id"], credential["secret"]
        self.credential_id = credential["credential"]["credential_id"]

    @property
    def deployment_id(self) -> str:
        return self.territory.deployment_id

    async def create(self, client: httpx.AsyncClient, nir: str, *, headers: dict | None = None,
                     deployment_id: str | None = None, manager_email: str | None = None, **changes):
        body = notebook_body(manager_email or self.manager_email, deployment_id or self.deployment_id, nir, **changes)
        return await client.post("/api/v1/partners/rdvi/notebooks", json=body,
                                 headers=basic(self.client_id, self.secret) if headers is None else headers)


async def manager_email_of(client: httpx.AsyncClient, token: str) -> str:
    return (await client.get("/api/v1/me", headers=bearer(token))).json()["email"]


async def create_credential(client: httpx.AsyncClient, admin_token: str, partner: str, deployment_id: str,
                            timeout_s: float = 20) -> httpx.Response:
    """A credential for a territory just opened: identity learns of territories from directory's events, a moment
    later (eventual consistency, by design), and refuses one it does not know yet."""
    for _ in range(int(timeout_s / 0.2)):
        created = await client.post("/api/v1/partners/credentials", headers=bearer(admin_token),
                                    json={"partner": partner, "deployment_ids": [deployment_id]})
        if created.status_code != 422 or "n'existe pas" not in created.json()["message"]:
            break
        await asyncio.sleep(0.2)
    assert created.status_code == 201, created.text
    return created


async def new_partner(system, client: httpx.AsyncClient) -> Partner:
    territory = await open_territory(system, client)
    admin_token = ADMIN_TOKENS[system.base_url]
    created = await create_credential(client, admin_token, "rdvi", territory.deployment_id)
    assert "secret_hash" not in created.text
    return Partner(territory, await manager_email_of(client, territory.token), admin_token, created.json())


async def test_every_answer_of_the_partner_api(imports_system):  # noqa: F811
    system = imports_system
    async with system.client() as client:
        partner = await new_partner(system, client)
        nir = new_nir()

        missing = await partner.create(client, nir, headers={})
        assert missing.status_code == 401 and "Authentification requise" in missing.json()["message"]
        assert missing.headers["www-authenticate"].startswith("Basic")
        unreadable = await partner.create(client, nir, headers={"Authorization": "Basic pas-du-base64"})
        assert unreadable.status_code == 401
        wrong = await partner.create(client, nir, headers=basic(partner.client_id, partner.secret + "x"))
        assert wrong.status_code == 403 and "refusés" in wrong.json()["message"]
        unknown = await partner.create(client, nir, headers=basic("cdb_inconnu", partner.secret))
        assert unknown.status_code == 403

        invalid = await client.post("/api/v1/partners/rdvi/notebooks", headers=basic(partner.client_id, partner.secret),
                                    json={**notebook_body(partner.manager_email, partner.deployment_id, nir),
                                          "notebook": {"nir": nir, "firstname": "Jay", "lastname": "Randévoui"}})
        assert invalid.status_code == 422 and "dateOfBirth" in invalid.json()["message"], invalid.text
        assert "obligatoire" in invalid.json()["message"]
        bad_key = await partner.create(client, nir + "00")  # 15 characters: the key must match
        assert bad_key.status_code == 422 and "sécurité sociale" in bad_key.json()["message"], bad_key.text
        no_manager = await partner.create(client, new_nir(), manager_email="personne@cd51.fr")
        assert no_manager.status_code == 400 and "gestionnaire" in no_manager.json()["message"]

        created = await partner.create(client, nir)
        assert created.status_code == 201, created.text
        notebook_id = created.json()["notebookId"]
        again = await partner.create(client, nir, firstname="Jean")
        assert again.status_code == 409 and again.json()["notebookId"] == notebook_id

        # The manager finds the notebook; its history says a partner created it, as the manager.
        found = await client.get("/api/v1/notebooks", params={"q": "randév"}, headers=bearer(partner.territory.token))
        assert notebook_id in found.text
        page = (await client.get(f"/api/v1/notebooks/{notebook_id}", headers=bearer(partner.territory.token))).json()
        assert page["beneficiary"]["lastname"] == "Randévoui"
        assert [(e["kind"], e["source"]) for e in page["timeline"]] == [("notebook", "partner")]

        # The same NIR in another territory: refused without naming it.
        other = await new_partner(system, client)
        elsewhere = await other.create(client, nir)
        assert elsewhere.status_code == 400, elsewhere.text
        assert "autre territoire" in elsewhere.json()["message"] and "notebookId" not in elsewhere.json()
        assert partner.territory.deployment_id not in elsewhere.text
        # A territory the credential does not serve.
        out_of_scope = await partner.create(client, new_nir(), deployment_id=other.deployment_id,
                                            manager_email=other.manager_email)
        assert out_of_scope.status_code == 403 and "habilité" in out_of_scope.json()["message"]

        calls = (await client.get("/api/v1/partners/calls", params={"limit": 500},
                                  headers=bearer(partner.admin_token))).json()["calls"]
        mine = [(c["result"], c["status"]) for c in calls if c["client_id"] == partner.client_id]
        assert ("created", 201) in mine and ("conflict", 409) in mine and ("refused", 403) in mine
        assert ("bad_request", 400) in mine and ("out_of_scope", 403) in mine


async def test_a_rotated_secret_refuses_the_old_one_and_a_revoked_credential_refuses_all(imports_system):  # noqa: F811
    system = imports_system
    async with system.client() as client:
        partner = await new_partner(system, client)
        admin = bearer(partner.admin_token)
        rotated = await client.post(f"/api/v1/partners/credentials/{partner.credential_id}/rotation", headers=admin)
        assert rotated.status_code == 200, rotated.text
        old_secret, partner.secret = partner.secret, rotated.json()["secret"]
        assert (await partner.create(client, new_nir(), headers=basic(partner.client_id, old_secret))).status_code == 403
        assert (await partner.create(client, new_nir())).status_code == 201

        revoked = await client.post(f"/api/v1/partners/credentials/{partner.credential_id}/revocation", headers=admin)
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        assert (await partner.create(client, new_nir())).status_code == 403
        listed = (await client.get("/api/v1/partners/credentials", headers=admin)).json()["credentials"]
        assert partner.secret not in str(listed) and old_secret not in str(listed)
        # Only national administrators manage credentials.
        refused = await client.get("/api/v1/partners/credentials", headers=bearer(partner.territory.token))
        assert refused.status_code == 403


async def test_the_administrators_page_creates_a_credential_shows_its_secret_once_and_lists_calls(
        imports_system):  # noqa: F811
    system = imports_system
    await system.seed(PAGE_ADMIN)
    async with system.client() as client, system.client() as browser:
        partner = await new_partner(system, client)
        await partner.create(client, new_nir())
        await system.login_by_link(browser, PAGE_ADMIN.email)
        version = re.search(r'name="version" value="([^"]+)"', (await browser.get("/cgu")).text).group(1)
        await browser.post("/cgu", data={"csrf": csrf_of(browser), "version": version, "accept": "oui"})
        page = await browser.get("/partenaires")
        assert page.status_code == 200 and partner.client_id in page.text and "Partenaires" in page.text
        assert "carnet créé" in page.text
        assert '<a href="/partenaires" aria-current="page">Partenaires</a>' in page.text  # the menu, marked

        refused = await browser.post("/partenaires", data={"partner": "rdvi", "deployment_ids": partner.deployment_id})
        assert refused.status_code == 403  # no CSRF token
        created = await browser.post("/partenaires", data={"csrf": csrf_of(browser), "partner": "<b>x</b>",
                                                           "deployment_ids": partner.deployment_id})
        assert created.status_code == 422 and "&lt;b&gt;" in created.text and "<b>x</b>" not in created.text
        assert "Le partenaire : un nom de 2 à 31 lettres minuscules" in created.text  # not « valeur inconnue »
        created = await browser.post("/partenaires", data={"csrf": csrf_of(browser), "partner": "monrdv",
                                                           "deployment_ids": partner.deployment_id})
        assert created.status_code == 200 and "il ne sera plus jamais affiché" in created.text
        assert created.headers["cache-control"] == "no-store"
        secret = created.text.split('<code id="secret">', 1)[1].split("</code>", 1)[0]
        assert len(secret) >= 40
        again = await browser.get("/partenaires")
        assert "monrdv" in again.text and secret not in again.text



async def test_the_example_client_creates_a_notebook_as_a_partner_runs_it(imports_system):  # noqa: F811
    system = imports_system
    async with system.client() as client:
        partner = await new_partner(system, client)
        command = ["create", "--url", system.base_url, "--client-id", partner.client_id,
                   f"--secret={partner.secret}", "--manager", partner.manager_email, "--deployment",
                   partner.deployment_id, "--nir", new_nir(), "--firstname", "Jay", "--lastname", "Exemple",
                   "--birth-date", "1978-12-01", "--city", "Reims"]
        code, out = await run_example(*command)
        assert code == 0 and out.startswith("201 "), out
        notebook_id = json.loads(out.split(" ", 1)[1])["notebookId"]
        page = await client.get(f"/api/v1/notebooks/{notebook_id}", headers=bearer(partner.territory.token))
        assert page.json()["beneficiary"]["city"] == "Reims"
        code, out = await run_example(*command)  # the same NIR again: v1's conflict, with the notebook
        assert code == 1 and out.startswith("409 ") and notebook_id in out, out
