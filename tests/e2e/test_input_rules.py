"""Bad input answers a 4xx naming the field in French, on SQLite and PostgreSQL alike, and writes nothing: never the
5xx it used to be (an offset past int64, a time without zone or past year 9999, a NUL byte PostgreSQL refuses)."""
from __future__ import annotations

import uuid

import httpx
import pytest
from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY

from testkit.system import bearer, csrf_of, sign_in

pytestmark = pytest.mark.e2e

SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)
PIERRE = "93000000-0000-4000-8000-00000000b004"  # Sophie's référent, whom her structure's admin may book
APPOINTMENTS = f"/api/v1/notebooks/{SOPHIE}/appointments"
HUGE = "9223372036854775808"  # 2**63: past SQLite's and PostgreSQL's int64
BENEFICIARY = {"firstname": "Noël", "lastname": "Keller", "date_of_birth": "1975-12-25"}
STRUCTURE = {"name": "Maison des solidarités", "postal_code": "93190", "city": "Livry-Gargan"}
PERSON = {"firstname": "Inès", "lastname": "Martin", "email": "ines.martin@cd93.fr"}

# (who, method, path, JSON body or query, expected status, words of the French message)
CASES = [
    *[("manager", "GET", f"/api/v1/{what}", {"offset": HUGE}, 422, "Le décalage : 1000000 au plus")
      for what in ("notebooks", "people", "structures", "accounts")],
    ("manager", "GET", "/api/v1/people", {"limit": "0"}, 422, "Le nombre de résultats : 1 au moins"),
    ("manager", "GET", "/api/v1/accounts", {"limit": "201"}, 422, "Le nombre de résultats : 200 au plus"),
    ("structure", "POST", APPOINTMENTS, {"person_id": PIERRE, "at": "2030-01-01T10:00:00"}, 422,
     "La date du rendez-vous doit préciser son fuseau horaire"),
    ("structure", "POST", APPOINTMENTS, {"person_id": PIERRE, "at": "9999-12-31T23:59:59Z"}, 422,
     "La date du rendez-vous doit être entre 2000 et 2100"),
    ("structure", "POST", APPOINTMENTS, {"person_id": PIERRE, "at": "0001-01-01T00:00:00+14:00"}, 422,
     "La date du rendez-vous doit être entre 2000 et 2100"),
    ("manager", "POST", "/api/v1/notebooks", {"beneficiary": {**BENEFICIARY, "firstname": "No\x00ël"}}, 422,
     "Le prénom contient des caractères de contrôle"),
    ("manager", "POST", "/api/v1/notebooks", {"beneficiary": {**BENEFICIARY, "city": "Bondy\x00"}}, 422,
     "La ville contient des caractères de contrôle"),
    ("manager", "POST", "/api/v1/notebooks", {"beneficiary": {**BENEFICIARY, "date_of_birth": "2999-01-01"}}, 422,
     "La date de naissance ne peut pas être dans le futur"),
    ("manager", "POST", "/api/v1/notebooks", {"beneficiary": {**BENEFICIARY, "date_of_birth": "1850-01-01"}}, 422,
     "La date de naissance ne peut pas être antérieure à 1900"),
    ("manager", "POST", "/api/v1/notebooks", {"beneficiary": {**BENEFICIARY, "lastname": "x" * 121}}, 422,
     "Le nom : 120 caractères au plus"),
    ("manager", "POST", "/api/v1/notebooks", {"beneficiary": {"lastname": "Keller", "date_of_birth": "1975-12-25"}},
     422, "Le prénom est obligatoire"),
    ("manager", "POST", "/api/v1/structures", {"structure": {**STRUCTURE, "city": "Livry\x00"}}, 422,
     "La ville contient des caractères de contrôle"),
    ("manager", "POST", "/api/v1/structures", {"structure": {**STRUCTURE, "postal_code": "9319"}}, 422,
     "Le code postal doit comporter 5 chiffres"),
    ("manager", "POST", "/api/v1/structures", {"structure": {**STRUCTURE, "website": "javascript:alert(1)"}}, 422,
     "Le site internet doit commencer par http:// ou https://"),
    ("manager", "POST", "/api/v1/people", {"role": "professional", "person": {**PERSON, "email": "ines\x00@cd93.fr"}},
     422, "L'adresse e-mail contient des caractères de contrôle"),
    ("manager", "GET", "/api/v1/notebooks", {"q": "kel\x00ler"}, 422,
     "La recherche contient des caractères de contrôle"),
    ("manager", "GET", "/api/v1/people", {"q": "\x00"}, 422, "La recherche contient des caractères de contrôle"),
    ("manager", "GET", "/api/v1/structures", {"q": "a\x00"}, 422, "La recherche contient des caractères de contrôle"),
]


async def seed_demo(system) -> None:
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)


async def send(client: httpx.AsyncClient, token: str, method: str, path: str, data: dict) -> httpx.Response:
    if method == "GET":
        return await client.get(path, params=data, headers=bearer(token))
    return await client.request(method, path, json=data, headers=bearer(token))


async def totals(client: httpx.AsyncClient, token: str) -> dict:
    counts = {}
    for what in ("notebooks", "people", "structures"):
        answer = await client.get(f"/api/v1/{what}", params={"limit": 100}, headers=bearer(token))
        assert answer.status_code == 200, answer.text
        counts[what] = answer.json()["total"]
    return counts


async def test_bad_input_answers_a_french_4xx_and_writes_nothing(system):
    await seed_demo(system)
    async with system.client() as client:
        tokens = {"manager": await sign_in(system, client, "manager@demo.carnet.test"),
                  "structure": await sign_in(system, client, "structure@demo.carnet.test")}
        manager = bearer(tokens["manager"])
        before = await totals(client, tokens["manager"])
        page = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(tokens["structure"]))).json()
        structures = (await client.get("/api/v1/structures", headers=manager)).json()["structures"]
        first, second = structures[0], structures[1]

        failures = []
        for who, method, path, data, status, words in CASES:
            answer = await send(client, tokens[who], method, path, data)
            body = answer.json()
            if answer.status_code != status or words not in body.get("message", ""):
                failures.append((method, path, repr(data)[:80], answer.status_code, body.get("message")))
        assert failures == [], "\n".join(map(str, failures))

        # The body's id must be the address's: it used to edit the address's structure, silently.
        moved = await client.put(f"/api/v1/structures/{first['structure_id']}", headers=manager, json={
            "structure_id": second["structure_id"], "version": second["version"],
            "structure": {**STRUCTURE, "name": "Renommée"}})
        assert moved.status_code == 422 and "l'identifiant du corps diffère" in moved.json()["message"]
        version_zero = await client.put(f"/api/v1/structures/{first['structure_id']}", headers=manager, json={
            "structure_id": first["structure_id"], "version": 0, "structure": {**STRUCTURE, "name": "Renommée"}})
        assert version_zero.status_code == 422 and "La version : 1 au moins" in version_zero.json()["message"]

        # A body that is not JSON, or not UTF-8: 400 in French, not a 5xx nor FastAPI's English.
        for content in (b"{not json", b'{"structure": {"name": "\xff\xfe"}}'):
            answer = await client.post("/api/v1/structures", content=content,
                                       headers={**manager, "Content-Type": "application/json"})
            assert answer.status_code == 400, (content, answer.text)
            assert answer.json()["message"] == "Le corps de la demande n'est pas du JSON valide encodé en UTF-8."

        # Nothing was written: same totals, same appointments, both structures as they were.
        assert await totals(client, tokens["manager"]) == before
        after = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(tokens["structure"]))).json()
        assert after["appointments"] == page["appointments"]
        for structure in (first, second):
            now = (await client.get(f"/api/v1/structures/{structure['structure_id']}", headers=manager)).json()
            assert (now["name"], now["version"]) == (structure["name"], structure["version"])

    # Pages show the field's French message on the form, not an error page.
    async with system.client() as browser:
        await system.login_by_link(browser, "manager@demo.carnet.test", count=2)
        answer = await browser.post("/territoire/structures", data={
            "csrf": csrf_of(browser), "name": "Maison des solidarités", "postal_code": "9319", "city": "Livry\x00"})
        assert answer.status_code == 422 and "Le code postal doit comporter 5 chiffres" in answer.text
        assert "La ville contient des caractères de contrôle" in answer.text
        answer = await browser.post("/beneficiaires", data={
            "csrf": csrf_of(browser), "firstname": "No\x00ël", "lastname": "Keller", "date_of_birth": "1975-12-25"})
        assert answer.status_code == 422 and "Le prénom contient des caractères de contrôle" in answer.text
        answer = await browser.post("/compte/profil", data={
            "csrf": csrf_of(browser), "firstname": "Gé\x00rard", "lastname": "Gestion", "phone": "", "position": ""})
        assert answer.status_code == 422 and "Le prénom contient des caractères de contrôle" in answer.text
        assert 'action="/compte/profil"' in answer.text  # the form again, with what was typed
    async with system.client() as visitor:
        await visitor.get("/inscription")
        answer = await visitor.post("/inscription", data={
            "csrf": csrf_of(visitor), "email": "nouveau@exemple.fr", "firstname": "Ni\x00na", "lastname": "Nouvelle",
            "deployment_id": str(uuid.uuid4()), "structure_name": "CCAS"})
        assert answer.status_code == 422 and "Le prénom contient des caractères de contrôle" in answer.text
        assert 'name="structure_name"' in answer.text  # the sign-up form again, not an error page
        async with system.client() as client:
            assert await totals(client, tokens["manager"]) == before


async def test_metrics_are_on_the_gateways_health_port_only(system):
    gateway = system.processes["gateway"]
    async with system.client() as client:
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).json()["ready"] is True
    async with httpx.AsyncClient(base_url=gateway.health_base_url) as health:
        metrics = await health.get("/metrics")
        assert metrics.status_code == 200 and "carnet_rpc_seconds" in metrics.text
        assert (await health.get("/readyz")).json() == {"service": "gateway", "ready": True, "checks": {"nats": True}}
