"""« Bienvenue » and « Mon compte » as people meet them (issue 20 item 9): a page opened before the first steps are
done sends back to the step with the reason, never a refusal; the beneficiary edits her contact details from
« Mon compte » as from her notebook. Real NATS, both databases, through the gateway's pages."""
from __future__ import annotations

import re
import uuid
from html import unescape

import pytest
from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY

from contracts.profiles import ProfessionalCreatedV1
from testkit.system import bearer, csrf_of, open_link, sign_in

pytestmark = pytest.mark.e2e

D93 = uuid.UUID("93000000-0000-4000-8000-000000000093")


async def test_a_page_opened_before_the_first_steps_leads_back_to_the_step_with_the_reason(system):
    await system.publish(ProfessionalCreatedV1(
        profile_id=uuid.uuid4(), deployment_id=D93, email="lea.martin@livry.fr", firstname="Léa", lastname="Martin",
        structure_ids=[uuid.uuid4()], created_by_name="Agathe Deblouze"))
    async with system.client() as client:
        [invitation] = await system.mailbox(client, "lea.martin@livry.fr")
        await open_link(client, invitation["links"][0])

        # Right after the link, the home page leads to the CGU without a word: that is where a login lands.
        assert (await client.get("/")).headers["location"] == "/cgu"
        early = await client.get("/compte")
        assert early.status_code == 303 and early.headers["location"] == "/cgu?etape=requise"
        told = await client.get(early.headers["location"])
        assert told.status_code == 200 and "acceptez d'abord les conditions générales" in unescape(told.text)
        assert "acceptez d'abord" not in unescape((await client.get("/cgu")).text)
        version = re.search(r'name="version" value="([^"]+)"', told.text).group(1)
        await client.post("/cgu", data={"csrf": csrf_of(client), "version": version, "accept": "oui"})

        for page in ("/beneficiaires", "/compte", "/mon-carnet", "/annuaire"):
            left = await client.get(page)
            assert left.status_code == 303 and left.headers["location"] == "/bienvenue?etape=requise", page
        back = await client.get("/bienvenue?etape=requise")
        assert back.status_code == 200 and "terminez d'abord la création de votre compte" in unescape(back.text)
        assert "Créer mon compte" in back.text and 'value="Léa"' in back.text
        assert (await client.get("/cgu?etape=requise")).status_code == 200  # no loop between the two steps

        done = await client.post("/bienvenue", data={"csrf": csrf_of(client), "firstname": "Léa",
                                                     "lastname": "Martin", "phone": "", "position": "CIP"})
        assert "Votre compte a été créé avec succès" in done.text
        assert (await client.get("/beneficiaires")).status_code == 200


async def test_the_beneficiary_changes_her_phone_and_address_from_my_account_as_from_her_notebook(system):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    async with system.client() as client:
        me = bearer(await sign_in(system, client, "beneficiaire@demo.carnet.test"))
        account = await client.get("/compte", headers=me)
        assert account.status_code == 200, account.text
        assert "Fonction" not in account.text and 'name="position"' not in account.text
        assert "demandez à votre accompagnateur de le modifier" not in account.text
        assert 'action="/compte/coordonnees"' in account.text and 'value="06 12 34 56 78"' in account.text
        version = re.search(r'name="version" value="(\d+)"', account.text).group(1)
        form = {"csrf": csrf_of(client), "version": version, "mobile_number": "07 81 22 33 44",
                "email": "", "address1": "3 rue des Lilas", "address2": "", "postal_code": "93190",
                "city": "Livry-Gargan", "notification_channels": "sms"}

        wrong = await client.post("/compte/coordonnees", headers=me, data={**form, "mobile_number": "123"})
        assert wrong.status_code == 422 and "numéro de téléphone n'est pas valide" in unescape(wrong.text)
        assert 'value="123"' in wrong.text  # what she typed, to correct it
        # Parsed by the API's body model as « Mon carnet »'s form is: each bad value said in French, nothing saved
        # (the history below holds one change).
        for bad, message in (({"notification_channels": "pigeon"}, "Les moyens d'être prévenu : valeur inconnue."),
                             ({"postal_code": "9319"}, "Le code postal doit comporter 5 chiffres."),
                             ({"version": "x"}, "La version doit être un nombre entier.")):
            wrong = await client.post("/compte/coordonnees", headers=me, data={**form, **bad})
            assert wrong.status_code == 422 and message in unescape(wrong.text), bad
            assert 'value="3 rue des Lilas"' in wrong.text

        saved = await client.post("/compte/coordonnees", headers=me, data=form)
        assert saved.status_code == 200 and "Vos coordonnées sont enregistrées" in saved.text
        assert 'value="07 81 22 33 44"' in saved.text and 'value="3 rue des Lilas"' in saved.text
        notebook = await client.get("/mon-carnet", headers=me)
        assert "07 81 22 33 44" in notebook.text and "3 rue des Lilas" in notebook.text
        assert "Téléphone : 06 12 34 56 78 → 07 81 22 33 44" in notebook.text  # one change, one history entry

        # Her name stays her notebook's, as on « Mon carnet »: « Mon compte » does not rename her either.
        renamed = await client.post("/compte/profil", headers=me, data={
            "csrf": csrf_of(client), "firstname": "Autre", "lastname": "Nom", "phone": "", "position": "X"})
        assert renamed.status_code == 303
        assert (await client.get("/api/v1/me", headers=me)).json()["lastname"] == "Tifour"
