"""Accounts from invitation to deactivation, through the gateway, on real NATS and both databases."""
from __future__ import annotations

import asyncio
import re
import uuid
from html import unescape

import pytest

from contracts.identity import DemoAccount, DeploymentChoice, Role
from contracts.profiles import ProfessionalCreatedV1, ProfessionalDeactivatedV1
from testkit.system import bearer, csrf_of, link_token, open_link, sign_in, token_of

pytestmark = pytest.mark.e2e

D93 = uuid.UUID("93000000-0000-4000-8000-000000000093")
D51 = uuid.UUID("51000000-0000-4000-8000-000000000051")
S1 = uuid.uuid4()
DEPLOYMENTS = [DeploymentChoice(deployment_id=D93, label="Démo 93", department_code="93"),
               DeploymentChoice(deployment_id=D51, label="Démo 51", department_code="51")]
MANAGER_93 = DemoAccount(email="manager93@demo.carnet.test", role=Role.manager, deployment_id=D93,
                         firstname="Agathe", lastname="Deblouze")
MANAGER_51 = DemoAccount(email="manager51@demo.carnet.test", role=Role.manager, deployment_id=D51,
                         firstname="Marc", lastname="Marne")
BENEFICIARY = DemoAccount(email="sophie@demo.carnet.test", role=Role.beneficiary, deployment_id=D93,
                          firstname="Sophie", lastname="Tifour", phone="06 12 34 56 78")
ADMIN_S1 = DemoAccount(email="admin-s1@demo.carnet.test", role=Role.admin_structure, deployment_id=D93,
                       firstname="Jacques", lastname="Célaire", structure_ids=[S1])
async def test_invited_professional_logs_in_accepts_cgu_completes_onboarding_then_reaches_the_api(system):
    created = ProfessionalCreatedV1(profile_id=uuid.uuid4(), deployment_id=D93, email="Pierre.Chevalier@Livry.fr",
                                    firstname="Pierre", lastname="Chevalier", structure_ids=[S1],
                                    created_by_name="Agathe Deblouze")
    await system.publish(created)
    await system.publish(created)  # redelivered by the bus: one account, one invitation
    email = "pierre.chevalier@livry.fr"
    async with system.client() as client:
        [invitation] = await system.mailbox(client, email)
        assert invitation["subject"] == "Votre compte Carnet de bord a été créé"
        assert "Agathe Deblouze vous a créé un compte" in invitation["text"]
        assert "valable 7 jours" in invitation["text"]

        landed = await open_link(client, invitation["links"][0])
        assert landed.status_code == 303
        refused = await client.get("/api/v1/accounts")
        assert refused.status_code == 403 and "conditions générales" in refused.json()["message"]
        assert refused.json()["details"]["pending_steps"] == ["cgu", "onboarding"]
        assert (await client.get("/", follow_redirects=False)).headers["location"] == "/cgu"

        cgu_page = await client.get("/cgu")
        version = re.search(r'name="version" value="([^"]+)"', cgu_page.text).group(1)
        unchecked = await client.post("/cgu", data={"csrf": csrf_of(client), "version": version})
        assert unchecked.status_code == 422 and "Cochez la case" in unchecked.text
        accepted = await client.post("/cgu", data={"csrf": csrf_of(client), "version": version, "accept": "oui"})
        assert accepted.headers["location"] == "/bienvenue"

        welcome = await client.get("/bienvenue")
        assert "Création de mon compte professionnel" in welcome.text and 'value="Pierre"' in welcome.text
        missing = await client.post("/bienvenue", data={"csrf": csrf_of(client), "firstname": "", "lastname": "X"})
        assert missing.status_code == 422 and "obligatoires" in missing.text
        done = await client.post("/bienvenue", data={"csrf": csrf_of(client), "firstname": "Pierre",
                                                     "lastname": "Chevalier", "phone": "06 11 22 33 44",
                                                     "position": "Conseiller d'insertion"})
        assert "Votre compte a été créé avec succès" in done.text

        me = (await client.get("/api/v1/me")).json()
        assert me["pending_steps"] == [] and me["role"] == "professional"
        assert me["profile_id"] == str(created.profile_id) and me["structure_ids"] == [str(S1)]
        assert me["phone"] == "+33611223344" and me["position"] == "Conseiller d'insertion"
        assert (await client.get("/")).status_code == 200
        assert len(await system.mailbox(client, email)) == 1  # still one invitation


async def test_a_deactivated_account_is_locked_out_at_its_next_request(system):
    await system.seed(MANAGER_93, deployments=DEPLOYMENTS)
    await system.publish(ProfessionalCreatedV1(profile_id=uuid.uuid4(), deployment_id=D93, email="pro@livry.fr",
                                               firstname="Pro", lastname="Fessionnel", structure_ids=[S1]))
    async with system.client() as manager, system.client() as pro:
        pro_token = await sign_in(system, pro, "pro@livry.fr", count=2)  # the invitation came first
        pair = (await pro.post("/api/v1/auth/token", json={"token": await link_token(system, pro, "pro@livry.fr", 3)})).json()
        manager_token = await sign_in(system, manager, MANAGER_93.email)
        accounts = (await manager.get("/api/v1/accounts", headers=bearer(manager_token))).json()["accounts"]
        target = next(a for a in accounts if a["email"] == "pro@livry.fr")
        assert target["allowed_actions"] == ["deactivate", "resend_invitation"]

        off = await manager.post(f"/api/v1/accounts/{target['account_id']}/deactivate", headers=bearer(manager_token))
        assert off.status_code == 200 and off.json()["status"] == "deactivated"

        locked = await pro.get("/api/v1/me", headers=bearer(pro_token))
        assert locked.status_code == 401 and "désactivé" in locked.json()["message"]
        refreshed = await pro.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert refreshed.status_code == 401 and "désactivé" in refreshed.json()["message"]
        asked = await pro.post("/api/v1/auth/magic-link", json={"email": "pro@livry.fr"})
        assert asked.status_code == 202  # the same answer as ever: nothing said to whoever asks
        notice = await system.mailbox(pro, "pro@livry.fr", 4)
        assert notice[0]["subject"] == "Votre compte Carnet de bord a été désactivé"

        again = await manager.post(f"/api/v1/accounts/{target['account_id']}/deactivate", headers=bearer(manager_token))
        assert again.status_code == 409 and "déjà désactivé" in again.json()["message"]
        back = await manager.post(f"/api/v1/accounts/{target['account_id']}/reactivate", headers=bearer(manager_token))
        assert back.json()["status"] == "active"
        history = (await manager.get(f"/api/v1/accounts/{target['account_id']}/logins",
                                     headers=bearer(manager_token))).json()["events"]
        assert {"link_used", "link_requested"} <= {e["kind"] for e in history}


async def test_a_manager_sees_and_manages_only_their_own_territory(system):
    await system.seed(MANAGER_93, MANAGER_51, ADMIN_S1, deployments=DEPLOYMENTS)
    await system.publish(ProfessionalCreatedV1(profile_id=uuid.uuid4(), deployment_id=D93, email="pro93@livry.fr",
                                               firstname="Pro", lastname="Neuf-Trois", structure_ids=[S1]))
    await system.publish(ProfessionalCreatedV1(profile_id=uuid.uuid4(), deployment_id=D93, email="other@asso.fr",
                                               firstname="Autre", lastname="Structure", structure_ids=[uuid.uuid4()]))
    async with system.client() as m93, system.client() as m51, system.client() as admin_s1:
        await system.mailbox(m93, "pro93@livry.fr")
        await system.mailbox(m93, "other@asso.fr")
        token_s1 = await sign_in(system, admin_s1, ADMIN_S1.email)
        seen_by_s1 = (await admin_s1.get("/api/v1/accounts", headers=bearer(token_s1))).json()
        assert [a["email"] for a in seen_by_s1["accounts"]] == ["pro93@livry.fr"] and seen_by_s1["total"] == 1
        token_93 = await sign_in(system, m93, MANAGER_93.email)
        token_51 = await sign_in(system, m51, MANAGER_51.email)
        seen_by_51 = (await m51.get("/api/v1/accounts", headers=bearer(token_51))).json()
        assert {a["email"] for a in seen_by_51["accounts"]} == {MANAGER_51.email}
        pro = next(a for a in (await m93.get("/api/v1/accounts", headers=bearer(token_93))).json()["accounts"]
                   if a["email"] == "pro93@livry.fr")
        for action in ("deactivate", "resend_invitation"):
            refused = await m51.post(f"/api/v1/accounts/{pro['account_id']}/{action}", headers=bearer(token_51))
            assert refused.status_code == 404 and "pas le droit" in refused.json()["message"]
        assert (await m51.get(f"/api/v1/accounts/{pro['account_id']}/logins", headers=bearer(token_51))).status_code == 404


async def test_a_public_sign_up_stays_pending_until_a_manager_of_the_territory_confirms_it(system):
    await system.seed(MANAGER_93, deployments=DEPLOYMENTS)
    async with system.client() as client, system.client() as manager:
        options = (await client.get("/api/v1/auth/options")).json()
        assert {d["department_code"] for d in options["deployments"]} == {"93", "51"}
        body = {"email": "nouvelle@asso.fr", "firstname": "Nadia", "lastname": "Nouvelle", "phone": "",
                "position": "CIP", "deployment_id": str(D93), "structure_name": "Association Tremplin"}
        asked = await client.post("/api/v1/auth/signup-requests", json=body)
        assert asked.status_code == 202 and "gestionnaires du territoire" in asked.json()["message"]
        bad = await client.post("/api/v1/auth/signup-requests", json={**body, "deployment_id": str(uuid.uuid4())})
        assert bad.status_code == 422 and "territoire" in bad.json()["message"]

        await client.post("/api/v1/auth/magic-link", json={"email": "nouvelle@asso.fr"})
        [request_email] = await system.mailbox(manager, MANAGER_93.email)
        assert request_email["subject"] == "Demande de création de compte sur Carnet de bord"
        assert "Association Tremplin" in request_email["text"]
        assert (await client.get("/api/v1/dev/mailbox", params={"to": "nouvelle@asso.fr"})).json() == []  # pending

        token = await sign_in(system, manager, MANAGER_93.email, count=2)
        pending = (await manager.get("/api/v1/accounts", params={"status": "pending"}, headers=bearer(token))).json()
        [request] = pending["accounts"]
        assert request["requested_structure"] == "Association Tremplin"
        assert request["allowed_actions"] == ["confirm", "deactivate"]
        confirmed = await manager.post(f"/api/v1/accounts/{request['account_id']}/confirm", headers=bearer(token))
        assert confirmed.json()["status"] == "active"

        [validated] = await system.mailbox(client, "nouvelle@asso.fr")
        assert validated["subject"] == "Votre demande d'inscription à Carnet de bord est validée"
        assert (await open_link(client, validated["links"][0])).status_code == 303
        assert (await client.get("/api/v1/me")).json()["email"] == "nouvelle@asso.fr"


async def test_beneficiary_logs_in_by_sms_code_and_brute_force_stops_at_five_attempts(system):
    await system.seed(BENEFICIARY, deployments=DEPLOYMENTS)
    phone = "+33612345678"
    async with system.client() as client:
        unknown = await client.post("/api/v1/auth/sms-code", json={"phone": "07 81 23 45 67"})
        known = await client.post("/api/v1/auth/sms-code", json={"phone": "06 12 34 56 78"})
        assert (unknown.status_code, unknown.json()) == (known.status_code, known.json()) == (202, known.json())
        landline = await client.post("/api/v1/auth/sms-code", json={"phone": "01 48 12 34 56"})
        assert landline.status_code == 422 and "portable" in landline.json()["message"]

        [sms] = await system.mailbox(client, phone)
        assert sms["channel"] == "sms" and len(sms["text"]) <= 160
        code = re.search(r"\b(\d{6})\b", sms["text"]).group(1)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            failed = await client.post("/api/v1/auth/sms-code/verify", json={"phone": phone, "code": wrong})
            assert failed.status_code == 401 and "n'est pas valide" in failed.json()["message"]
        burnt = await client.post("/api/v1/auth/sms-code/verify", json={"phone": phone, "code": code})
        assert burnt.status_code == 401  # five failures burnt the code: the right one no longer works

        await client.post("/api/v1/auth/sms-code", json={"phone": "0612345678"})
        [fresh, _old] = await system.mailbox(client, phone, 2)
        code = re.search(r"\b(\d{6})\b", fresh["text"]).group(1)
        pair = await client.post("/api/v1/auth/sms-code/verify", json={"phone": "06 12 34 56 78", "code": code})
        assert pair.status_code == 200
        me = (await client.get("/api/v1/me", headers=bearer(pair.json()["access_token"]))).json()
        assert me["role"] == "beneficiary" and me["pending_steps"] == ["cgu"]


async def test_my_account_lists_sessions_revokes_one_and_changes_email_after_verification(system):
    await system.seed(MANAGER_93, deployments=DEPLOYMENTS)
    async with system.client() as laptop, system.client() as phone:
        token = await sign_in(system, laptop, MANAGER_93.email)
        other = (await phone.post("/api/v1/auth/token",
                                  json={"token": await link_token(system, phone, MANAGER_93.email, 2)})).json()
        sessions = (await laptop.get("/api/v1/me/sessions", headers=bearer(token))).json()["sessions"]
        assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
        other_session = next(s for s in sessions if not s["current"])
        revoked = await laptop.delete(f"/api/v1/me/sessions/{other_session['session_id']}", headers=bearer(token))
        assert revoked.status_code == 200
        assert (await phone.get("/api/v1/me", headers=bearer(other["access_token"]))).status_code == 401
        assert (await phone.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})).status_code == 401
        assert (await laptop.get("/api/v1/me", headers=bearer(token))).status_code == 200

        logins = (await laptop.get("/api/v1/me/logins", headers=bearer(token))).json()["events"]
        assert [e["kind"] for e in logins].count("link_used") == 2

        changed = await laptop.post("/api/v1/me/email", json={"new_email": "agathe@cd93.fr"}, headers=bearer(token))
        assert changed.status_code == 202
        assert (await laptop.get("/api/v1/me", headers=bearer(token))).json()["email"] == MANAGER_93.email
        [verification] = await system.mailbox(laptop, "agathe@cd93.fr")
        assert "/compte/email/" in verification["links"][0]
        confirmed = await open_link(laptop, verification["links"][0])
        assert "Votre nouvelle adresse e-mail est enregistrée" in confirmed.text
        assert (await laptop.get("/api/v1/me", headers=bearer(token))).json()["email"] == "agathe@cd93.fr"
        again = await open_link(laptop, verification["links"][0])
        assert again.status_code == 401


async def test_professionals_log_in_through_an_oidc_provider_matched_on_their_verified_email(system, oidc_issuer):
    from testkit.oidc_issuer import OidcUser

    await system.publish(ProfessionalCreatedV1(profile_id=uuid.uuid4(), deployment_id=D93, email="sso@livry.fr",
                                               firstname="Sam", lastname="Sso", structure_ids=[S1]))
    async with system.client() as client:
        await system.mailbox(client, "sso@livry.fr")
        assert (await client.get("/api/v1/auth/options")).json()["oidc_enabled"] is True
        assert "S'identifier avec ProConnect" in (await client.get("/connexion")).text

        async def through_provider():
            started = await client.get("/auth/oidc")
            assert started.status_code == 303 and started.headers["location"].startswith(oidc_issuer.url)
            async with system.client() as provider_browser:
                back = await provider_browser.get(started.headers["location"])
            callback = back.headers["location"]
            assert callback.startswith(f"{system.base_url}/auth/oidc/callback?")
            return await client.get(callback[len(system.base_url):])

        oidc_issuer.user = OidcUser(email="SSO@livry.fr")
        signed = await through_provider()
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        assert (await client.get("/api/v1/me")).json()["email"] == "sso@livry.fr"
        assert (await client.get("/api/v1/me/logins")).json()["details"]["pending_steps"] == ["cgu", "onboarding"]

        client.cookies.clear()
        oidc_issuer.user = OidcUser(email="inconnu@livry.fr")
        unknown = await through_provider()
        assert unknown.status_code == 401 and "Aucun compte professionnel actif" in unknown.text
        oidc_issuer.user = OidcUser(email="sso@livry.fr", email_verified=False)
        unverified = await through_provider()
        assert unverified.status_code == 401 and "n'a pas abouti" in unescape(unverified.text)
        replayed = await client.get("/auth/oidc/callback?code=x&state=forged")
        assert replayed.status_code == 401

        # Login CSRF: a callback of a login started in another browser (an attacker's, sent as a link) does not
        # sign this one in to the attacker's account.
        client.cookies.clear()
        oidc_issuer.user = OidcUser(email="SSO@livry.fr")
        async with system.client() as attacker:
            started = await attacker.get("/auth/oidc")
            async with system.client() as provider_browser:
                back = await provider_browser.get(started.headers["location"])
            forced = await client.get(back.headers["location"][len(system.base_url):])
            assert forced.status_code == 401 and "depuis ce navigateur" in unescape(forced.text)
            assert (await client.get("/api/v1/me")).status_code == 401
            own = await attacker.get(back.headers["location"][len(system.base_url):])  # not spent by the refusal
            assert own.status_code == 303 and (await attacker.get("/api/v1/me")).status_code == 200


async def test_a_deactivated_profile_in_directory_deactivates_the_account(system):
    profile_id = uuid.uuid4()
    await system.publish(ProfessionalCreatedV1(profile_id=profile_id, deployment_id=D93, email="parti@livry.fr",
                                               firstname="Parti", lastname="Ailleurs", structure_ids=[S1]))
    async with system.client() as client:
        token = await sign_in(system, client, "parti@livry.fr", count=2)
        await system.publish(ProfessionalDeactivatedV1(profile_id=profile_id, deployment_id=D93))
        [notice, *_] = await system.mailbox(client, "parti@livry.fr", 3)
        assert notice["subject"] == "Votre compte Carnet de bord a été désactivé"
        assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401


async def test_no_secret_is_readable_through_the_api_or_the_logs(system):
    await system.seed(MANAGER_93, BENEFICIARY, deployments=DEPLOYMENTS)
    async with system.client() as client:
        token = await sign_in(system, client, MANAGER_93.email)
        await client.post("/api/v1/auth/sms-code", json={"phone": "06 12 34 56 78"})
        [sms] = await system.mailbox(client, "+33612345678")
        code = re.search(r"\b(\d{6})\b", sms["text"]).group(1)
        [link_email] = await system.mailbox(client, MANAGER_93.email)
        secret = token_of(link_email)
        answers = [await client.get(path, headers=bearer(token)) for path in
                   ("/api/v1/me", "/api/v1/accounts", "/api/v1/me/sessions", "/api/v1/me/logins")]
    for answer in answers:
        assert answer.status_code == 200 and secret not in answer.text and "token_hash" not in answer.text
    logs = "".join(p.read_text() for p in system.log_dir.glob("*.log"))
    assert secret not in logs and f"code de connexion est {code}" not in logs


async def test_every_demo_role_logs_in_through_the_api(system):
    from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS

    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    async with system.client() as client:
        for account in DEMO_ACCOUNTS:
            token = await sign_in(system, client, account.email)
            me = (await client.get("/api/v1/me", headers=bearer(token))).json()
            assert (me["role"], me["pending_steps"]) == (account.role.value, [])
            assert me["deployment_id"] == (str(account.deployment_id) if account.deployment_id else None)
            assert me["structure_ids"] == [str(s) for s in account.structure_ids]


async def test_profile_states_arriving_out_of_order_never_undo_a_newer_one(system):
    from datetime import UTC, datetime, timedelta

    from contracts.profiles import ProfessionalUpdatedV1

    profile_id, then = uuid.uuid4(), datetime.now(UTC)
    common = {"profile_id": profile_id, "deployment_id": D93, "firstname": "Léa", "lastname": "Lente", "structure_ids": [S1]}
    # created, updated and deactivated are consumed separately: here the correction overtakes the creation.
    await system.publish(ProfessionalUpdatedV1(**common, email="lea.lente@livry.fr", occurred_at=then))
    async with system.client() as client:
        await system.mailbox(client, "lea.lente@livry.fr")
        await system.publish(ProfessionalCreatedV1(**common, email="lea@livry.fr",
                                                   occurred_at=then - timedelta(seconds=1)))
        token = await sign_in(system, client, "lea.lente@livry.fr", count=2)
        assert (await client.get("/api/v1/me", headers=bearer(token))).json()["email"] == "lea.lente@livry.fr"
        assert (await client.get("/api/v1/dev/mailbox", params={"to": "lea@livry.fr"})).json() == []


async def test_the_operator_creates_the_first_national_administrator_who_signs_in_from_her_invitation(system):
    from carnet.main import app as carnet_app
    from typer.testing import CliRunner

    def carnet(*args: str):
        return CliRunner().invoke(carnet_app, list(args), env={"NATS_URL": system.nats_url})

    command = ("admin", "create", "--email", "Claire.Martin@Departement.fr", "--prenom", "Claire", "--nom", "Martin")
    created = await asyncio.to_thread(carnet, *command)
    assert created.exit_code == 0 and "Compte administrateur créé" in created.output, created.output
    async with system.client() as client:
        [invitation] = await system.mailbox(client, "claire.martin@departement.fr")
        assert "L'équipe qui exploite Carnet de bord vous a créé un compte" in invitation["text"], invitation
        pair = (await client.post("/api/v1/auth/token", json={"token": token_of(invitation)})).json()
        me = (await client.get("/api/v1/me", headers=bearer(pair["access_token"]))).json()
        assert (me["email"], me["role"], me["firstname"]) == ("claire.martin@departement.fr", "admin_cdb", "Claire")

        again = await asyncio.to_thread(carnet, *command)  # her invitation lost: a new one, the same account
        assert again.exit_code == 0 and "existait déjà" in again.output, again.output
        await system.mailbox(client, "claire.martin@departement.fr", 2)

        await system.seed(MANAGER_93, deployments=DEPLOYMENTS)
        taken = await asyncio.to_thread(carnet, "admin", "create", "--email", MANAGER_93.email, "--prenom", "A",
                                        "--nom", "D")
        assert taken.exit_code == 1 and "n'est pas administrateur" in taken.output, taken.output
        manager = await sign_in(system, client, MANAGER_93.email)
        assert (await client.get("/api/v1/me", headers=bearer(manager))).json()["role"] == "manager"
