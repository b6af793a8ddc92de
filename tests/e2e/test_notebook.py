"""The notebook through the gateway, on real NATS and both databases: the demo territory's professional finds a
beneficiary, joins as référent, fills the diagnostic and the parcours, books an appointment; the beneficiary reads
all of it and who consulted it; a professional of another structure sees only the public card."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_OTHER_STRUCTURE, DEMO_TERRITORY
from contracts.directory import DemoPerson, PersonFields
from contracts.notify import MessageFailedV1
from testkit.system import bearer, sign_in

pytestmark = pytest.mark.e2e

SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)
MYRNA = str(DEMO_NOTEBOOKS.beneficiaries[1].notebook_id)
PARIS = ZoneInfo("Europe/Paris")
PRO1 = "93000000-0000-4000-8000-00000000b004"  # Pierre Chevalier, CCAS de Livry-Gargan (carnet.demo)
PRO2 = "93000000-0000-4000-8000-00000000b005"  # Simon Anka, Groupe NS (carnet.demo)


async def seed_demo(system) -> None:
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)


async def until(check, timeout_s: float = 45):
    """Waits for what events bring (read models, accounts): returns the first truthy answer of ``check``."""
    for _ in range(int(timeout_s / 0.1)):
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("the events never arrived")


async def page_with_systems(client, token, notebook_id):
    async def check():
        page = (await client.get(f"/api/v1/notebooks/{notebook_id}", headers=bearer(token))).json()
        return page if page.get("my_orientation_systems") else None
    return await until(check)


async def orientation_options(client, token, structure_ids=(), person_ids=()) -> dict:
    """The territory's orientation choices (GET /api/v1/orientations/options, what the « Orienter » form offers),
    once the notebook's read model knows the given structures and professionals (directory's events)."""
    async def check():
        answer = await client.get("/api/v1/orientations/options", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        options = answer.json()["options"]
        known = ({s["structure_id"] for s in options["structures"]} >= set(map(str, structure_ids))
                 and {p["person_id"] for p in options["referents"]} >= set(map(str, person_ids)))
        return options if known else None
    return await until(check)


async def messages_about(system, client, to: str, subject: str) -> list[dict]:
    answer = await client.get("/api/v1/dev/mailbox", params={"to": to})
    return [m for m in answer.json() if m["subject"].startswith(subject)]


async def names(client, token, **params) -> list[str]:
    answer = await client.get("/api/v1/notebooks", headers=bearer(token), params=params)
    assert answer.status_code == 200, answer.text
    return [f"{r['firstname']} {r['lastname']}" for r in answer.json()["notebooks"]]


async def test_a_professional_follows_a_beneficiary_who_then_reads_everything(system):
    await seed_demo(system)
    async with system.client() as client:
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        h = bearer(pro)

        # The annuaire: names without accents or case, phone, NIR with its key, CAF number.
        assert await names(client, pro, q="tifour") == ["Sophie Tifour"]
        assert await names(client, pro, q="ETIENNE gonz") == ["Étienne Gonzalez"]
        assert await names(client, pro, q="06 98 76 54 32") == ["Myrna Henderson"]
        assert await names(client, pro, q="0698765432") == ["Myrna Henderson"]
        assert await names(client, pro, q="2 80 05 93 190 123 45") == ["Sophie Tifour"]
        assert await names(client, pro, q="1234567") == ["Sophie Tifour"]
        assert await names(client, pro, q="Inconnu") == []

        # Not a member yet: the public card, without identifiers, and "Se rattacher".
        page = await page_with_systems(client, pro, SOPHIE)
        assert page["access"] == "public" and page["diagnostic"] is None and page["focuses"] == []
        # Identifiers and rights are left out, not sent as "" or false that a client would take for the truth.
        card_fields = page["beneficiary"]
        assert {"nir", "caf_number", "right_rsa", "subject_to_right_and_duty"} <= set(card_fields["withheld"])
        assert not {"nir", "caf_number", "right_rsa", "subject_to_right_and_duty"} & set(card_fields)
        assert "join" in page["allowed"] and "edit_parcours" not in page["allowed"]
        professionnel = next(s for s in page["my_orientation_systems"] if s["name"] == "Professionnel")

        refused = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=h, json={"as_referent": True})
        assert refused.status_code == 422 and "dispositif" in refused.json()["message"]
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=h, json={
            "as_referent": True, "orientation_system_id": professionnel["orientation_system_id"]})
        assert joined.status_code == 200, joined.text

        page = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=h)).json()
        assert page["access"] == "full" and page["orientation_system_name"] == "Professionnel"
        [referent] = [m for m in page["members"] if m["ended_at"] is None]
        assert (referent["person"]["lastname"], referent["member_type"]) == ("Chevalier", "referent")
        assert referent["person"]["structure_name"] == "Centre communal d'action sociale de Livry-Gargan"
        assert [s["status"] for s in page["structures"]] == ["current"]
        assert page["beneficiary"]["caf_number"] == "1234567" and page["beneficiary"]["withheld"] == ["nir"]
        leave = await client.delete(f"/api/v1/notebooks/{SOPHIE}/members/me", headers=h)
        assert leave.status_code == 409 and "référent" in leave.json()["message"]

        # The diagnostic, with a job found by ROME search "with holes".
        rome = (await client.get("/api/v1/rome-codes", headers=h, params={"q": "dev info"})).json()["codes"]
        assert "Développeur / Développeuse informatique (M1805)" in [c["label"] for c in rome]
        referentials = (await client.get("/api/v1/referentials", headers=h)).json()
        assert len(referentials["situations"]) == 88 and len(referentials["targets"]) == 58
        assert len(referentials["actions"]) == 134 and len(referentials["themes"]) == 16
        situations = [s["id"] for s in referentials["situations"]
                      if s["description"] in ("Hébergé chez un tiers", "Permis B")]
        diagnostic = {"work_situation": "recherche_emploi", "work_situation_date": "2026-06-20",
                      "work_situation_end_date": "2027-06-20", "situation_ids": situations,
                      "projects": [{"rome_code": "Développeur / Développeuse informatique (M1805)",
                                    "mobility_radius_km": 100, "hourly_rate_cents": 1495, "contract_type": "cdi",
                                    "employment_type": "full_time"},
                                   {"rome_code": "Formateur / Formatrice (K2111)", "hourly_rate_cents": 1000}]}
        saved = await client.put(f"/api/v1/notebooks/{SOPHIE}/diagnostic", headers=h,
                                 json={"version": page["diagnostic"]["version"], "diagnostic": diagnostic})
        assert saved.status_code == 200, saved.text
        stale = await client.put(f"/api/v1/notebooks/{SOPHIE}/diagnostic", headers=h,
                                 json={"version": page["diagnostic"]["version"], "diagnostic": diagnostic})
        assert stale.status_code == 409 and stale.json()["details"]["version"] == saved.json()["version"]

        # The parcours: a work axis, an objective, an action; a status change with the version read.
        focus = await client.post(f"/api/v1/notebooks/{SOPHIE}/focuses", headers=h, json={"theme": "logement"})
        assert focus.status_code == 201, focus.text
        no_consent = await client.post(f"/api/v1/focuses/{focus.json()['id']}/targets", headers=h,
                                       json={"target": "Accéder à un logement", "linked_to": "cer"})
        assert no_consent.status_code == 422 and "consentement" in no_consent.json()["message"]
        target = await client.post(f"/api/v1/focuses/{focus.json()['id']}/targets", headers=h, json={
            "target": "Accéder à un logement", "linked_to": "cer", "user_consent": True})
        action = await client.post(f"/api/v1/targets/{target.json()['id']}/actions", headers=h,
                                   json={"action": "Demande de logement social", "starting_at": "2026-11-23"})
        assert action.status_code == 201, action.text
        done = await client.put(f"/api/v1/actions/{action.json()['id']}", headers=h,
                                json={"version": 1, "status": "done"})
        assert done.json()["version"] == 2
        lost = await client.put(f"/api/v1/actions/{action.json()['id']}", headers=h,
                                json={"version": 1, "status": "canceled"})
        assert lost.status_code == 409 and "pendant que vous" in lost.json()["message"]
        assert lost.json()["details"]["current"]["status"] == "done"

        at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
        booked = await client.post(f"/api/v1/notebooks/{SOPHIE}/appointments", headers=h,
                                   json={"at": at.isoformat(), "status": "planned"})
        assert booked.status_code == 201, booked.text
        [sms] = await system.mailbox(client, "+33612345678")
        assert sms["channel"] == "sms" and "rendez-vous le" in sms["text"] and "Pierre Chevalier" in sms["text"]

        page = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=h)).json()
        assert page["diagnostic"]["work_situation"] == "recherche_emploi"
        assert {s["description"] for s in page["diagnostic"]["situations"]} == {"Hébergé chez un tiers", "Permis B"}
        assert page["diagnostic"]["projects"][0]["hourly_rate_cents"] == 1495
        # A wanted wage under the SMIC is pointed out (v1's warning), on that project only.
        html = (await client.get(f"/carnets/{SOPHIE}", headers=h)).text
        assert html.count("Attention, la valeur est inférieure au SMIC.") == 1
        [axis] = page["focuses"]
        assert axis["theme_label"] == "Logement" and axis["targets"][0]["actions"][0]["status"] == "done"
        assert page["appointments"][0]["person"]["lastname"] == "Chevalier"
        summaries = [e["summary"] for e in page["timeline"]]
        assert any("devient référent" in s for s in summaries)
        assert any(s.startswith("Action « Demande de logement social » : réalisée") for s in summaries)
        assert all(e["author_name"] == "Pierre Chevalier" for e in page["timeline"] if e["kind"] == "action")
        only_actions = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=h,
                                         params={"timeline_kind": "action"})).json()["timeline"]
        assert {e["kind"] for e in only_actions} == {"action"} and len(only_actions) == 2
        assert await names(client, pro, mine="true") == ["Sophie Tifour"]
        assert await names(client, pro, support="accompanied") == ["Sophie Tifour"]
        recent = (await client.get("/api/v1/notebooks/recent", headers=h)).json()["notebooks"]
        assert recent[0]["lastname"] == "Tifour"

        # A professional of another structure, not a member: only the public card.
        other = await sign_in(system, client, "pro2@demo.carnet.test")
        card = (await until(lambda: page_with_systems(client, other, SOPHIE)))
        assert card["access"] == "public" and card["focuses"] == [] and card["timeline"] == []
        assert card["members"][0]["person"]["lastname"] == "Chevalier"
        denied = await client.post(f"/api/v1/notebooks/{SOPHIE}/focuses", headers=bearer(other),
                                   json={"theme": "emploi"})
        assert denied.status_code == 403 and denied.json()["details"]["reason"] == "not_a_member"
        assert "rattachez-vous" in denied.json()["message"]

        # The beneficiary reads their whole notebook and who consulted it; corrects their phone, not their name.
        me = await sign_in(system, client, "beneficiaire@demo.carnet.test")
        mine = (await client.get("/api/v1/me/notebook", headers=bearer(me))).json()
        assert mine["access"] == "full" and mine["notebook_id"] == SOPHIE
        assert mine["focuses"][0]["targets"][0]["target"] == "Accéder à un logement"
        assert mine["appointments"] and mine["diagnostic"]["projects"]
        assert {v["person_name"] for v in mine["visits"]} >= {"Pierre Chevalier", "Simon Anka"}
        assert mine["members"][0]["person"]["email"] == "pro@demo.carnet.test"
        fields = {**mine["beneficiary"], "mobile_number": "07 81 22 33 44"}
        version = mine["beneficiary"]["version"]
        fixed = await client.put(f"/api/v1/notebooks/{SOPHIE}/beneficiary", headers=bearer(me),
                                 json={"version": version, "beneficiary": fields})
        assert fixed.status_code == 200, fixed.text
        renamed = await client.put(f"/api/v1/notebooks/{SOPHIE}/beneficiary", headers=bearer(me), json={
            "version": fixed.json()["version"], "beneficiary": {**fields, "lastname": "Autre"}})
        assert renamed.status_code == 403 and "nom" in renamed.json()["message"]
        trail = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=h)).json()["timeline"][0]
        assert trail["summary"] == "Informations personnelles mises à jour : téléphone"
        assert trail["author_name"] == "Sophie Tifour"


async def test_what_is_out_of_scope_is_not_found_and_the_access_log_keeps_a_line_a_day(system):
    await seed_demo(system)
    d51 = DEMO_TERRITORY.model_copy(update={
        "deployment_id": uuid.uuid4(), "label": "Démo 51", "department_code": "51", "structures": [],
        "people": [DemoPerson(person_id=uuid.uuid4(), role="manager",
                              person=PersonFields(firstname="Marc", lastname="Marne", email="marc@cd51.fr"))]})
    await system.call(d51)
    async with system.client() as client:
        await system.mailbox(client, "marc@cd51.fr")  # the invitation: the account exists
        elsewhere = await sign_in(system, client, "marc@cd51.fr", count=2)
        sophie = await sign_in(system, client, "beneficiaire@demo.carnet.test")
        unknown = str(uuid.uuid4())

        # Another territory's notebook, or another beneficiary's, answers as an id that does not exist.
        for token, notebook_id in ((elsewhere, SOPHIE), (sophie, MYRNA)):
            for method, path, body in (("GET", "", None), ("POST", "/focuses", {"theme": "emploi"}),
                                       ("POST", "/members", {"as_referent": False})):
                out_of_scope, missing = [await client.request(method, f"/api/v1/notebooks/{n}{path}", json=body,
                                                              headers=bearer(token)) for n in (notebook_id, unknown)]
                assert out_of_scope.status_code == missing.status_code == 404, (path, out_of_scope.text)
                assert [out_of_scope.json()[k] for k in ("code", "message", "details")] == \
                    [missing.json()[k] for k in ("code", "message", "details")]

        # Reloading the page, even in parallel, adds to one line of the day, with the first and last time.
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        for _ in range(3):
            assert (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(pro))).status_code == 200
        views = await asyncio.gather(*(client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(pro))
                                       for _ in range(6)))
        assert {v.status_code for v in views} == {200}
        log = (await client.get("/api/v1/me/notebook", headers=bearer(sophie))).json()["visits"]
        [line] = [v for v in log if v["person_name"] == "Pierre Chevalier"]
        assert line["views"] == 9 and line["last_visited_at"] > line["visited_at"]
        page = (await client.get("/mon-carnet", headers=bearer(sophie))).text
        assert "et 8 fois jusqu'à" in page


async def test_the_group_keeps_one_referent_and_its_history_and_deletions_leave_the_history(system):
    await seed_demo(system)
    async with system.client() as client:
        pro, other = (await sign_in(system, client, "pro@demo.carnet.test"),
                      await sign_in(system, client, "pro2@demo.carnet.test"))
        systems = {}
        for token in (pro, other):
            page = await page_with_systems(client, token, MYRNA)
            systems[token] = page["my_orientation_systems"][0]["orientation_system_id"]

        async def join(token):
            return await client.post(f"/api/v1/notebooks/{MYRNA}/members", headers=bearer(token),
                                     json={"as_referent": True, "orientation_system_id": systems[token]})

        # Both at once: one référent in the end, the other one a member (or told to reload).
        answers = await asyncio.gather(join(pro), join(other))
        assert sorted(a.status_code for a in answers)[0] == 200
        page = (await client.get(f"/api/v1/notebooks/{MYRNA}", headers=bearer(pro))).json()
        assert len([m for m in page["members"] if m["ended_at"] is None and m["member_type"] == "referent"]) == 1

        # The other one takes over: the former référent stays as a member, the history shows who held it.
        again = await client.post(f"/api/v1/notebooks/{MYRNA}/members", headers=bearer(pro),
                                  json={"as_referent": True, "orientation_system_id": systems[pro]})
        if again.status_code == 409:  # pro already was the référent
            again = await join(other)
        assert again.status_code == 200, again.text
        page = (await client.get(f"/api/v1/notebooks/{MYRNA}", headers=bearer(pro))).json()
        active = {m["person"]["lastname"]: m["member_type"] for m in page["members"] if m["ended_at"] is None}
        assert sorted(active.values()) == ["no_referent", "referent"]
        assert any(m["end_reason"] == "replaced" for m in page["members"] if m["ended_at"])
        member_token = pro if active["Chevalier"] == "no_referent" else other
        focus = await client.post(f"/api/v1/notebooks/{MYRNA}/focuses", headers=bearer(member_token),
                                  json={"theme": "mobilite"})
        target = await client.post(f"/api/v1/focuses/{focus.json()['id']}/targets", headers=bearer(member_token),
                                   json={"target": "Santé mentale de Myrna"})
        deleted = await client.delete(f"/api/v1/targets/{target.json()['id']}", headers=bearer(member_token))
        assert deleted.status_code == 200
        page = (await client.get(f"/api/v1/notebooks/{MYRNA}", headers=bearer(member_token))).json()
        assert not any("Santé mentale" in e["summary"] for e in page["timeline"])
        assert page["focuses"][0]["targets"] == []
        left = await client.delete(f"/api/v1/notebooks/{MYRNA}/members/me", headers=bearer(member_token))
        assert left.status_code == 200
        page = (await client.get(f"/api/v1/notebooks/{MYRNA}", headers=bearer(member_token))).json()
        assert page["access"] == "public"
        assert any(m["end_reason"] == "left" for m in page["members"] if m["ended_at"])

        # The former référent was told, by email; invited back by the référent, they are told again.
        referent_token = other if member_token == pro else pro
        former_email = "pro@demo.carnet.test" if member_token == pro else "pro2@demo.carnet.test"
        former_id = next(m["person"]["person_id"] for m in page["members"] if m["person"]["email"] == former_email)
        replaced = await until(lambda: messages_about(system, client, former_email, "Changement de référent"))
        assert replaced[0]["links"][0].endswith(f"/carnets/{MYRNA}")
        invited = await client.post(f"/api/v1/notebooks/{MYRNA}/invitations", headers=bearer(referent_token),
                                    json={"person_id": former_id})
        assert invited.status_code == 200, invited.text
        again = await client.post(f"/api/v1/notebooks/{MYRNA}/invitations", headers=bearer(referent_token),
                                  json={"person_id": former_id})
        assert again.status_code == 409 and "déjà" in again.json()["message"]
        invitation = await until(lambda: messages_about(system, client, former_email, "Invitation à rejoindre"))
        assert "vous a ajouté(e) au groupe de suivi" in invitation[0]["text"]

        # A professional deactivated by the manager leaves every group: the notebook waits for a référent again.
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        deactivated = await client.post(f"/api/v1/people/{PRO2}/deactivate", headers=bearer(manager))
        assert deactivated.status_code == 200, deactivated.text

        async def pro2_gone():
            page = (await client.get(f"/api/v1/notebooks/{MYRNA}", headers=bearer(manager))).json()
            mine = [m for m in page["members"] if m["person"]["person_id"] == PRO2]
            return page if mine and all(m["ended_at"] for m in mine) else None
        page = await until(pro2_gone)
        assert any(m["end_reason"] == "deactivated" for m in page["members"] if m["person"]["person_id"] == PRO2)
        assert [m["person"]["lastname"] for m in page["members"] if m["ended_at"] is None] == ["Chevalier"]


async def test_a_manager_creates_beneficiaries_and_bad_input_changes_nothing(system):
    await seed_demo(system)
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        h = bearer(manager)
        person = {"firstname": "Noël", "lastname": "Keller", "date_of_birth": "1975-12-25", "nir": "1751293190123 00"}
        bad = await client.post("/api/v1/notebooks", headers=h, json={"beneficiary": person})
        assert bad.status_code == 422 and "sécurité sociale" in bad.json()["message"]
        assert await names(client, manager, q="keller") == []
        created = await client.post("/api/v1/notebooks", headers=h,
                                    json={"beneficiary": {**person, "nir": "", "mobile_number": "0601020304"}})
        assert created.status_code == 201, created.text
        twice = await client.post("/api/v1/notebooks", headers=h,
                                  json={"beneficiary": {**person, "nir": "", "lastname": "KELLER"}})
        assert twice.status_code == 409 and "déjà un carnet" in twice.json()["message"]
        assert await names(client, manager, q="noel") == ["Noël Keller"]
        tiles = {t["key"]: t["count"] for t in (await client.get("/api/v1/dashboard", headers=h)).json()["tiles"]}
        assert tiles["beneficiaries"] == 5 and tiles["not_accompanied"] == 5 and tiles["structures"] == 2
        unknown = await client.get("/api/v1/notebooks/8b1d0a4e-58f4-4a39-9a43-2a8b3f0c0c11", headers=h)
        assert unknown.status_code == 404 and "importé" in unknown.json()["message"]
        page = (await client.get(f"/api/v1/notebooks/{created.json()['notebook_id']}", headers=h)).json()
        assert page["access"] == "full" and "redact" in page["allowed"]
        entry = page["timeline"][0]
        redacted = await client.post(f"/api/v1/timeline/{entry['entry_id']}/redaction", headers=h,
                                     json={"reason": "Donnée de santé saisie par erreur"})
        assert redacted.status_code == 200
        page = (await client.get(f"/api/v1/notebooks/{created.json()['notebook_id']}", headers=h)).json()
        assert page["timeline"][0]["redacted"] and page["timeline"][0]["summary"] == "Texte masqué par un gestionnaire"

        # An SMS that could not be delivered flags the number on the page, until someone corrects it.
        notebook_id = created.json()["notebook_id"]
        await system.publish(MessageFailedV1(message_id=uuid.uuid4(), channel="sms", template="appointment_booked",
                                             source_event_id=uuid.uuid4(), error="400", recipient="+33601020304"))

        async def flagged():
            page = (await client.get(f"/api/v1/notebooks/{notebook_id}", headers=h)).json()
            return page if page["beneficiary"]["mobile_failed_at"] else None
        page = await until(flagged)
        fixed = await client.put(f"/api/v1/notebooks/{notebook_id}/beneficiary", headers=h, json={
            "version": page["beneficiary"]["version"],
            "beneficiary": {**page["beneficiary"], "mobile_number": "06 01 02 03 05"}})
        assert fixed.status_code == 200, fixed.text
        page = (await client.get(f"/api/v1/notebooks/{notebook_id}", headers=h)).json()
        assert page["beneficiary"]["mobile_failed_at"] is None
        # The search follows the correction (through SQLite's FTS table, or PostgreSQL's trigram index).
        assert await names(client, manager, q="0601020305") == ["Noël Keller"]
        assert await names(client, manager, q="0601020304") == []
        assert await names(client, manager, q="eller") == ["Noël Keller"]

        # The delivery log is the national admins': every message with its status.
        refused = await client.get("/api/v1/deliveries", headers=h)
        assert refused.status_code == 403 and "administrateurs" in refused.json()["message"]
        admin = await sign_in(system, client, "admin@demo.carnet.test")

        async def all_delivered():  # a message notify has taken but not yet delivered is « pending » a moment
            log = (await client.get("/api/v1/deliveries", headers=bearer(admin))).json()
            return log if {d["status"] for d in log["deliveries"]} == {"kept"} else None
        log = await until(all_delivered, timeout_s=20)
        assert log["total"] >= 2
        assert "manager@demo.carnet.test" in {d["recipient"] for d in log["deliveries"]}


async def test_an_orientation_manager_and_a_structure_admin_see_what_their_role_allows(system):
    await seed_demo(system)
    async with system.client() as client:
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        page = await page_with_systems(client, pro, SOPHIE)
        await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(pro), json={
            "as_referent": True, "orientation_system_id": page["my_orientation_systems"][0]["orientation_system_id"]})

        # The orientation manager reads every notebook of the territory, works on it once a member.
        co = await sign_in(system, client, "orientation@demo.carnet.test")
        page = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(co))).json()
        assert page["access"] == "full" and "join" in page["allowed"] and "edit_parcours" not in page["allowed"]
        tiles = {t["key"]: t["count"] for t in (await client.get("/api/v1/dashboard", headers=bearer(co))).json()["tiles"]}
        assert (tiles["mine"], tiles["others_accompanied"], tiles["others_not_accompanied"]) == (0, 1, 3)
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(co), json={})
        assert joined.status_code == 200, joined.text
        focus = await client.post(f"/api/v1/notebooks/{SOPHIE}/focuses", headers=bearer(co), json={"theme": "emploi"})
        assert focus.status_code == 201, focus.text
        tiles = {t["key"]: t["count"] for t in (await client.get("/api/v1/dashboard", headers=bearer(co))).json()["tiles"]}
        assert (tiles["mine"], tiles["mine_accompanied"], tiles["others_accompanied"]) == (1, 1, 0)
        page = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(co))).json()
        assert {m["member_type"] for m in page["members"]} == {"referent", "orientation_manager"}
        assert await names(client, co, subject_to_right_and_duty="true") == ["Sophie Tifour"]
        assert await names(client, co, support="not_accompanied") == [
            "Lindsay Aguilar", "Étienne Gonzalez", "Myrna Henderson"]

        # The structure admin: the beneficiaries their structure follows, contact fields and appointments only.
        admin = await sign_in(system, client, "structure@demo.carnet.test")
        assert await names(client, admin) == ["Sophie Tifour"]
        tiles = {t["key"]: t["count"] for t in (await client.get("/api/v1/dashboard", headers=bearer(admin))).json()["tiles"]}
        assert tiles == {"accompanied": 1, "waiting": 0}
        page = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(admin))).json()
        assert page["access"] == "full" and "edit_parcours" not in page["allowed"]
        assert (await client.get(f"/api/v1/notebooks/{MYRNA}", headers=bearer(admin))).json()["access"] == "public"
        fields, version = page["beneficiary"], page["beneficiary"]["version"]
        refused = await client.put(f"/api/v1/notebooks/{SOPHIE}/beneficiary", headers=bearer(admin), json={
            "version": version, "beneficiary": {**fields, "pe_number": "999"}})
        assert refused.status_code == 403 and "identifiant France Travail" in refused.json()["message"]
        moved = await client.put(f"/api/v1/notebooks/{SOPHIE}/beneficiary", headers=bearer(admin), json={
            "version": version, "beneficiary": {**fields, "city": "Bondy", "postal_code": "93140"}})
        assert moved.status_code == 200, moved.text
        pierre = next(m["person"]["person_id"] for m in page["members"] if m["member_type"] == "referent")
        giulia = next(m["person"]["person_id"] for m in page["members"] if m["member_type"] == "orientation_manager")
        tomorrow = datetime.now(PARIS).date() + timedelta(days=1)
        at = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, 30, tzinfo=PARIS).isoformat()
        booked = await client.post(f"/api/v1/notebooks/{SOPHIE}/appointments", headers=bearer(admin),
                                   json={"person_id": pierre, "at": at})
        assert booked.status_code == 201, booked.text
        # Told at once, and reminded the day before (today) by the schedule.
        reminder = await until(lambda: messages_about(system, client, "+33612345678", "SMS"), timeout_s=20)
        assert any("rendez-vous le" in m["text"] for m in reminder)

        async def reminders():
            return [m for m in await system.mailbox(client, "+33612345678")
                    if "rappel, rendez-vous demain à 10:30" in m["text"]]
        assert len(await until(reminders, timeout_s=20)) == 1
        other = await client.post(f"/api/v1/notebooks/{SOPHIE}/appointments", headers=bearer(admin),
                                  json={"person_id": giulia, "at": at})
        assert other.status_code == 403


async def test_referents_and_orientation_managers_are_assigned_in_bulk_within_each_roles_reach(system):
    await seed_demo(system)
    lindsay, etienne = (str(b.notebook_id) for b in DEMO_NOTEBOOKS.beneficiaries[2:4])
    pierre = "93000000-0000-4000-8000-00000000b004"
    giulia = "93000000-0000-4000-8000-00000000b003"
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        await page_with_systems(client, await sign_in(system, client, "pro@demo.carnet.test"), lindsay)

        async def assign(token, path, **body):
            return await client.post(f"/api/v1/notebooks/{path}", headers=bearer(token), json=body)

        done = await assign(manager, "referent-assignments", notebook_ids=[lindsay, etienne], person_id=pierre)
        assert done.status_code == 200 and done.json()["assigned"] == 2, done.text
        assert await names(client, manager, support="accompanied") == ["Lindsay Aguilar", "Étienne Gonzalez"]

        co = await sign_in(system, client, "orientation@demo.carnet.test")
        done = await assign(co, "orientation-manager-assignments", notebook_ids=[lindsay], person_id=giulia)
        assert done.json()["assigned"] == 1
        not_co = await assign(co, "orientation-manager-assignments", notebook_ids=[lindsay], person_id=pierre)
        assert not_co.status_code == 422 and "chargé d'orientation" in not_co.json()["message"]

        admin = await sign_in(system, client, "structure@demo.carnet.test")
        other_structure = await assign(admin, "referent-assignments", notebook_ids=[lindsay], person_id=PRO2)
        assert other_structure.status_code == 422 and "vos structures" in other_structure.json()["message"]
        not_followed = await assign(admin, "referent-assignments", notebook_ids=[MYRNA], person_id=pierre)
        assert not_followed.status_code == 403
        again = await assign(admin, "referent-assignments", notebook_ids=[lindsay], person_id=pierre)
        assert again.json()["assigned"] == 0  # already the référent: nothing changes

        moved = await assign(manager, "referent-assignments", notebook_ids=[lindsay], person_id=PRO2,
                             remove_previous=True)
        assert moved.json()["assigned"] == 1, moved.text
        page = (await client.get(f"/api/v1/notebooks/{lindsay}", headers=bearer(manager))).json()
        active = {m["person"]["lastname"]: m["member_type"] for m in page["members"] if m["ended_at"] is None}
        assert active == {"Anka": "referent", "Diaby": "orientation_manager"}
        assert [s["name"] for s in page["structures"] if s["status"] == "current"] == ["Groupe NS"]
        told = await until(lambda: messages_about(system, client, "pro@demo.carnet.test", "Changement de référent"))
        assert told[0]["links"][0].endswith(f"/carnets/{lindsay}")


@pytest.mark.service_env(notify={"NOTIFY_DIGEST_HOUR": "0"})  # the daily digest goes as soon as there is one
async def test_notifications_follow_each_persons_choice_and_an_admin_resends_what_failed(system):
    await seed_demo(system)
    lindsay = str(DEMO_NOTEBOOKS.beneficiaries[2].notebook_id)
    async with system.client() as client:
        pro, pro2 = (await sign_in(system, client, "pro@demo.carnet.test"),
                     await sign_in(system, client, "pro2@demo.carnet.test"))
        chosen = await client.put("/api/v1/me/notification-preferences", headers=bearer(pro2),
                                  json={"frequency": "daily"})
        assert chosen.status_code == 200 and chosen.json()["frequency"] == "daily"
        assert (await client.get("/api/v1/me/notification-preferences", headers=bearer(pro2))).json() == {
            "frequency": "daily"}
        account = await client.get("/compte", headers=bearer(pro2))
        assert 'id="frequency-daily" name="frequency" value="daily" checked' in account.text

        # Invited into a group, Simon gets it in his daily digest instead of an email of its own.
        for token in (pro, pro2):  # the notebook knows both professionals once directory's events came (CI: slow)
            await page_with_systems(client, token, lindsay)
        joined = await client.post(f"/api/v1/notebooks/{lindsay}/members", headers=bearer(pro),
                                   json={"as_referent": False})
        assert joined.status_code == 200, joined.text
        await until(lambda: page_with_systems(client, pro, lindsay))
        invite = await client.post(f"/api/v1/notebooks/{lindsay}/invitations", headers=bearer(pro),
                                   json={"person_id": PRO2})
        assert invite.status_code == 200, invite.text
        [digest] = await until(lambda: messages_about(system, client, "pro2@demo.carnet.test", "Vos notifications"))
        assert "- Invitation à rejoindre un carnet de bord" in digest["text"]
        assert digest["links"][0].endswith(f"/carnets/{lindsay}")
        assert await messages_about(system, client, "pro2@demo.carnet.test", "Invitation à rejoindre") == []

        # Invited again after today's digest, the message waits for tomorrow's, until Simon changes his mind.
        left = await client.delete(f"/api/v1/notebooks/{lindsay}/members/me", headers=bearer(pro2))
        assert left.status_code == 200, left.text
        again = await client.post(f"/api/v1/notebooks/{lindsay}/invitations", headers=bearer(pro),
                                  json={"person_id": PRO2})
        assert again.status_code == 200, again.text
        admin = await sign_in(system, client, "admin@demo.carnet.test")

        async def held():
            log = (await client.get("/api/v1/deliveries", headers=bearer(admin),
                                    params={"recipient": "pro2@demo.carnet.test", "status": "held"})).json()
            return log["deliveries"]
        [waiting] = await until(held)
        assert waiting["template"] == "notebook_invitation"
        page = await client.get("/envois?statut=held", headers=bearer(admin))
        assert "Pour le résumé du jour" in page.text
        await client.put("/api/v1/me/notification-preferences", headers=bearer(pro2), json={"frequency": "immediate"})
        [alone] = await until(lambda: messages_about(system, client, "pro2@demo.carnet.test", "Invitation à rejoindre"))
        assert alone["links"][0].endswith(f"/carnets/{lindsay}")

        # Sophie chooses SMS and email for her appointments, on her notebook; "Mon compte" is not the place.
        me = await sign_in(system, client, "beneficiaire@demo.carnet.test")
        refused = await client.get("/api/v1/me/notification-preferences", headers=bearer(me))
        assert refused.status_code == 403 and "carnet" in refused.json()["message"]
        mine = (await client.get("/api/v1/me/notebook", headers=bearer(me))).json()
        fields, version = mine["beneficiary"], mine["beneficiary"]["version"]
        no_email = await client.put(f"/api/v1/notebooks/{SOPHIE}/beneficiary", headers=bearer(me), json={
            "version": version, "beneficiary": {**fields, "email": "", "notification_channels": ["sms", "email"]}})
        assert no_email.status_code == 422 and "adresse électronique" in no_email.json()["message"]
        both = await client.put(f"/api/v1/notebooks/{SOPHIE}/beneficiary", headers=bearer(me), json={
            "version": version, "beneficiary": {**fields, "notification_channels": ["sms", "email"]}})
        assert both.status_code == 200, both.text
        member = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(pro),
                                   json={"as_referent": False})
        assert member.status_code == 200, member.text
        at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
        booked = await client.post(f"/api/v1/notebooks/{SOPHIE}/appointments", headers=bearer(pro),
                                   json={"at": at.isoformat(), "status": "planned"})
        assert booked.status_code == 201, booked.text
        [sms] = await system.mailbox(client, "+33612345678")
        [email] = await until(lambda: messages_about(system, client, "beneficiaire@demo.carnet.test",
                                                     "Votre rendez-vous"))
        assert "Pierre Chevalier" in sms["text"] and "Pierre Chevalier" in email["text"]

        # Pierre gives his direct line in "Mon compte": the group's contact column shows it.
        profile = await client.put("/api/v1/me/profile", headers=bearer(pro), json={
            "firstname": "Pierre", "lastname": "Chevalier", "phone": "01 43 00 00 01", "position": "Conseiller"})
        assert profile.status_code == 200, profile.text

        async def new_phone():
            page = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(me))).json()
            return [m for m in page["members"] if m["person"]["phone"] == "+33143000001"]
        await until(new_phone)

        # Resending by hand is for national admins, and for failed or interrupted messages only.
        kept_id = (await client.get("/api/v1/deliveries", headers=bearer(admin),
                                    params={"recipient": "+33612345678"})).json()["deliveries"][0]["message_id"]
        refused = await client.post(f"/api/v1/deliveries/{kept_id}/resend", headers=bearer(pro))
        assert refused.status_code == 403
        delivered = await client.post(f"/api/v1/deliveries/{kept_id}/resend", headers=bearer(admin))
        assert delivered.status_code == 409 and "en échec ou interrompu" in delivered.json()["message"]


async def test_a_referent_asks_for_a_reorientation_and_an_orientation_manager_decides(system):
    await seed_demo(system)
    async with system.client() as client:
        pro, pro2, co = (await sign_in(system, client, "pro@demo.carnet.test"),
                         await sign_in(system, client, "pro2@demo.carnet.test"),
                         await sign_in(system, client, "orientation@demo.carnet.test"))
        page = await page_with_systems(client, pro, SOPHIE)
        systems = {s["name"]: s["orientation_system_id"] for s in page["my_orientation_systems"]}
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(pro),
                                   json={"as_referent": True, "orientation_system_id": systems["Professionnel"]})
        assert joined.status_code == 200, joined.text
        await page_with_systems(client, pro2, SOPHIE)
        assert (await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(pro2),
                                  json={"as_referent": False})).status_code == 200

        # Only the référent asks, once at a time.
        ask = {"orientation_system_id": systems["Social"], "reason": "Réorientation requise"}
        refused = await client.post(f"/api/v1/notebooks/{SOPHIE}/orientation-requests", headers=bearer(pro2), json=ask)
        assert refused.status_code == 403 and "Seul le référent" in refused.json()["message"]
        asked = await client.post(f"/api/v1/notebooks/{SOPHIE}/orientation-requests", headers=bearer(pro), json=ask)
        assert asked.status_code == 201, asked.text
        twice = await client.post(f"/api/v1/notebooks/{SOPHIE}/orientation-requests", headers=bearer(pro), json=ask)
        assert twice.status_code == 409 and "déjà en cours" in twice.json()["message"]

        # The orientation manager finds it in the list ("Avec une demande de réorientation") and on the tiles.
        assert await names(client, co, support="reorientation") == ["Sophie Tifour"]
        tiles = {t["key"]: t["count"] for t in (await client.get("/api/v1/dashboard", headers=bearer(co))).json()["tiles"]}
        assert tiles["others_reorientation"] == 1
        seen = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(co))).json()
        request = seen["orientation_request"]
        assert request["status"] == "pending" and request["requested_orientation_system_name"] == "Social"
        assert "Groupe NS" in {s["name"] for s in (await orientation_options(client, co))["structures"]}

        # "Maintenir l'accompagnement": a reason is required; the référent is told and sees why.
        no_reason = await client.post(f"/api/v1/orientation-requests/{request['request_id']}/denial",
                                      headers=bearer(co), json={"reason": " "})
        assert no_reason.status_code == 422 and "motif" in no_reason.json()["message"]
        denied = await client.post(f"/api/v1/orientation-requests/{request['request_id']}/denial",
                                   headers=bearer(co), json={"reason": "L'accompagnement professionnel continue."})
        assert denied.status_code == 200, denied.text
        again = await client.post(f"/api/v1/orientation-requests/{request['request_id']}/denial",
                                  headers=bearer(co), json={"reason": "Encore"})
        assert again.status_code == 409 and "déjà été traitée" in again.json()["message"]
        await until(lambda: messages_about(system, client, "pro@demo.carnet.test", "Maintien de l'accompagnement"))
        mine = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(pro))).json()["orientation_request"]
        assert mine["status"] == "denied" and mine["decision_reason"] == "L'accompagnement professionnel continue."
        assert await names(client, co, support="reorientation") == []

        # Asked again, then reoriented to Social at Groupe NS with Simon as référent: the request is accepted.
        assert (await client.post(f"/api/v1/notebooks/{SOPHIE}/orientation-requests", headers=bearer(pro),
                                  json=ask)).status_code == 201
        orientation = {"orientation_system_id": systems["Social"], "structure_id": str(DEMO_OTHER_STRUCTURE),
                       "referent_id": PRO1, "reason": "Un accompagnement social renforcé"}
        wrong = await client.put(f"/api/v1/notebooks/{SOPHIE}/orientation", headers=bearer(co), json=orientation)
        assert wrong.status_code == 422 and "structure choisie" in wrong.json()["message"]  # Pierre is not at NS
        by_pro = await client.put(f"/api/v1/notebooks/{SOPHIE}/orientation", headers=bearer(pro),
                                  json={**orientation, "referent_id": PRO2})
        assert by_pro.status_code == 403
        oriented = await client.put(f"/api/v1/notebooks/{SOPHIE}/orientation", headers=bearer(co),
                                    json={**orientation, "referent_id": PRO2})
        assert oriented.status_code == 200, oriented.text
        page = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(pro2))).json()
        assert page["orientation_system_name"] == "Social"
        assert page["orientation_reason"] == "Un accompagnement social renforcé"
        assert page["orientation_request"]["status"] == "accepted"
        assert page["orientation_request"]["decided_orientation_system_name"] == "Social"
        active = {m["person"]["lastname"]: m["member_type"] for m in page["members"] if m["ended_at"] is None}
        assert active == {"Anka": "referent", "Chevalier": "no_referent"}
        assert [s["name"] for s in page["structures"] if s["status"] == "current"] == ["Groupe NS"]
        assert any(e["kind"] == "orientation" and e["summary"].startswith("Réorientation : Social")
                   for e in page["timeline"])
        [told] = await until(lambda: messages_about(system, client, "pro2@demo.carnet.test", "Réorientation"))
        assert told["links"][0].endswith(f"/carnets/{SOPHIE}")

        # A manager takes Pierre out of the group; a professional cannot.
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        assert (await client.delete(f"/api/v1/notebooks/{SOPHIE}/members/{PRO1}",
                                    headers=bearer(pro2))).status_code == 403
        removed = await client.delete(f"/api/v1/notebooks/{SOPHIE}/members/{PRO1}", headers=bearer(manager))
        assert removed.status_code == 200, removed.text
        gone = await client.delete(f"/api/v1/notebooks/{SOPHIE}/members/{PRO1}", headers=bearer(manager))
        assert gone.status_code == 404 and "ne fait pas partie" in gone.json()["message"]
        page = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(manager))).json()
        assert [m["end_reason"] for m in page["members"] if m["person"]["person_id"] == PRO1][-1] == "removed"
        assert any("Pierre Chevalier est retiré du groupe de suivi" in e["summary"] for e in page["timeline"])
