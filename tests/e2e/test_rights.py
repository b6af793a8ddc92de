"""The beneficiary's rights through the gateway, on real NATS and both databases (issue 21): the demo beneficiary
downloads everything held about her — JSON gathered from the notebook, identity and notify, and a readable PDF —
asks a rectification that her référent answers, reads the answer and hears of it by email; an objection goes to the
territory's managers, who see it on their list; nobody else reads her data or her requests."""
from __future__ import annotations

import io

import pytest
from carnet.demo import DEMO_DEPLOYMENT_LABEL, DEMO_NOTEBOOKS
from pypdf import PdfReader
from testkit.system import bearer, csrf_of, sign_in

from tests.e2e.test_notebook import messages_about, page_with_systems, seed_demo, until

pytestmark = pytest.mark.e2e

SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)
HER = "beneficiaire@demo.carnet.test"


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_the_demo_beneficiary_downloads_her_data_and_her_referent_answers_her_rectification(system):
    await seed_demo(system)
    async with system.client() as client:
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        other = await sign_in(system, client, "pro2@demo.carnet.test")
        me = await sign_in(system, client, HER)
        page = await page_with_systems(client, pro, SOPHIE)
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(pro), json={
            "as_referent": True, "orientation_system_id": page["my_orientation_systems"][0]["orientation_system_id"]})
        assert joined.status_code == 200, joined.text

        # Her data, as JSON: sections of four services, her name among them; nobody else may ask it.
        data = await client.get("/api/v1/me/data", headers=bearer(me))
        assert data.status_code == 200, data.text
        assert "attachment" in data.headers["content-disposition"]
        sections = {(s["service"], s["key"]): s["data"] for s in data.json()["sections"]}
        assert {service for service, _ in sections} == {"notebook", "identity", "notify", "data_import"}
        assert sections[("notebook", "identity")]["firstname"] == "Sophie"
        assert sections[("notebook", "identity")]["lastname"] == "Tifour"
        assert any(m["person"]["firstname"] == "Pierre" for m in sections[("notebook", "members")]["membres"])
        assert sections[("identity", "account")]["email"] == HER
        assert sections[("identity", "logins")], "her logins"
        assert isinstance(sections[("notify", "messages")], list)
        assert sections[("data_import", "import_rows")] == []  # the demo's Sophie was not imported from a file
        for token in (pro, manager):
            assert (await client.get("/api/v1/me/data", headers=bearer(token))).status_code == 403

        # The PDF, readable and in French.
        pdf = await client.get("/api/v1/me/data/pdf", headers=bearer(me))
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = pdf_text(pdf.content)
        for expected in ("Mes données personnelles", "Sophie Tifour", DEMO_DEPLOYMENT_LABEL,
                         "Identité, coordonnées et droits", "Prénom : Sophie", "Votre compte",
                         f"Courriel : {HER}", "Vos connexions", "Messages qui vous ont été envoyés",
                         "Lignes de fichiers importés vous concernant"):
            assert expected in text, expected

        # Her page: the downloads, the forms; the JSON and the PDF from the page too.
        mine = await client.get("/mon-carnet/mes-donnees", headers=bearer(me))
        assert mine.status_code == 200, mine.text
        for expected in ("Télécharger mes données (JSON)", "Télécharger mes données (PDF)",
                         "Demander une rectification", "Je m'oppose au traitement"):
            assert expected in mine.text
        assert "/mon-carnet/mes-donnees" in (await client.get("/mon-carnet", headers=bearer(me))).text
        as_json = await client.get("/mon-carnet/mes-donnees/json", headers=bearer(me))
        assert as_json.status_code == 200 and '"Tifour"' in as_json.text
        as_pdf = await client.get("/mon-carnet/mes-donnees/pdf", headers=bearer(me))
        assert as_pdf.status_code == 200 and "Mes données personnelles" in pdf_text(as_pdf.content)
        assert (await client.get("/mon-carnet/mes-donnees", headers=bearer(pro))).status_code == 403

        # She asks a rectification from her page; an empty one is refused in French.
        empty = await client.post("/mon-carnet/mes-donnees/demandes", headers=bearer(me), data={
            "csrf": csrf_of(client), "kind": "rectification", "field": "Adresse", "text": " "})
        assert empty.status_code == 422 and "Indiquez ce qui est inexact" in empty.text
        # Parsed by the API's body model: a kind of request the page does not offer is refused in French, not taken
        # for a rectification.
        unknown = await client.post("/mon-carnet/mes-donnees/demandes", headers=bearer(me), data={
            "csrf": csrf_of(client), "kind": "effacement", "field": "Adresse", "text": "Effacez tout"})
        assert unknown.status_code == 422 and "Le type : valeur inconnue." in unknown.text
        assert (await client.get("/api/v1/me/rights-requests", headers=bearer(me))).json()["requests"] == []
        asked = await client.post("/mon-carnet/mes-donnees/demandes", headers=bearer(me), data={
            "csrf": csrf_of(client), "kind": "rectification", "field": "Adresse",
            "text": "Mon adresse a changé le mois dernier", "wanted": "12 rue des Lilas"})
        assert asked.status_code == 303, asked.text
        shown = await client.get(asked.headers["location"], headers=bearer(me))
        assert "Votre demande de rectification est envoyée" in shown.text and "En attente de réponse" in shown.text

        # Her référent sees it on the notebook and answers; another professional does not see it.
        listed = await client.get(f"/api/v1/notebooks/{SOPHIE}/rights-requests", headers=bearer(pro))
        assert listed.status_code == 200, listed.text
        [request] = listed.json()["requests"]
        assert (request["field"], request["state"], listed.json()["may_answer"]) == ("Adresse", "open", True)
        assert (await client.get(f"/api/v1/notebooks/{SOPHIE}/rights-requests",
                                 headers=bearer(other))).status_code in (403, 404)
        notebook_page = await client.get(f"/carnets/{SOPHIE}", headers=bearer(pro))
        assert f"/carnets/{SOPHIE}/demandes-rgpd" in notebook_page.text
        requests_page = await client.get(f"/carnets/{SOPHIE}/demandes-rgpd", headers=bearer(pro))
        assert "Mon adresse a changé le mois dernier" in requests_page.text and "Accepter" in requests_page.text
        too_long = await client.post(f"/demandes-rgpd/{request['request_id']}/reponse", headers=bearer(pro), data={
            "csrf": csrf_of(client), "back": f"/carnets/{SOPHIE}/demandes-rgpd", "decision": "accepter",
            "answer": "Corrigée <" + "x" * 3000})
        assert too_long.status_code == 422 and "3000 caractères au plus" in too_long.text
        assert "Corrigée &lt;xxx" in too_long.text  # what was typed, in the request's card, to shorten it
        answered = await client.post(f"/demandes-rgpd/{request['request_id']}/reponse", headers=bearer(pro), data={
            "csrf": csrf_of(client), "back": f"/carnets/{SOPHIE}/demandes-rgpd", "decision": "accepter",
            "answer": "Votre adresse est corrigée dans le carnet."})
        assert answered.status_code == 303, answered.text
        assert answered.headers["location"].startswith(f"/carnets/{SOPHIE}/demandes-rgpd")
        again = await client.post(f"/api/v1/rights-requests/{request['request_id']}/answer", headers=bearer(manager),
                                  json={"accepted": False, "answer": "Non"})
        assert again.status_code == 422 and "déjà reçu une réponse" in again.json()["message"]

        # She sees the answer, and hears of it by email.
        hers = (await client.get("/api/v1/me/rights-requests", headers=bearer(me))).json()["requests"]
        assert [(r["state"], r["answer"], r["answered_by_name"]) for r in hers] == [
            ("accepted", "Votre adresse est corrigée dans le carnet.", "Pierre Chevalier")]
        mine = await client.get("/mon-carnet/mes-donnees", headers=bearer(me))
        assert "Votre adresse est corrigée dans le carnet." in mine.text and "Acceptée" in mine.text

        async def told() -> bool:
            emails = await messages_about(system, client, HER, "Votre demande a reçu une réponse")
            return any("/mon-carnet/mes-donnees" in email["text"] for email in emails)
        assert await until(told, timeout_s=60)

        # An objection: the managers' list, overdue first; the référent may not answer it.
        objected = await client.post("/api/v1/me/rights-requests", headers=bearer(me), json={
            "kind": "objection", "text": "Je ne souhaite plus que mes rendez-vous soient suivis"})
        assert objected.status_code == 201, objected.text
        territory = await client.get("/territoire/demandes-rgpd", headers=bearer(manager))
        assert territory.status_code == 200 and "Opposition au traitement" in territory.text
        assert "Sophie" in territory.text
        refused = await client.post(f"/api/v1/rights-requests/{objected.json()['id']}/answer", headers=bearer(pro),
                                    json={"accepted": False, "answer": "Non"})
        assert refused.status_code == 403, refused.text
        decided = await client.post(f"/api/v1/rights-requests/{objected.json()['id']}/answer",
                                    headers=bearer(manager),
                                    json={"accepted": False, "answer": "Le suivi est une obligation du RSA."})
        assert decided.status_code == 200, decided.text

        # The managers and the référent heard of the new requests.
        async def managers_told() -> bool:
            return bool(await messages_about(system, client, "manager@demo.carnet.test",
                                             "Une demande RGPD attend votre réponse"))
        assert await until(managers_told, timeout_s=60)
