"""Exchanges between professionals through the gateway, on real NATS and both databases: Simon (Groupe NS) puts a
question to Sophie's référent (Pierre, CCAS) from the page's form, with the warning next to the text box; Pierre
gets the email, sees the unread count on his list until he reads the thread, answers with a message shared with
Sophie that mentions Simon; Sophie sees only that message, on /mon-carnet and through her API, hears of it by SMS
(never its text) and answers it from her page: Pierre is told and reads her answer; anyone outside the group gets
404."""
from __future__ import annotations

import html

import pytest
from carnet.demo import DEMO_NOTEBOOKS
from contracts.exchanges import MAX_EXCHANGE_LENGTH
from testkit.system import bearer, csrf_of, sign_in

from tests.e2e.test_notebook import messages_about, page_with_systems, seed_demo, until

pytestmark = pytest.mark.e2e

SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)
QUESTION = "Bonjour @Pierre Chevalier, Mme Tifour a-t-elle pu passer à l'atelier CV de mardi ?"
ANSWER = "Oui, l'atelier CV est fait ; prochain rendez-vous le 12."


async def unread_on_the_list(client, token) -> int:
    answer = await client.get("/api/v1/notebooks", headers=bearer(token), params={"mine": "true"})
    assert answer.status_code == 200, answer.text
    return next(r["unread_exchanges"] for r in answer.json()["notebooks"] if r["notebook_id"] == SOPHIE)


async def test_a_question_to_the_referent_the_email_unread_counts_and_what_the_beneficiary_sees(system):
    await seed_demo(system)
    async with system.client() as client:
        # Signed in before the exchanges' emails arrive (a login link is the next message to each).
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        simon = await sign_in(system, client, "pro2@demo.carnet.test")
        me = await sign_in(system, client, "beneficiaire@demo.carnet.test")
        outsider = await sign_in(system, client, "orientation@demo.carnet.test")
        page = await page_with_systems(client, pro, SOPHIE)
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(pro), json={
            "as_referent": True, "orientation_system_id": page["my_orientation_systems"][0]["orientation_system_id"]})
        assert joined.status_code == 200, joined.text

        async def simon_joins():  # the notebook's read model knows Simon once directory's events arrived
            answer = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(simon), json={})
            return answer if answer.status_code == 200 else None
        await until(simon_joins, timeout_s=60)
        api = f"/api/v1/notebooks/{SOPHIE}/exchanges"

        # Simon's page: the thread, the form with the warning next to the text box, Pierre to ask.
        thread = (await client.get(api, headers=bearer(simon))).json()
        [pierre] = [m for m in thread["members"] if m["name"] == "Pierre Chevalier"]
        assert pierre["referent"] and pierre["structure_name"] == "Centre communal d'action sociale de Livry-Gargan"
        form = await client.get(f"/carnets/{SOPHIE}/echanges", headers=bearer(simon))
        assert form.status_code == 200
        assert "Ne mentionnez pas d'informations de santé ou sensibles" in html.unescape(form.text)
        assert 'aria-describedby="x-warning' in form.text and "Partagé avec la personne" in form.text
        empty = await client.post(f"/carnets/{SOPHIE}/echanges/nouveau", headers=bearer(simon),
                                  data={"csrf": csrf_of(client), "text": "  "})
        assert empty.status_code == 422 and "Écrivez un message" in empty.text
        # Parsed by the API's body model: a text too long is said in French, kept with its choices, nothing posted.
        long = await client.post(f"/carnets/{SOPHIE}/echanges/nouveau", headers=bearer(simon), data={
            "csrf": csrf_of(client), "text": "<long>" + "x" * MAX_EXCHANGE_LENGTH, "addressed_to": pierre["person_id"],
            "shared_with_beneficiary": "oui"})
        assert long.status_code == 422 and f"{MAX_EXCHANGE_LENGTH} caractères au plus" in long.text
        assert "&lt;long&gt;xxx" in long.text and 'name="shared_with_beneficiary" value="oui" checked' in long.text
        assert f'<option value="{pierre["person_id"]}" selected>' in long.text
        assert (await client.get(api, headers=bearer(simon))).json()["messages"] == []
        posted = await client.post(f"/carnets/{SOPHIE}/echanges/nouveau", headers=bearer(simon), data={
            "csrf": csrf_of(client), "text": QUESTION, "addressed_to": pierre["person_id"]})
        assert posted.status_code == 303, posted.text
        assert (await client.get(api, headers=bearer(simon))).json()["messages"][0]["text"] == QUESTION

        # Pierre: the email (a link, not the text), then the unread count on his list until he reads the thread.
        [email] = await until(lambda: messages_about(system, client, "pro@demo.carnet.test",
                                                     "Une question vous est posée"), timeout_s=60)
        assert "Simon Anka" in email["text"] and QUESTION not in email["text"]
        assert f"/carnets/{SOPHIE}/echanges" in email["links"][0]
        assert await unread_on_the_list(client, pro) == 1
        listing = await client.get("/beneficiaires", headers=bearer(pro), params={"mine": "1"})
        assert "1 message non lu" in listing.text
        notebook_page = await client.get(f"/carnets/{SOPHIE}", headers=bearer(pro))
        assert "1 message non lu" in notebook_page.text and f"/carnets/{SOPHIE}/echanges" in notebook_page.text
        read = await client.get(f"/carnets/{SOPHIE}/echanges", headers=bearer(pro))
        assert read.status_code == 200 and "Question à Pierre Chevalier" in read.text
        assert "Mme Tifour a-t-elle pu passer à l'atelier CV" in html.unescape(read.text)
        assert await unread_on_the_list(client, pro) == 0

        # His answer is shared with Sophie and mentions Simon.
        simon_id = next(m["person_id"] for m in (await client.get(api, headers=bearer(pro))).json()["members"]
                        if m["name"] == "Simon Anka")
        answered = await client.post(api, headers=bearer(pro), json={
            "text": ANSWER, "shared_with_beneficiary": True, "mentions": [simon_id]})
        assert answered.status_code == 201 and answered.json()["mentioned"] == 1, answered.text
        assert await until(lambda: messages_about(system, client, "pro2@demo.carnet.test",
                                                  "Vous êtes mentionné"), timeout_s=60)
        assert await unread_on_the_list(client, simon) == 1

        # Sophie sees only the shared message.
        for path in ("/api/v1/me/notebook/exchanges", api):
            hers = await client.get(path, headers=bearer(me))
            assert hers.status_code == 200, hers.text
            assert [m["text"] for m in hers.json()["messages"]] == [ANSWER]
        own = await client.get("/mon-carnet", headers=bearer(me))
        assert own.status_code == 200 and "prochain rendez-vous le 12" in own.text
        assert "atelier CV de mardi" not in own.text
        assert (await client.post(api, headers=bearer(me), json={"text": "Merci"})).status_code == 403

        # She hears of it on her channel (an SMS: she has a mobile), without its text, and answers from her page.
        [sms] = await until(lambda: messages_about(system, client, "+33612345678", "SMS"), timeout_s=60)
        assert "nouveau message" in sms["text"] and "atelier" not in sms["text"]
        shared_id = (await client.get("/api/v1/me/notebook/exchanges", headers=bearer(me))).json()["messages"][0][
            "exchange_id"]
        mine = await client.get("/mon-carnet/echanges", headers=bearer(me))
        assert f'action="/mon-carnet/echanges/{shared_id}/repondre"' in mine.text
        replied = await client.post(f"/mon-carnet/echanges/{shared_id}/repondre", headers=bearer(me),
                                    data={"csrf": csrf_of(client), "text": "Merci, à mardi."})
        assert replied.status_code == 303, replied.text
        assert [m["text"] for m in (await client.get(api, headers=bearer(me))).json()["messages"]] == [
            ANSWER, "Merci, à mardi."]
        [told] = await until(lambda: messages_about(system, client, "pro@demo.carnet.test",
                                                    "Une réponse de la personne accompagnée"), timeout_s=60)
        assert "Merci, à mardi" not in told["text"]
        read = await client.get(f"/carnets/{SOPHIE}/echanges", headers=bearer(pro))
        assert "Réponse de la personne accompagnée à Pierre Chevalier" in html.unescape(read.text)
        assert "Merci, à mardi." in html.unescape(read.text)
        # A message not shared with her she may not answer: for her it does not exist.
        private = (await client.get(api, headers=bearer(pro))).json()["messages"][0]["exchange_id"]
        assert (await client.post(f"/api/v1/me/notebook/exchanges/{private}/replies", headers=bearer(me),
                                  json={"text": "Bonjour"})).status_code == 404

        # Outside the group: no such thread.
        assert (await client.get(api, headers=bearer(outsider))).status_code == 404
        assert (await client.post(api, headers=bearer(outsider), json={"text": "Bonjour"})).status_code == 404
        assert (await client.get(f"/carnets/{SOPHIE}/echanges", headers=bearer(outsider))).status_code == 404
