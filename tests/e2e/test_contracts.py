"""The CER through the gateway, on real NATS and both databases: the demo référent prepares it from Sophie's notebook
(nothing typed again), she completes it from her own login, the manager validates it, she signs it online, and its
PDF (territory's header, her objective, both signatures' steps) is downloaded by both; emails at each step."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from carnet.demo import DEMO_DEPLOYMENT_LABEL, DEMO_NOTEBOOKS
from pypdf import PdfReader
from testkit.system import bearer, csrf_of, sign_in

from tests.e2e.test_notebook import messages_about, page_with_systems, seed_demo, until
from testkit.clock import paris_today

pytestmark = pytest.mark.e2e

SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)


async def test_a_cer_from_draft_to_the_signed_pdf(system):
    await seed_demo(system)
    async with system.client() as client:
        # Signed in before the contract's emails arrive (a login link is the next message to each).
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        me = await sign_in(system, client, "beneficiaire@demo.carnet.test")
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        other = await sign_in(system, client, "pro2@demo.carnet.test")
        h = bearer(pro)
        page = await page_with_systems(client, pro, SOPHIE)
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=h, json={
            "as_referent": True, "orientation_system_id": page["my_orientation_systems"][0]["orientation_system_id"]})
        assert joined.status_code == 200, joined.text
        focus = await client.post(f"/api/v1/notebooks/{SOPHIE}/focuses", headers=h, json={"theme": "emploi"})
        target = await client.post(f"/api/v1/focuses/{focus.json()['id']}/targets", headers=h, json={
            "target": "Retrouver un emploi dans la restauration", "linked_to": "cer", "user_consent": True})
        await client.post(f"/api/v1/targets/{target.json()['id']}/actions", headers=h,
                          json={"action": "Atelier CV et lettre de motivation"})

        draft = await client.post(f"/api/v1/notebooks/{SOPHIE}/contracts", headers=h, json={})
        assert draft.status_code == 201, draft.text
        cid, version = draft.json()["id"], draft.json()["version"]
        base = f"/api/v1/notebooks/{SOPHIE}/contracts/{cid}"
        contract = (await client.get(base, headers=h)).json()
        assert [o["target"] for o in contract["content"]["objectives"]] == ["Retrouver un emploi dans la restauration"]
        assert contract["content"]["lastname"] == "Tifour" and contract["status"] == "draft"

        start, end = paris_today(), paris_today() + timedelta(days=182)
        fields = {"start_date": start.isoformat(), "end_date": end.isoformat(),
                  "referent_commitments": "Un entretien par mois"}
        saved = await client.put(base, headers=h, json={"version": version, **fields})
        assert saved.status_code == 200, saved.text

        # The beneficiary completes it from her own login; the référent's stale save is a 409 in French.
        mine = (await client.get("/api/v1/me/notebook/contracts", headers=bearer(me))).json()
        assert [c["contract_id"] for c in mine["contracts"]] == [cid]
        hers = await client.put(base, headers=bearer(me), json={
            "version": saved.json()["version"], **fields, "beneficiary_commitments": "Postuler à trois offres par semaine"})
        assert hers.status_code == 200, hers.text
        stale = await client.put(base, headers=h, json={"version": saved.json()["version"], **fields})
        assert stale.status_code == 409 and "modifié" in stale.json()["message"]
        early = await client.post(f"{base}/signature", headers=bearer(me), json={"version": hers.json()["version"]})
        assert early.status_code == 409

        submitted = await client.post(f"{base}/submission", headers=h, json={"version": hers.json()["version"]})
        assert submitted.status_code == 200, submitted.text
        waiting = (await client.get("/api/v1/contracts/to-validate", headers=bearer(manager))).json()
        assert [c["contract_id"] for c in waiting["contracts"]] == [cid]
        validated = await client.post(f"{base}/decision", headers=bearer(manager), json={
            "version": submitted.json()["version"], "validated": True, "comment": "Engagements clairs"})
        assert validated.status_code == 200, validated.text

        signed = await client.post(f"{base}/signature", headers=bearer(me), json={"version": validated.json()["version"]})
        assert signed.status_code == 200, signed.text
        contract = (await client.get(base, headers=bearer(me))).json()
        assert contract["status"] == "signed" and contract["active"] and not contract["signed_in_person"]
        assert [v["author_name"] for v in contract["versions"]][:3] == ["Sophie Tifour", "Agathe Deblouze",
                                                                        "Pierre Chevalier"]

        for token in (me, pro):
            pdf = await client.get(f"{base}/pdf", headers=bearer(token))
            assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
            text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
            for expected in (DEMO_DEPLOYMENT_LABEL, "Contrat d'Engagement Réciproque", "Sophie Tifour",
                             "Retrouver un emploi dans la restauration", "Atelier CV et lettre de motivation",
                             "Postuler à trois offres par semaine", "Validé le", "signé en ligne par le bénéficiaire"):
                assert expected in text, expected
        assert (await client.get(f"{base}/pdf", headers=bearer(other))).status_code == 403

        # The pages: the référent's editor, and the beneficiary's, with the PDF button and the versions.
        editor = await client.get(f"/carnets/{SOPHIE}/contrats/{cid}", headers=h)
        assert editor.status_code == 200 and "Historique des versions" in editor.text and "/pdf" in editor.text
        own = await client.get(f"/mon-carnet/contrats/{cid}", headers=bearer(me))
        assert own.status_code == 200 and "Signé" in own.text
        notebook_page = await client.get(f"/carnets/{SOPHIE}", headers=h)
        assert f"/contrats/{cid}" in notebook_page.text

        # « Rattacher un autre contrat », parsed by the API's body model (OtherContract): a date that is not one is
        # said in French, what was typed stays, nothing recorded; then the contract is recorded.
        before = (await client.get(f"/api/v1/notebooks/{SOPHIE}/contracts", headers=h)).json()
        other_form = {"csrf": csrf_of(client), "kind": "cej", "signed_on": "2026-11-02", "start_date": "2026-13-01",
                      "duree": "6"}
        refused = await client.post(f"/carnets/{SOPHIE}/contrats/autre", headers=h, data=other_form)
        assert refused.status_code == 422
        assert "La date de début n&#39;est pas une date valide (AAAA-MM-JJ)." in refused.text
        assert '<option value="cej" selected>' in refused.text and 'value="2026-11-02"' in refused.text
        assert 'id="other-duree-6" name="duree" value="6" checked' in refused.text
        assert (await client.get(f"/api/v1/notebooks/{SOPHIE}/contracts", headers=h)).json() == before
        recorded = await client.post(f"/carnets/{SOPHIE}/contrats/autre", headers=h,
                                     data={**other_form, "start_date": "2026-11-02"})
        assert recorded.status_code == 303 and "notice=recorded" in recorded.headers["location"], recorded.text

        # Emails: the beneficiary is asked to sign, the référent hears it was signed.
        assert await until(lambda: messages_about(system, client, "beneficiaire@demo.carnet.test",
                                                  "Votre contrat d'engagement est prêt"), timeout_s=60)
        assert await until(lambda: messages_about(system, client, "pro@demo.carnet.test",
                                                  "Un contrat d'engagement a été signé"), timeout_s=60)
