"""Territories, structures, people and the annuaire, through the gateway, with identity's invitations."""
from __future__ import annotations

import asyncio
import html
import uuid

import pytest
from carnet.demo import (
    DEMO_ACCOUNTS,
    DEMO_DEPLOYMENTS,
    DEMO_NOTEBOOKS,
    DEMO_OTHER_STRUCTURE,
    DEMO_STRUCTURE,
    DEMO_TERRITORY,
)

from contracts.identity import DemoAccount, Role
from contracts.notify import MessageFailedV1
from contracts.profiles import BeneficiaryCreatedV1
from testkit.system import bearer, csrf_of, open_link, sign_in

pytestmark = pytest.mark.e2e

ADMIN = DemoAccount(email="admin@demo.carnet.test", role=Role.admin_cdb, firstname="Alice", lastname="Admin")
SIRET_OK, SIRET_BAD = "73282932000074", "73282932000075"


def structure(name: str, **fields) -> dict:
    return {"name": name, "postal_code": "93190", "city": "Livry-Gargan", **fields}


async def open_territory(system, client, code: str, manager_email: str) -> tuple[str, str]:
    """As admin_cdb: a territory and its first manager, who signs in from the invitation. Returns their token."""
    admin_token = await sign_in(system, client, ADMIN.email)
    created = await client.post("/api/v1/deployments", headers=bearer(admin_token), json={
        "label": f"Territoire {code}", "department_code": code,
        "manager": {"firstname": "Agathe", "lastname": f"Gestion{code}", "email": manager_email}})
    assert created.status_code == 201, created.text
    territory = created.json()
    assert [s["name"] for s in territory["orientation_systems"]] == ["Professionnel", "Social", "Socio-professionnel"]
    [invitation] = await system.mailbox(client, manager_email)
    assert "L'équipe nationale de Carnet de bord vous a créé un compte" in invitation["text"]
    async with system.client() as manager:
        await open_link(manager, invitation["links"][0])
        token = await sign_in(system, manager, manager_email, count=2)
    return territory["deployment_id"], token


async def test_a_manager_builds_the_territory_and_each_new_person_is_invited(system):
    await system.seed(ADMIN)
    async with system.client() as client:
        d93, manager = await open_territory(system, client, "93", "agathe@cd93.fr")
        d51, other_manager = await open_territory(system, client, "51", "marc@cd51.fr")
        me = (await client.get("/api/v1/me", headers=bearer(manager))).json()
        assert me["deployment_id"] == d93 and me["profile_id"]

        system_answer = await client.post("/api/v1/orientation-systems", headers=bearer(manager),
                                          json={"name": "RSA – Insertion", "orientation_type": "sociopro"})
        assert system_answer.status_code == 201
        rsa = system_answer.json()["orientation_system_id"]
        twice = await client.post("/api/v1/orientation-systems", headers=bearer(manager),
                                  json={"name": "rsa – insertion", "orientation_type": "pro"})
        assert twice.status_code == 409 and "déjà" in twice.json()["message"]

        bad_siret = await client.post("/api/v1/structures", headers=bearer(manager),
                                      json={"structure": structure("CCAS", siret=SIRET_BAD)})
        assert bad_siret.status_code == 422 and "clé de contrôle" in bad_siret.json()["message"]
        bad_email = await client.post("/api/v1/structures", headers=bearer(manager),
                                      json={"structure": structure("CCAS", email="ccas@")})
        assert bad_email.status_code == 422 and "n'est pas valide" in bad_email.json()["message"]
        ccas = (await client.post("/api/v1/structures", headers=bearer(manager), json={"structure": structure(
            "CCAS de Livry-Gargan", siret=SIRET_OK, sensitive=True, orientation_system_ids=[rsa])})).json()
        assert ccas["siret"] == SIRET_OK and ccas["sensitive"] is True and ccas["can_edit"] is True

        pro_body = {"role": "professional", "structure_ids": [ccas["structure_id"]], "orientation_system_ids": [rsa],
                    "person": {"firstname": "Élodie", "lastname": "Dupré", "email": "elodie.dupre@ccas93.fr",
                               "phone": "01 41 70 88 00", "position": "Conseillère"}}
        no_structure = await client.post("/api/v1/people", headers=bearer(manager),
                                         json={**pro_body, "structure_ids": []})
        assert no_structure.status_code == 422 and "structure" in no_structure.json()["message"]
        pro = await client.post("/api/v1/people", headers=bearer(manager), json=pro_body)
        assert pro.status_code == 201, pro.text
        duplicate = await client.post("/api/v1/people", headers=bearer(manager), json=pro_body)
        assert duplicate.status_code == 409 and "elodie.dupre@ccas93.fr" in duplicate.json()["message"]

        [invitation] = await system.mailbox(client, "elodie.dupre@ccas93.fr")
        assert "Agathe Gestion93 vous a créé un compte" in invitation["text"]
        async with system.client() as pro_client:
            pro_token = await sign_in(system, pro_client, "elodie.dupre@ccas93.fr", count=2)
            pro_me = (await pro_client.get("/api/v1/me", headers=bearer(pro_token))).json()
            assert pro_me["structure_ids"] == [ccas["structure_id"]] and pro_me["deployment_id"] == d93
            # The annuaire, accent- and case-insensitive; a professional never sees the "sensible" flag.
            found = (await pro_client.get("/api/v1/people", headers=bearer(pro_token),
                                          params={"q": "ELODIE dupre livry"})).json()
            assert [p["lastname"] for p in found["people"]] == ["Dupré"]
            seen = (await pro_client.get(f"/api/v1/structures/{ccas['structure_id']}", headers=bearer(pro_token))).json()
            # Left out, not "false": a plausible value would be taken for the truth.
            assert "sensitive" not in seen and seen["withheld"] == ["sensitive"] and seen["can_edit"] is False
            refused = await pro_client.post("/api/v1/structures", headers=bearer(pro_token),
                                            json={"structure": structure("Asso")})
            assert refused.status_code == 403

        # The manager of another territory sees none of it.
        assert (await client.get("/api/v1/structures", headers=bearer(other_manager))).json()["total"] == 0
        assert (await client.get("/api/v1/people", headers=bearer(other_manager),
                                 params={"q": "dupre"})).json()["total"] == 0
        # What lies in another territory is answered exactly as an id that does not exist: nothing to probe.
        unknown = str(uuid.uuid4())
        for path, same_as in ((f"/api/v1/structures/{ccas['structure_id']}", f"/api/v1/structures/{unknown}"),
                              (f"/api/v1/deployments/{d93}", f"/api/v1/deployments/{unknown}"),
                              (f"/api/v1/structures?deployment_id={d93}", f"/api/v1/structures?deployment_id={unknown}"),
                              (f"/api/v1/people/{pro.json()['person_id']}", f"/api/v1/people/{unknown}")):
            elsewhere, missing = [await client.get(p, headers=bearer(other_manager)) for p in (path, same_as)]
            assert elsewhere.status_code == missing.status_code == 404, path
            assert elsewhere.json()["message"] == missing.json()["message"]
        for person_id in (pro.json()["person_id"], unknown):
            deactivation = await client.post(f"/api/v1/people/{person_id}/deactivate", headers=bearer(other_manager))
            assert deactivation.status_code == 404

        counts = (await client.get("/api/v1/territory", headers=bearer(manager))).json()
        assert (counts["structures"], counts["professionals"]) == (1, 1)


async def test_edits_never_overwrite_each_other_and_deactivation_closes_the_account(system):
    await system.seed(ADMIN)
    async with system.client() as client:
        _d93, manager = await open_territory(system, client, "93", "agathe@cd93.fr")
        ccas = (await client.post("/api/v1/structures", headers=bearer(manager),
                                  json={"structure": structure("CCAS")})).json()
        first = await client.put(f"/api/v1/structures/{ccas['structure_id']}", headers=bearer(manager), json={
            "structure_id": ccas["structure_id"], "version": ccas["version"],
            "structure": structure("CCAS de Livry", city="Livry-Gargan")})
        assert first.status_code == 200 and first.json()["version"] == ccas["version"] + 1
        stale = await client.put(f"/api/v1/structures/{ccas['structure_id']}", headers=bearer(manager), json={
            "structure_id": ccas["structure_id"], "version": ccas["version"], "structure": structure("Autre nom")})
        assert stale.status_code == 409 and "Quelqu'un a modifié" in stale.json()["message"]
        assert stale.json()["details"]["current"]["name"] == "CCAS de Livry"

        pro = (await client.post("/api/v1/people", headers=bearer(manager), json={
            "role": "professional", "structure_ids": [ccas["structure_id"]],
            "person": {"firstname": "Paul", "lastname": "Parti", "email": "paul@ccas93.fr"}})).json()
        # Notify could not deliver to that address: the manager sees it on the person, until it is corrected.
        await system.publish(MessageFailedV1(message_id=uuid.uuid4(), channel="email", template="invitation",
                                             source_event_id=uuid.uuid4(), error="550 boîte inconnue",
                                             recipient="paul@ccas93.fr"))
        for _ in range(50):
            seen = (await client.get(f"/api/v1/people/{pro['person_id']}", headers=bearer(manager))).json()
            if seen["email_failed_at"]:
                break
            await asyncio.sleep(0.1)
        assert seen["email_failed_at"] and seen["phone_failed_at"] is None
        page = await client.get(f"/territoire/personnes/{pro['person_id']}", headers=bearer(manager))
        assert "n'a pas pu être remis : vérifiez cette adresse" in page.text
        # A typo in the email, corrected by the manager: the account follows, the new address logs in.
        corrected = await client.put(f"/api/v1/people/{pro['person_id']}", headers=bearer(manager), json={
            "person_id": pro["person_id"], "version": seen["version"], "structure_ids": [ccas["structure_id"]],
            "person": {"firstname": "Paul", "lastname": "Parti", "email": "paul.parti@ccas93.fr"}})
        assert corrected.status_code == 200 and corrected.json()["email"] == "paul.parti@ccas93.fr"
        assert corrected.json()["email_failed_at"] is None
        async with system.client() as pro_client:
            for _ in range(50):
                await pro_client.post("/api/v1/auth/magic-link", json={"email": "paul.parti@ccas93.fr"})
                box = (await pro_client.get("/api/v1/dev/mailbox", params={"to": "paul.parti@ccas93.fr"})).json()
                if box:
                    break
                await asyncio.sleep(0.2)
            pro_token = await sign_in(system, pro_client, "paul.parti@ccas93.fr", count=2)
            off = await client.post(f"/api/v1/people/{pro['person_id']}/deactivate", headers=bearer(manager))
            assert off.status_code == 200 and off.json()["deactivated"] is True
            for _ in range(50):  # the account closes when identity consumes directory's event
                answer = await pro_client.get("/api/v1/me", headers=bearer(pro_token))
                if answer.status_code == 401:
                    break
                await asyncio.sleep(0.1)
            assert answer.status_code == 401 and "désactivé" in answer.json()["message"]
        assert (await client.get("/api/v1/people", headers=bearer(manager), params={"q": "paul"})).json()["total"] == 0
        kept = (await client.get("/api/v1/people", headers=bearer(manager),
                                 params={"q": "paul", "include_deactivated": "true"})).json()
        assert kept["people"][0]["deactivated"] is True


async def test_structure_admins_edit_their_structure_only_and_beneficiaries_are_counted_once(system):
    await system.seed(ADMIN)
    async with system.client() as client:
        d93, manager = await open_territory(system, client, "93", "agathe@cd93.fr")
        mine, other = [(await client.post("/api/v1/structures", headers=bearer(manager),
                                          json={"structure": structure(name, sensitive=True)})).json()
                       for name in ("Mission locale", "Association Tremplin")]
        await client.post("/api/v1/people", headers=bearer(manager), json={
            "role": "admin_structure", "structure_ids": [mine["structure_id"]],
            "person": {"firstname": "Jacques", "lastname": "Célaire", "email": "jacques@ml93.fr"}})
        async with system.client() as admin_client:
            admin = await sign_in(system, admin_client, "jacques@ml93.fr", count=1)
            own = (await admin_client.get(f"/api/v1/structures/{mine['structure_id']}", headers=bearer(admin))).json()
            assert own["can_edit"] and own["sensitive"] is True
            edited = await admin_client.put(f"/api/v1/structures/{mine['structure_id']}", headers=bearer(admin), json={
                "structure_id": mine["structure_id"], "version": own["version"],
                "structure": structure("Mission locale", phone="01 43 00 00 00", sensitive=False)})
            assert edited.status_code == 200
            assert edited.json()["sensitive"] is True  # the flag is the managers' call, not the structure's
            refused = await admin_client.put(f"/api/v1/structures/{other['structure_id']}", headers=bearer(admin), json={
                "structure_id": other["structure_id"], "version": other["version"], "structure": structure("Pris")})
            assert refused.status_code == 403
            hired = await admin_client.post("/api/v1/people", headers=bearer(admin), json={
                "role": "professional", "structure_ids": [mine["structure_id"]],
                "person": {"firstname": "Nina", "lastname": "Nouvelle", "email": "nina@ml93.fr"}})
            assert hired.status_code == 201
            elsewhere = await admin_client.post("/api/v1/people", headers=bearer(admin), json={
                "role": "professional", "structure_ids": [other["structure_id"]],
                "person": {"firstname": "Non", "lastname": "Autorisé", "email": "non@asso.fr"}})
            assert elsewhere.status_code == 403

        beneficiary = BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=uuid.UUID(d93),
                                           firstname="Sophie", lastname="Tifour")
        await system.publish(beneficiary)
        await system.publish(beneficiary)  # redelivered: counted once
        await system.publish(BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=uuid.UUID(d93)))
        for _ in range(50):
            counts = (await client.get("/api/v1/territory", headers=bearer(manager))).json()
            if counts["beneficiaries"] >= 2:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        assert (await client.get("/api/v1/territory", headers=bearer(manager))).json()["beneficiaries"] == 2


async def test_a_dispositif_removed_from_a_structure_is_removed_from_its_professionals_only(system):
    """Spec §5.3 editOrientationSystems.feature: removing « Social » from a structure removes it from its
    professionals (their edit form no longer has it, the notebook no longer lets them be référent for it), and
    from nobody else's."""
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    pierre, simon = "93000000-0000-4000-8000-00000000b004", "93000000-0000-4000-8000-00000000b005"
    sophie = DEMO_NOTEBOOKS.beneficiaries[0].notebook_id
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        pro = await sign_in(system, client, "pro@demo.carnet.test")

        async def systems_on_notebook() -> list[str]:
            page = (await client.get(f"/api/v1/notebooks/{sophie}", headers=bearer(pro))).json()
            return [s["name"] for s in page["my_orientation_systems"]]

        for _ in range(150):  # the directory's events reach the notebook's read models
            if len(await systems_on_notebook()) == 3:
                break
            await asyncio.sleep(0.1)
        assert await systems_on_notebook() == ["Professionnel", "Social", "Socio-professionnel"]

        ccas = (await client.get(f"/api/v1/structures/{DEMO_STRUCTURE}", headers=bearer(manager))).json()
        social = next(s["orientation_system_id"] for s in ccas["orientation_systems"] if s["name"] == "Social")
        before = (await client.get(f"/api/v1/people/{pierre}", headers=bearer(manager))).json()
        kept = [s for s in ccas["orientation_system_ids"] if s != social]
        fields = {k: ccas[k] for k in ("name", "postal_code", "city", "phone", "email", "siret", "short_desc",
                                       "address1", "address2", "website", "sensitive")}
        saved = await client.put(f"/api/v1/structures/{DEMO_STRUCTURE}", headers=bearer(manager), json={
            "structure_id": str(DEMO_STRUCTURE), "version": ccas["version"],
            "structure": {**fields, "orientation_system_ids": kept}})
        assert saved.status_code == 200, saved.text

        after = (await client.get(f"/api/v1/people/{pierre}", headers=bearer(manager))).json()
        assert [s["name"] for s in after["orientation_systems"]] == ["Professionnel", "Socio-professionnel"]
        assert after["version"] == before["version"] + 1  # an edit form opened before must not put it back
        other = (await client.get(f"/api/v1/people/{simon}", headers=bearer(manager))).json()
        assert "Social" in [s["name"] for s in other["orientation_systems"]]  # another structure: untouched
        form = await client.get(f"/territoire/personnes/{pierre}", headers=bearer(manager))
        assert ">Professionnel</label>" in form.text and ">Social</label>" not in form.text  # no longer offered
        for _ in range(150):  # published as the directory's « professional updated » event
            if len(await systems_on_notebook()) == 2:
                break
            await asyncio.sleep(0.1)
        assert await systems_on_notebook() == ["Professionnel", "Socio-professionnel"]


async def test_a_structure_admin_edits_her_professionals_and_adds_a_fellow_admin_to_her_structure_only(system):
    """Spec §5.6 edit_professional.feature, deleteProfessional.feature and add_admin.feature, through the pages
    and the API; habilitation matrix §1.2: admin_structure updates the professionals of her structures and creates
    and updates her structures' admins, nothing else (the other structures' people: 403, another territory's: 404)."""
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    pierre, simon = "93000000-0000-4000-8000-00000000b004", "93000000-0000-4000-8000-00000000b005"
    async with system.client() as client:
        jacques = await sign_in(system, client, "structure@demo.carnet.test")
        h = bearer(jacques)
        page = await client.get(f"/territoire/structures/{DEMO_STRUCTURE}", headers=h)
        assert page.status_code == 200
        assert f'href="/territoire/personnes/{pierre}"' in page.text  # her professionals open to be edited
        assert "Ajouter un administrateur" in page.text

        # Pierre's names, phone and position, from his page's form.
        shown = await client.get(f"/territoire/personnes/{pierre}", headers=h)
        assert shown.status_code == 200 and 'name="firstname"' in shown.text
        seen = (await client.get(f"/api/v1/people/{pierre}", headers=h)).json()
        form = {"csrf": csrf_of(client), "version": str(seen["version"]), "firstname": "Pierre-Yves",
                "lastname": "Chevalier", "email": seen["email"], "phone": "06 12 34 56 78", "position": "CIP",
                "structure_ids": str(DEMO_STRUCTURE),
                "orientation_system_ids": [s["orientation_system_id"] for s in seen["orientation_systems"]]}
        saved = await client.post(f"/territoire/personnes/{pierre}", headers=h, data=form)
        assert saved.status_code == 200 and "Les modifications sont enregistrées." in saved.text
        after = (await client.get(f"/api/v1/people/{pierre}", headers=h)).json()
        assert (after["firstname"], after["phone"], after["position"]) == ("Pierre-Yves", "+33612345678", "CIP")
        bad = await client.post(f"/territoire/personnes/{pierre}", headers=h,
                                data={**form, "version": str(after["version"]), "email": "pierre@"})
        assert bad.status_code == 422 and "n'est pas valide" in html.unescape(bad.text)
        assert (await client.get(f"/api/v1/people/{pierre}", headers=h)).json()["version"] == after["version"]

        # A fellow administrator of her structure: invited; another structure or another role: refused.
        added = await client.post("/territoire/personnes", headers=h, data={
            "csrf": csrf_of(client), "role": "admin_structure", "structure_ids": str(DEMO_STRUCTURE),
            "back_to": str(DEMO_STRUCTURE), "firstname": "Mauricette", "lastname": "Leblanc",
            "email": "mauricette.leblanc@cd93.fr"})
        assert added.status_code == 200 and "Mauricette Leblanc est enregistré(e)" in added.text
        [invitation] = await system.mailbox(client, "mauricette.leblanc@cd93.fr")
        assert "Jacques Célaire vous a créé un compte" in invitation["text"]
        for body in ({"role": "admin_structure", "structure_ids": [str(DEMO_OTHER_STRUCTURE)]},
                     {"role": "orientation_manager", "structure_ids": []}):
            refused = await client.post("/api/v1/people", headers=h, json={
                **body, "person": {"firstname": "Non", "lastname": "Autorisé", "email": "non@cd93.fr"}})
            assert refused.status_code == 403 and "pas le droit" in refused.json()["message"]
        found = (await client.get("/api/v1/people", headers=h, params={"q": "Mauricette"})).json()
        [mauricette] = found["people"]
        assert mauricette["can_edit"] and not mauricette["can_deactivate"]  # a fellow admin is edited, not closed
        edited = await client.put(f"/api/v1/people/{mauricette['person_id']}", headers=h, json={
            "person_id": mauricette["person_id"], "version": mauricette["version"],
            "structure_ids": [str(DEMO_STRUCTURE)], "person": {"firstname": "Mauricette", "lastname": "Leblanc",
                                                                "email": "mauricette.leblanc@cd93.fr",
                                                                "phone": "0612345678"}})
        assert edited.status_code == 200 and edited.json()["phone"] == "+33612345678"
        closing = await client.post(f"/api/v1/people/{mauricette['person_id']}/deactivate", headers=h)
        assert closing.status_code == 403
        assert (await client.get(f"/api/v1/people/{mauricette['person_id']}", headers=h)).json()["deactivated"] is False

        # Simon works in another structure: she sees him in the annuaire but may not change him.
        other = (await client.get(f"/api/v1/people/{simon}", headers=h)).json()
        assert not other["can_edit"] and not other["can_deactivate"]
        refused = await client.put(f"/api/v1/people/{simon}", headers=h, json={
            "person_id": simon, "version": other["version"], "structure_ids": [str(DEMO_OTHER_STRUCTURE)],
            "person": {"firstname": "Pris", "lastname": "Anka", "email": other["email"]}})
        assert refused.status_code == 403
        moved = await client.put(f"/api/v1/people/{pierre}", headers=h, json={
            "person_id": pierre, "version": after["version"], "structure_ids": [str(DEMO_OTHER_STRUCTURE)],
            "person": {"firstname": "Pierre", "lastname": "Chevalier", "email": after["email"]}})
        assert moved.status_code == 403  # she cannot hand her professional to a structure she does not run
        assert (await client.get(f"/api/v1/people/{simon}", headers=h)).json()["firstname"] == "Simon"

        # Deactivating her professional, from the structure's page: his account is closed, his history kept.
        deactivated = await client.post(f"/territoire/personnes/{pierre}/desactiver", headers=h,
                                        data={"csrf": csrf_of(client), "back_to": str(DEMO_STRUCTURE)})
        assert deactivated.status_code == 200 and "est désactivé(e)" in deactivated.text
        assert "Administrateurs de la structure" in deactivated.text  # back on the structure's page
        assert (await client.get(f"/api/v1/people/{pierre}", headers=h)).json()["deactivated"] is True


async def test_a_professional_is_given_only_dispositifs_her_structure_offers_whatever_the_request(system):
    """Her form proposes only her structure's dispositifs; the API and a crafted page post cannot give her another:
    422 in French naming the dispositif, nothing changed."""
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        h = bearer(manager)
        systems = {s["name"]: s["orientation_system_id"] for s in (await client.get(
            "/api/v1/orientation-systems", headers=h)).json()["orientation_systems"]}
        atelier = (await client.post("/api/v1/structures", headers=h, json={"structure": structure(
            "Atelier Emploi Bondy", orientation_system_ids=[systems["Professionnel"]])})).json()["structure_id"]
        body = {"role": "professional", "structure_ids": [atelier],
                "orientation_system_ids": [systems["Professionnel"], systems["Social"]],
                "person": {"firstname": "Paule", "lastname": "Sansocial", "email": "paule@atelier93.fr"}}
        crafted = await client.post("/api/v1/people", headers=h, json=body)
        assert crafted.status_code == 422, crafted.text
        assert crafted.json()["message"] == ("La structure « Atelier Emploi Bondy » ne propose pas le dispositif "
                                             "« Social » : un professionnel n'est habilité qu'aux dispositifs de sa "
                                             "structure.")
        assert (await client.get("/api/v1/people", headers=h, params={"q": "Sansocial"})).json()["total"] == 0

        paule = await client.post("/api/v1/people", headers=h,
                                  json={**body, "orientation_system_ids": [systems["Professionnel"]]})
        assert paule.status_code == 201, paule.text
        paule = paule.json()
        put = await client.put(f"/api/v1/people/{paule['person_id']}", headers=h, json={
            "person_id": paule["person_id"], "version": paule["version"], "structure_ids": [atelier],
            "orientation_system_ids": [systems["Social"]], "person": {**body["person"], "position": "CIP"}})
        assert put.status_code == 422 and "« Social »" in put.json()["message"]

        form = await client.get(f"/territoire/personnes/{paule['person_id']}", headers=h)
        assert ">Professionnel</label>" in form.text and ">Social</label>" not in form.text  # not proposed
        posted = await client.post(f"/territoire/personnes/{paule['person_id']}", headers=h, data={
            "csrf": csrf_of(client), "version": str(paule["version"]), "firstname": "Paule",
            "lastname": "Sansocial", "email": "paule@atelier93.fr", "position": "CIP", "structure_ids": atelier,
            "orientation_system_ids": [systems["Professionnel"], systems["Social"]]})
        assert posted.status_code == 422
        assert "ne propose pas le dispositif « Social »" in html.unescape(posted.text)
        now = (await client.get(f"/api/v1/people/{paule['person_id']}", headers=h)).json()
        assert (now["version"], now["position"]) == (paule["version"], "")
        assert [s["name"] for s in now["orientation_systems"]] == ["Professionnel"]
