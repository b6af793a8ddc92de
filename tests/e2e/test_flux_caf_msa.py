"""The CAF/MSA RSA flux (issue 16, item 1; spec §4.2) through the gateway's HTTP API and the real bus, on SQLite and
PostgreSQL: v1's flux files reviewed and applied to the beneficiaries of the uploader's territory found by NIR, the
summary email in the dev mailbox, a flux imported again changing nothing, another territory's beneficiary never
touched, every hostile or malformed XML failed in French with nothing applied, and who may import it.

The system and its helpers are those of ``test_imports``; each test opens territories of its own, and the NIRs of
v1's files are replaced by fresh ones (a NIR is one person across the whole service)."""
from __future__ import annotations

import asyncio
import random
import uuid

import httpx
from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY

from tests.e2e.test_imports import imports_system  # noqa: F401  (this module's system, one per backend)
from tests.e2e.test_imports import (ADMIN, ADMIN_TOKENS, DEPARTMENT_CODES, Territory, apply, counts, failed, fixture,
                                    reviewed, rows, upload)
from testkit.system import RunningSystem, bearer, open_link, sign_in
from tests.e2e.test_notebook import until

# The persons of v1's RSABEM.xml: Sophie Tifour and Noël Keller (one foyer, closed right), Eta Bullock (suspended).
SOPHIE, NOEL, ETA = "2820251108030", "1770393050005", "2730799404078"
SUMMARY = "Récapitulatif suite à l'import du fichier CAF/MSA du 05/03/2022"


def a_nir(sex: str) -> str:
    return f"{sex}82{random.randrange(10 ** 10):010d}"


def flux(name: str, nirs: dict[str, str]) -> bytes:
    """One of v1's flux files, its persons' NIRs replaced."""
    content = fixture(name)
    for old, new in nirs.items():
        content = content.replace(f"<NIR>{old}</NIR>".encode(), f"<NIR>{new}</NIR>".encode())
    return content


async def open_territory(system: RunningSystem, client: httpx.AsyncClient) -> tuple[Territory, str]:
    """A fresh territory and its manager's address (where the summaries go)."""
    code = f"{next(DEPARTMENT_CODES):02d}"
    manager_email = f"gestion-{uuid.uuid4().hex[:8]}@cd{code}.fr"
    if system.base_url not in ADMIN_TOKENS:
        ADMIN_TOKENS[system.base_url] = await sign_in(system, client, ADMIN.email)
    created = await client.post("/api/v1/deployments", headers=bearer(ADMIN_TOKENS[system.base_url]), json={
        "label": f"Territoire {uuid.uuid4().hex[:6]}", "department_code": code,
        "manager": {"firstname": "Agathe", "lastname": "Gestion", "email": manager_email}})
    assert created.status_code == 201, created.text
    [invitation] = await system.mailbox(client, manager_email)
    async with system.client() as manager:
        await open_link(manager, invitation["links"][0])
        token = await sign_in(system, manager, manager_email, count=2)
    return Territory(system, client, created.json(), token), manager_email


async def beneficiary(territory: Territory, firstname: str, nir: str, **fields) -> str:
    answer = await territory.client.post("/api/v1/notebooks", headers=territory.h, json={"beneficiary": {
        "firstname": firstname, "lastname": "Tifour", "date_of_birth": "1982-02-01", "nir": nir, **fields}})
    assert answer.status_code == 201, answer.text
    return answer.json()["notebook_id"]


async def page(territory: Territory, notebook_id: str) -> dict:
    answer = await territory.client.get(f"/api/v1/notebooks/{notebook_id}", headers=territory.h)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def summaries(system: RunningSystem, client: httpx.AsyncClient, email: str, count: int) -> list[dict]:
    """The CAF/MSA summaries the manager received (after their invitation and login links), newest first."""
    found = []
    for _ in range(200):
        found = [m for m in await system.mailbox(client, email) if "CAF/MSA" in m["subject"]]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{count} summaries expected for {email}, found {len(found)}")


async def test_v1_flux_updates_the_territory_s_beneficiaries_mails_a_summary_and_changes_nothing_twice(
        imports_system):
    async with imports_system.client() as client:
        territory, email = await open_territory(imports_system, client)
        nirs = {SOPHIE: a_nir("2"), NOEL: a_nir("1"), ETA: a_nir("2")}
        sophie = await beneficiary(territory, "Sophie", nirs[SOPHIE], right_rsa="rsa_droit_ouvert_versable")
        eta = await beneficiary(territory, "Eta", nirs[ETA])  # Noël has no notebook on this territory
        content = flux("RSABEM.xml", nirs)

        view = await reviewed(client, territory.token, "caf-msa", "RSABEM.xml", content)
        assert (view["rows_total"], view["review"]) == (2, {"new": 0, "same": 2, "conflict": 0, "invalid": 0})
        found = await rows(client, territory.token, view["import_id"])
        assert found[1]["values"]["Droit RSA (ETATDOSRSA)"] == "5" and "Foyer" not in " ".join(found[1]["values"])
        assert found[1]["match"]["label"] == "Sophie Tifour, née le 01/02/1982"
        assert any("cette personne du foyer est ignorée" in m for m in found[1]["messages"])  # Noël
        done = await apply(client, territory.token, view["import_id"])
        assert counts(done) == (0, 2, 0, 0)

        sophie_page, eta_page = await page(territory, sophie), await page(territory, eta)
        assert sophie_page["beneficiary"]["right_rsa"] == "rsa_clos"
        assert sophie_page["beneficiary"]["rsa_closure_reason"] == "caf_decision_pcg"
        assert sophie_page["beneficiary"]["rsa_closure_date"] == "2021-11-30"
        assert sophie_page["beneficiary"]["subject_to_right_and_duty"] is True
        assert eta_page["beneficiary"]["right_rsa"] == "rsa_droit_ouvert_versement_suspendu"
        assert eta_page["beneficiary"]["rsa_suspension_reason"] == "caf_declaration_ressource_non_fournie"
        assert sophie_page["rsa_flux_date"] == "2022-03-05"
        html = await client.get(f"/carnets/{sophie}", headers=territory.h)
        assert html.status_code == 200 and "Flux CAF/MSA du 05/03/2022" in html.text
        [entry] = [e for e in sophie_page["timeline"] if e["summary"].startswith("Droits RSA mis à jour")]
        assert entry["source"] == "import" and "05/03/2022" in entry["summary"]

        [summary] = await summaries(imports_system, client, email, 1)
        assert summary["subject"] == SUMMARY
        assert "Foyers dans le fichier : 2" in summary["text"]
        assert "Foyers dont les droits RSA ont été mis à jour : 2" in summary["text"]

        again = await reviewed(client, territory.token, "caf-msa", "RSABEM.xml", content)
        assert any("déjà été importé" in w for w in again["warnings"])
        assert counts(await apply(client, territory.token, again["import_id"])) == (0, 0, 2, 0)
        assert (await page(territory, sophie))["beneficiary"]["version"] == sophie_page["beneficiary"]["version"]
        second = (await summaries(imports_system, client, email, 2))[0]
        assert "Foyers sans changement : 2" in second["text"]

        # The next month, Eta's right is open again: the suspension goes.
        reopened = await reviewed(client, territory.token, "caf-msa", "RSABEM-ouvert.xml",
                                  flux("RSABEM-ouvert.xml", nirs))
        assert counts(await apply(client, territory.token, reopened["import_id"])) == (0, 1, 0, 0)
        eta_after = (await page(territory, eta))["beneficiary"]
        assert (eta_after["right_rsa"], eta_after["rsa_suspension_reason"]) == ("rsa_droit_ouvert_versable", "")

        # The territory's dashboard counts the three flux, kept from their import.job.completed.v1 (issue 18 item
        # 3), and leads to the imports' page of the flux, which lists them.
        async def counted():
            answer = await client.get("/api/v1/pilotage/dashboard", headers=territory.h)
            assert answer.status_code == 200, answer.text
            figures = {f["key"]: f for f in answer.json()["figures"]}
            [caf] = [s for s in figures["imports"]["series"] if s["name"] == "Flux CAF/MSA"] or [None]
            return (caf, figures["imports-lignes"]) if caf and sum(p["value"] for p in caf["points"]) == 3 else None
        caf, lines = await until(counted)
        assert {s["name"]: s["points"][0]["value"] for s in lines["series"]} == {
            "Créées": 0, "Mises à jour": 3, "Rejetées": 0}
        assert caf["points"][-1]["drill_list"] == "imports" and caf["points"][-1]["drill_import_kind"] == "caf-msa"
        dashboard = await client.get("/pilotage", headers=territory.h)
        assert 'href="/imports?kind=caf-msa"' in dashboard.text
        listed = await client.get("/imports?kind=caf-msa", headers=territory.h)
        assert listed.status_code == 200 and listed.text.count(">RSABEM") == 3


async def test_another_territory_s_beneficiary_is_not_touched(imports_system):
    async with imports_system.client() as client:
        mine, _email = await open_territory(imports_system, client)
        theirs, _their_email = await open_territory(imports_system, client)
        nirs = {SOPHIE: a_nir("2"), NOEL: a_nir("1"), ETA: a_nir("2")}
        elsewhere = await beneficiary(theirs, "Sophie", nirs[SOPHIE], right_rsa="rsa_droit_ouvert_versable")
        before = await page(theirs, elsewhere)

        view = await reviewed(client, mine.token, "caf-msa", "RSABEM.xml", flux("RSABEM.xml", nirs))
        assert view["review"] == {"new": 0, "same": 0, "conflict": 2, "invalid": 0}
        found = await rows(client, mine.token, view["import_id"])
        assert found[1]["match"] is None  # nothing of the other territory's beneficiary is shown
        assert found[1]["messages"][0].startswith("Aucun bénéficiaire de votre territoire n'a le NIR")
        done = await apply(client, mine.token, view["import_id"])
        assert counts(done) == (0, 0, 0, 2)  # rejected: no one to update

        after = await page(theirs, elsewhere)
        assert after["beneficiary"] == before["beneficiary"]


async def test_malformed_and_hostile_files_fail_in_french_and_nothing_is_applied(imports_system):
    async with imports_system.client() as client:
        territory, email = await open_territory(imports_system, client)
        nirs = {SOPHIE: a_nir("2"), NOEL: a_nir("1"), ETA: a_nir("2")}
        sophie = await beneficiary(territory, "Sophie", nirs[SOPHIE])
        good = flux("RSABEM.xml", nirs)
        header = good.split(b"<Racine", 1)[0]
        bad = {
            "RSABEI_invalid.xml": flux("RSABEI_invalid.xml", {"1810693050030": nirs[SOPHIE]}),
            "doctype.xml": good.replace(b"<Racine", b'<!DOCTYPE Racine [<!ENTITY x "y">]>\n<Racine', 1),
            "xxe.xml": good.replace(b"<Racine", b'<!DOCTYPE Racine [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                                                b"<Racine", 1).replace(b"<NOM>TIFOUR</NOM>", b"<NOM>&xxe;</NOM>"),
            "bombe.xml": header + b'<!DOCTYPE Racine [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                                  b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
                                  + good.split(b"\n", 1)[1].replace(b"<APPLIEME>CRI</APPLIEME>",
                                                                    b"<APPLIEME>&c;</APPLIEME>"),
            "profond.xml": good.replace(b"<InfosFoyerRSA>", b"<InfosFoyerRSA>" + b"<a>" * 2_000_000, 1),
            "pas-du-xml.xml": b"Nom;Prenom\nTifour;Sophie\n",
            "desordre.xml": good.replace(b"<IdentificationFlux>", b"<TransmissionFlux/><IdentificationFlux>", 1),
            "RSABEM.csv": good,
        }
        reasons = {name: await failed(client, territory.token, "caf-msa", name, content)
                   for name, content in bad.items()}

        assert "vrsb0801.xsd" in reasons["RSABEI_invalid.xml"]
        for name in ("doctype.xml", "xxe.xml", "bombe.xml"):
            assert "DOCTYPE" in reasons[name], reasons[name]
        assert "niveaux" in reasons["profond.xml"] or "vrsb0801.xsd" in reasons["profond.xml"]
        assert "bien formé" in reasons["pas-du-xml.xml"]
        assert "IdentificationFlux" in reasons["desordre.xml"]
        assert "n'est pas un fichier XML" in reasons["RSABEM.csv"]
        assert all(reason.startswith("Le fichier") for reason in reasons.values()), reasons
        untouched = (await page(territory, sophie))["beneficiary"]
        assert (untouched["right_rsa"], untouched["version"]) == (None, 1)
        # Never silent: the uploader hears of each failure too.
        failures = await summaries(imports_system, client, email, len(bad))
        assert all(m["subject"].startswith("Échec de l'import du fichier CAF/MSA du ") for m in failures)


async def test_only_the_territory_s_managers_may_import_the_flux(imports_system):
    async with imports_system.client() as client:
        territory, _email = await open_territory(imports_system, client)
        structure = await territory.structure("Mission Locale")
        pro_email = f"pro-{uuid.uuid4().hex[:8]}@ml.fr"
        admin_email = f"admin-{uuid.uuid4().hex[:8]}@ml.fr"
        await territory.person("professional", pro_email, [structure])
        await territory.person("admin_structure", admin_email, [structure])
        for email in (pro_email, admin_email):
            token = await territory.sign_in_person(email)
            answer = await upload(client, token, "caf-msa", "RSABEM.xml", fixture("RSABEM.xml"))
            assert answer.status_code == 403, answer.text
            assert answer.json()["message"] == "Vous n'avez pas le droit d'importer des flux CAF/MSA."
        anonymous = await upload(client, "pas-un-jeton", "caf-msa", "RSABEM.xml", fixture("RSABEM.xml"))
        assert anonymous.status_code == 401
        listed = await client.get("/api/v1/imports", headers=territory.h, params={"kind": "caf-msa"})
        assert listed.status_code == 200 and listed.json()["imports"] == []


async def test_the_demo_territory_s_beneficiaries_get_their_rights_from_the_flux_and_the_manager_its_summary(
        imports_system):
    """Issue 16's "done when": the demo territory's manager imports v1's flux naming the demo's Sophie Tifour."""
    demo_sophie = DEMO_NOTEBOOKS.beneficiaries[0]
    await imports_system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await imports_system.call(DEMO_TERRITORY)
    await imports_system.call(DEMO_NOTEBOOKS)
    manager_email = "manager@demo.carnet.test"
    async with imports_system.client() as client:
        token = await sign_in(imports_system, client, manager_email)
        content = flux("RSABEM.xml", {SOPHIE: demo_sophie.beneficiary.nir, NOEL: a_nir("1"), ETA: a_nir("2")})
        view = await reviewed(client, token, "caf-msa", "RSABEM.xml", content)
        assert view["review"] == {"new": 0, "same": 1, "conflict": 1, "invalid": 0}
        assert counts(await apply(client, token, view["import_id"])) == (0, 1, 0, 1)
        answer = await client.get(f"/api/v1/notebooks/{demo_sophie.notebook_id}", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        assert (answer.json()["beneficiary"]["right_rsa"], answer.json()["rsa_flux_date"]) == ("rsa_clos",
                                                                                               "2022-03-05")
        [summary] = await summaries(imports_system, client, manager_email, 1)
        assert summary["subject"] == SUMMARY
        assert "Foyers dont les droits RSA ont été mis à jour : 1" in summary["text"]
