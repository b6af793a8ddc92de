"""France Travail's principal and actions flux (issue 16 item 2, spec §4.3) uploaded by a manager through the
gateway's import API, reviewed, applied and reported, on the real bus with SQLite and PostgreSQL: the directory
creates the référents and agencies it does not know, the notebook matches within the territory only, history
entries say "France Travail", and importing again changes nothing."""
from __future__ import annotations

import asyncio

import pytest

from tests.e2e.test_imports import (apply, counts, fixture, imports_system, open_territory, report,  # noqa: F401
                                    reviewed, rows)
from testkit.system import bearer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PRINCIPAL = "i03300c.j.extract_spie_carnet_spie_carnet_de_bord_principal.csv"
ACTIONS = "actions_example.csv"
NOT_RSA_ROW = ("f0000000-0000-4000-8000-000000000001;M.;NONRSA;PAUL;X;1;1980-01-01 00:00:00.0" + ";NULL" * 36
               + ";N")


async def notebook_of(territory, lastname: str) -> dict:
    found = await territory.client.get("/api/v1/notebooks", headers=territory.h, params={"q": lastname})
    assert found.status_code == 200, found.text
    [summary] = found.json()["notebooks"]
    page = await territory.client.get(f"/api/v1/notebooks/{summary['notebook_id']}", headers=territory.h)
    assert page.status_code == 200, page.text
    return page.json()


async def eventually(check, timeout_s: float = 20):
    """What the notebook learns from directory's events arrives a moment later (eventual consistency)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.3)


async def test_france_travail_flux_end_to_end(imports_system):
    async with imports_system.client() as client:
        territory = await open_territory(imports_system, client)
        elsewhere = await open_territory(imports_system, client)
        m = territory.token
        groupe_ns = await territory.structure("Groupe NS")
        sanka = await territory.person("professional", "sanka@groupe-ns.fr", [groupe_ns], "Sanka", "Ns")
        # Sophie, Hendrix and Martin are beneficiaries of the territory; Edwina of another one.
        for firstname, lastname, born, where in (("Sophie", "Tifour", "1982-02-01", territory),
                                                 ("Hendrix", "Dorsey", "1976-12-18", territory),
                                                 ("Martin", "Gal", "1978-03-23", territory),
                                                 ("Edwina", "Skinner", "1973-05-14", elsewhere)):
            created = await client.post("/api/v1/notebooks", headers=where.h, json={"beneficiary": {
                "firstname": firstname, "lastname": lastname, "date_of_birth": born}})
            assert created.status_code == 201, created.text

        # Only managers import France Travail's flux, and the import page offers both to them.
        page = await client.get("/imports", headers=bearer(m))
        assert page.status_code == 200
        assert "Flux France Travail — principal" in page.text and "Flux France Travail — actions" in page.text
        assert 'action="/imports/france-travail-principal"' in page.text

        # 1. The principal file, with a row of someone not at the RSA added: reviewed, nothing changes yet.
        content = fixture(PRINCIPAL).rstrip(b"\r\n") + b"\n" + NOT_RSA_ROW.encode() + b"\n"
        view = await reviewed(client, m, "france-travail-principal", "principal.csv", content)
        assert (view["rows_total"], view["review"]) == (5, {"new": 0, "same": 4, "conflict": 1, "invalid": 0})
        seen = await rows(client, m, view["import_id"])
        assert seen[5]["status"] == "conflict" and seen[5]["match"] is None  # Edwina lives elsewhere
        assert seen[6]["status"] == "same" and "pas au RSA" in seen[6]["messages"][0]
        assert seen[2]["values"]["adresse_ligne5"] == "NULL"  # shown as written
        done = await apply(client, m, view["import_id"])
        assert counts(done) == (0, 3, 1, 1)
        applied = await rows(client, m, view["import_id"])
        assert any("créé dans l'annuaire" in message for message in applied[4]["messages"]), applied[4]

        sophie = await notebook_of(territory, "Tifour")
        assert sorted(p["rome_code"] for p in sophie["diagnostic"]["projects"]) == [
            "Agent / Agente de nettoyage en collectivité (K2204)",
            "Conducteur / Conductrice d'engins d'exploitation agricole (A1101)"]
        assert [(x["person"]["person_id"], x["member_type"]) for x in sophie["members"]] == [(sanka, "no_referent")]
        assert {e["source"] for e in sophie["timeline"] if e["kind"] in ("member", "diagnostic")} == {
            "france_travail"}

        # Martin's référent and agency were unknown: the directory created both, the notebook shows him by name.
        async def martin_followed() -> None:
            martin = await notebook_of(territory, "Gal")
            [member] = martin["members"]
            assert (member["person"]["email"], member["member_type"]) == (
                "referent_prenom3.referent_nom3@pole-emploi.fr", "no_referent")
            assert member["person"]["structure_name"] == "CHARLEVILLE-MEZIERES MONTJOLY"
        await eventually(martin_followed)
        structures = await client.get("/api/v1/structures", headers=territory.h, params={"limit": 100})
        assert sorted(s["name"] for s in structures.json()["structures"]) == [
            "CHARLEVILLE-MEZIERES MONTJOLY", "CHARLEVILLE-MEZIERES VAL DE VENCE", "Groupe NS", "RETHEL"]
        people = await client.get("/api/v1/people", headers=elsewhere.h, params={"q": "referent_nom4"})
        assert people.json()["people"] == []  # Edwina's row, not matched, created nobody anywhere
        people = await client.get("/api/v1/people", headers=territory.h, params={"q": "referent_nom4"})
        assert people.json()["people"] == []

        # The notebook page says where the entries came from.
        html = await client.get(f"/carnets/{sophie['notebook_id']}", headers=bearer(m))
        assert html.status_code == 200 and "(France Travail)" in html.text

        # 2. The same file again: every row already received, nothing changes.
        again = await reviewed(client, m, "france-travail-principal", "principal.csv", content)
        assert any("déjà été importé" in w for w in again["warnings"])
        assert counts(await apply(client, m, again["import_id"])) == (0, 0, 4, 1)

        # 3. The actions file: Sophie's 90 actions join her history; 35 rows name people unknown here.
        actions = await reviewed(client, m, "france-travail-actions", ACTIONS, fixture(ACTIONS))
        assert (actions["rows_total"], actions["review"]) == (125, {"new": 90, "same": 0, "conflict": 35,
                                                                    "invalid": 0})
        assert counts(await apply(client, m, actions["import_id"])) == (90, 0, 0, 35)
        sophie = await notebook_of(territory, "Tifour")
        history = [e for e in sophie["timeline"] if e["kind"] == "action"]
        assert len(history) == 90 and {e["source"] for e in history} == {"france_travail"}
        assert any(e["summary"] == "UNE FORMATION DANS LE DOMAINE ENGIN MANUTENTION LEVAGE" for e in history)
        header, *lines = await report(client, m, actions["import_id"])
        assert header[:4] == ["Ligne", "Statut", "Résultat", "Messages"] and len(lines) == 125
        assert {line[2] for line in lines[:35]} == {"refusé"}  # errors first, then the 90 created
        assert {line[2] for line in lines[35:]} == {"créé"}

        # 4. Imported again: de-duplicated on (notebook, label, day).
        second = await reviewed(client, m, "france-travail-actions", ACTIONS, fixture(ACTIONS))
        assert second["review"] == {"new": 0, "same": 90, "conflict": 35, "invalid": 0}
        assert counts(await apply(client, m, second["import_id"])) == (0, 0, 90, 35)
        sophie = await notebook_of(territory, "Tifour")
        assert len([e for e in sophie["timeline"] if e["kind"] == "action"]) == 90

        # A professional may not import France Travail's flux.
        refused = await client.post("/api/v1/imports/france-travail-actions", headers=bearer(
            await territory.sign_in_person("sanka@groupe-ns.fr")),
            files={"file": ("actions.csv", fixture(ACTIONS), "text/csv")})
        assert refused.status_code == 403, refused.text
