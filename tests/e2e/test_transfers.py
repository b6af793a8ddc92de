"""Another territory through the gateway, on real NATS and both databases: the demo territory asks that Sophie's
notebook move to a territory just opened (she moved); its manager accepts from « Transferts »: the destination's
manager and professionals find and open it with its history, the origin's get a 404, Sophie is emailed. Another
transfer, refused with a reason, moves nothing. A professional of the other territory invited into a group until a
date opens the notebook (the access log keeps his view) until that date has passed."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from carnet.demo import DEMO_DEPLOYMENT_LABEL, DEMO_NOTEBOOKS
from sqlalchemy import update
from testkit.system import bearer, csrf_of, sign_in

from notebook.adapters.orm import NotebookReferral
from servicekit.db import create_engine
from tests.e2e.test_imports import Territory, open_territory
from tests.e2e.test_notebook import messages_about, names, page_with_systems, seed_demo, until
from testkit.clock import paris_today

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)
MYRNA = str(DEMO_NOTEBOOKS.beneficiaries[1].notebook_id)


async def destination_known(client, manager: str, notebook_id: str, territory: Territory) -> None:
    """The notebook service hears of a new territory from directory's event: until then it is no destination."""
    async def check():
        answer = await client.get(f"/api/v1/notebooks/{notebook_id}/transfers", headers=bearer(manager))
        assert answer.status_code == 200, answer.text
        return territory.deployment_id in {t["deployment_id"] for t in answer.json()["territories"]}
    await until(check, timeout_s=60)


async def professional_of(territory: Territory, email: str) -> str:
    structure = await territory.structure("Mission Locale de Grenoble")
    await territory.person("professional", email, [structure], firstname="Camille", lastname="Martin")
    return await territory.sign_in_person(email)


async def test_a_transfer_accepted_moves_the_notebook_and_one_refused_moves_nothing(system):
    await seed_demo(system)
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        me = await sign_in(system, client, "beneficiaire@demo.carnet.test")
        page = await page_with_systems(client, pro, SOPHIE)
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(pro), json={
            "as_referent": True, "orientation_system_id": page["my_orientation_systems"][0]["orientation_system_id"]})
        assert joined.status_code == 200, joined.text
        history = {e["entry_id"] for e in (await client.get(f"/api/v1/notebooks/{SOPHIE}",
                                                             headers=bearer(manager))).json()["timeline"]}

        isere = await open_territory(system, client)
        their_pro = await professional_of(isere, "camille.martin@ml38.fr")
        await destination_known(client, manager, SOPHIE, isere)

        # Asked by the origin's manager: never to the same territory, never by a professional, one at a time.
        ask = {"to_deployment_id": isere.deployment_id, "reason": "Déménagement à Grenoble"}
        by_pro = await client.post(f"/api/v1/notebooks/{SOPHIE}/transfers", headers=bearer(pro), json=ask)
        assert by_pro.status_code == 403, by_pro.text
        asked = await client.post(f"/api/v1/notebooks/{SOPHIE}/transfers", headers=bearer(manager), json=ask)
        assert asked.status_code == 201, asked.text
        transfer_id = asked.json()["id"]
        twice = await client.post(f"/api/v1/notebooks/{SOPHIE}/transfers", headers=bearer(manager), json=ask)
        assert twice.status_code == 409 and "attend déjà" in twice.json()["message"]

        # The destination's manager sees it waiting (page « Transferts »); the origin's manager cannot accept it.
        waiting = (await client.get("/api/v1/transfers", headers=isere.h)).json()
        assert [(t["transfer_id"], t["beneficiary_name"], t["from_label"]) for t in waiting["incoming"]] == [
            (transfer_id, "Sophie Tifour", DEMO_DEPLOYMENT_LABEL)]
        listing = await client.get("/transferts", headers=isere.h)
        assert listing.status_code == 200 and "Sophie Tifour" in listing.text
        assert "Accepter le transfert" in listing.text
        by_origin = await client.post(f"/api/v1/transfers/{transfer_id}/decision", headers=bearer(manager),
                                      json={"accepted": True})
        assert by_origin.status_code == 403, by_origin.text
        assert (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=isere.h)).status_code == 404

        accepted = await client.post(f"/api/v1/transfers/{transfer_id}/decision", headers=isere.h,
                                     json={"accepted": True})
        assert accepted.status_code == 200, accepted.text

        # The destination finds it and opens it with its history; the origin's group gets a 404.
        assert await names(client, isere.token, q="tifour") == ["Sophie Tifour"]
        assert await names(client, their_pro, q="tifour") == ["Sophie Tifour"]
        moved = await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=isere.h)
        assert moved.status_code == 200, moved.text
        entries = moved.json()["timeline"]
        assert history <= {e["entry_id"] for e in entries}
        assert any("Carnet transféré de" in e["summary"] for e in entries)
        for token in (manager, pro):
            assert (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(token))).status_code == 404
        assert await names(client, manager, q="tifour") == []
        assert (await client.get(f"/carnets/{SOPHIE}", headers=bearer(pro))).status_code == 404
        # She still reads her notebook, her account now belongs to the destination (identity heard it), and she is
        # told where it is now.
        assert (await client.get("/api/v1/me/notebook", headers=bearer(me))).status_code == 200

        async def her_territory():
            return (await client.get("/api/v1/me", headers=bearer(me))).json()["deployment_id"] == isere.deployment_id
        await until(her_territory, timeout_s=60)

        async def counted_by_the_destination():  # directory counts her in the destination now
            answer = await client.get(f"/api/v1/deployments/{isere.deployment_id}", headers=isere.h)
            assert answer.status_code == 200, answer.text
            return answer.json()["beneficiaries"] == 1
        await until(counted_by_the_destination, timeout_s=60)
        assert await until(lambda: messages_about(system, client, "beneficiaire@demo.carnet.test",
                                                  "Votre carnet de bord change de territoire"), timeout_s=60)
        # The origin sees the state of what it asked.
        state = (await client.get("/api/v1/transfers", headers=bearer(manager))).json()
        assert [(t["transfer_id"], t["status"]) for t in state["outgoing"]] == [(transfer_id, "accepted")]

        # Asked from the notebook's page « Territoire » (a form without a reason is refused in French), then refused
        # with a reason from « Transferts »: nothing moves.
        await destination_known(client, manager, MYRNA, isere)
        async with system.client() as browser:
            browser.headers.update(bearer(manager))
            page = await browser.get(f"/carnets/{MYRNA}/territoire")
            assert page.status_code == 200 and "Demander le transfert" in page.text, page.text
            fields = {"csrf": csrf_of(browser), "to_deployment_id": isere.deployment_id}
            empty = await browser.post(f"/carnets/{MYRNA}/territoire/transfert", data={**fields, "reason": " "})
            assert empty.status_code == 422 and "motif" in empty.text
            # Parsed by the API's body model: a territory that is not one is said in French, the motif kept.
            bad = await browser.post(f"/carnets/{MYRNA}/territoire/transfert", data={
                **fields, "to_deployment_id": "pas-un-territoire", "reason": "Motif <gardé>"})
            assert bad.status_code == 422 and "Le territoire n&#39;est pas un identifiant valide." in bad.text
            assert 'name="reason" rows="2" maxlength="2000" required>Motif &lt;gardé&gt;</textarea>' in bad.text
            sent = await browser.post(f"/carnets/{MYRNA}/territoire/transfert",
                                      data={**fields, "reason": "Déménagement en Isère"})
            assert sent.status_code == 303, sent.text
        [refused_id] = [t["transfer_id"] for t in (await client.get("/api/v1/transfers", headers=isere.h)).json()[
            "incoming"]]
        no_reason = await client.post(f"/api/v1/transfers/{refused_id}/decision", headers=isere.h,
                                      json={"accepted": False})
        assert no_reason.status_code == 422 and "pourquoi" in no_reason.json()["message"]
        async with system.client() as browser:
            browser.headers.update(isere.h)
            await browser.get("/transferts")  # the CSRF cookie, as a browser gets it
            too_long = await browser.post(f"/transferts/{refused_id}", data={
                "csrf": csrf_of(browser), "decision": "refuser", "reason": "x" * 2001})
            assert too_long.status_code == 422 and "2000 caractères au plus" in too_long.text
            assert f'id="refuse-{refused_id}" name="reason" rows="2" maxlength="2000" required>{"x" * 2001}' in \
                too_long.text  # what was typed, to shorten it
            form = await browser.post(f"/transferts/{refused_id}", data={
                "csrf": csrf_of(browser), "decision": "refuser", "reason": "Aucune adresse connue chez nous"})
            assert form.status_code == 303, form.text
        assert await names(client, manager, q="henderson") == ["Myrna Henderson"]
        assert await names(client, isere.token, q="henderson") == []
        assert (await client.get(f"/api/v1/notebooks/{MYRNA}", headers=isere.h)).status_code == 404
        own = (await client.get(f"/api/v1/notebooks/{MYRNA}/transfers", headers=bearer(manager))).json()
        assert [(t["status"], t["decision_reason"]) for t in own["transfers"]] == [
            ("refused", "Aucune adresse connue chez nous")]
        assert await until(lambda: messages_about(system, client, "manager@demo.carnet.test",
                                                  "Une demande de transfert de carnet a été refusée"), timeout_s=60)


async def test_a_referral_opens_the_notebook_until_its_date(system):
    await seed_demo(system)
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        isere = await open_territory(system, client)
        email = "camille.martin@ml38.fr"
        invited = await professional_of(isere, email)
        assert (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(invited))).status_code == 404

        until_day = paris_today() + timedelta(days=14)

        async def granted():  # refused until the notebook service has heard of the professional (directory's event)
            answer = await client.post(f"/api/v1/notebooks/{SOPHIE}/referrals", headers=bearer(manager), json={
                "email": email, "until": until_day.isoformat(), "reason": "Suivi santé à Grenoble"})
            assert answer.status_code in (201, 422), answer.text
            return answer.json() if answer.status_code == 201 else None
        await until(granted, timeout_s=60)

        opened = await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(invited))
        assert opened.status_code == 200 and opened.json()["access"] == "full"
        assert (await client.get(f"/carnets/{SOPHIE}", headers=bearer(invited))).status_code == 200
        # The owner stays; the view is in the access log; the page lists the invitation.
        assert await names(client, manager, q="tifour") == ["Sophie Tifour"]
        owner_view = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(manager))).json()
        assert "Camille Martin" in {v["person_name"] for v in owner_view["visits"]}
        assert any("Accès temporaire ouvert à Camille Martin" in e["summary"] for e in owner_view["timeline"])
        territory = await client.get(f"/carnets/{SOPHIE}/territoire", headers=bearer(manager))
        assert territory.status_code == 200 and "Camille Martin" in territory.text and "Accès ouvert" in territory.text
        assert await until(lambda: messages_about(system, client, email,
                                                  "Vous êtes invité à suivre un carnet de bord"), timeout_s=60)

        # The day after its date, no more access (read when asked: no job runs).
        engine = create_engine(system.database_urls["notebook"])
        try:
            async with engine.begin() as connection:
                await connection.execute(update(NotebookReferral).values(until=paris_today() - timedelta(days=1)))
        finally:
            await engine.dispose()
        assert (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(invited))).status_code == 404
        territory = await client.get(f"/carnets/{SOPHIE}/territoire", headers=bearer(manager))
        assert "Accès terminé" in territory.text
