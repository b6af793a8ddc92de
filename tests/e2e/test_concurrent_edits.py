"""Saves at the same moment, through the gateway, on real NATS and both databases: of N saves of one version, one
goes through and the others are told someone saved meanwhile (409, with the current version); N wrong SMS codes at
once still burn the code after five."""
from __future__ import annotations

import asyncio
import re

import pytest
from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY

from contracts.identity import Role
from testkit.system import bearer, sign_in

pytestmark = pytest.mark.e2e

N = 8
SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)
PIERRE = "93000000-0000-4000-8000-00000000b004"  # Pierre Chevalier, professional of the demo (carnet.demo)


async def seed_demo(system) -> None:
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)


async def systems_of(client, token) -> str:
    """The caller's first orientation system, once directory's events reached the notebook's read models."""
    for _ in range(150):
        page = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=bearer(token))).json()
        if page.get("my_orientation_systems"):
            return page["my_orientation_systems"][0]["orientation_system_id"]
        await asyncio.sleep(0.1)
    raise AssertionError("the events never arrived")


def one_winner(answers, version: int) -> None:
    """Exactly one 200 bringing ``version``; every other answer a 409 naming it as the current version."""
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * (len(answers) - 1), [a.text for a in answers]
    [won] = [a for a in answers if a.status_code == 200]
    assert won.json()["version"] == version
    for lost in (a for a in answers if a.status_code == 409):
        assert "pendant que vous" in lost.json()["message"]
        assert lost.json()["details"]["version"] == version


async def test_members_saving_one_version_at_once_cannot_overwrite_each_other(system):
    await seed_demo(system)
    async with system.client() as client:
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        pro2 = await sign_in(system, client, "pro2@demo.carnet.test")
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(pro), json={
            "as_referent": True, "orientation_system_id": await systems_of(client, pro)})
        assert joined.status_code == 200, joined.text
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=bearer(pro2), json={})
        assert joined.status_code == 200, joined.text
        members = [bearer(pro), bearer(pro2)]

        # An objective: N members change its status at the same moment, all from version 1.
        focus = await client.post(f"/api/v1/notebooks/{SOPHIE}/focuses", headers=members[0],
                                  json={"theme": "logement"})
        target = await client.post(f"/api/v1/focuses/{focus.json()['id']}/targets", headers=members[0],
                                   json={"target": "Accéder à un logement"})
        target_id = target.json()["id"]
        statuses = ["done", "abandoned"]
        answers = await asyncio.gather(*(
            client.put(f"/api/v1/targets/{target_id}", headers=members[i % 2], json={
                "version": 1, "status": statuses[i % 2], "linked_to": "no", "reason": f"raison {i}"})
            for i in range(N)))
        one_winner(answers, 2)
        page = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=members[0])).json()
        [saved] = page["focuses"][0]["targets"]
        won = next(i for i, a in enumerate(answers) if a.status_code == 200)
        assert (saved["status"], saved["version"]) == (statuses[won % 2], 2)
        changes = [e for e in page["timeline"] if e["summary"].startswith("Objectif « Accéder à un logement » :")]
        assert len(changes) == 1  # the history tells one change, the one that was saved

        # Its action, the same way.
        action = await client.post(f"/api/v1/targets/{target_id}/actions", headers=members[0],
                                   json={"action": "Demande de logement social"})
        answers = await asyncio.gather(*(
            client.put(f"/api/v1/actions/{action.json()['id']}", headers=members[i % 2],
                       json={"version": 1, "status": ["done", "canceled"][i % 2]})
            for i in range(N)))
        one_winner(answers, 2)

        # The diagnostic and the beneficiary's details, read once, saved N times at once.
        page = (await client.get(f"/api/v1/notebooks/{SOPHIE}", headers=members[0])).json()
        version = page["diagnostic"]["version"]
        answers = await asyncio.gather(*(
            client.put(f"/api/v1/notebooks/{SOPHIE}/diagnostic", headers=members[i % 2], json={
                "version": version, "diagnostic": {"work_situation": "recherche_emploi",
                                                   "work_situation_date": f"2026-06-{10 + i:02d}"}})
            for i in range(N)))
        one_winner(answers, version + 1)
        fields, version = page["beneficiary"], page["beneficiary"]["version"]
        answers = await asyncio.gather(*(
            client.put(f"/api/v1/notebooks/{SOPHIE}/beneficiary", headers=members[0], json={
                "version": version, "beneficiary": {**fields, "city": f"Ville {i}"}})
            for i in range(N)))
        one_winner(answers, version + 1)



async def test_structure_and_person_saves_of_one_version_at_once_let_one_through(system):
    await seed_demo(system)
    async with system.client() as client:
        manager = bearer(await sign_in(system, client, "manager@demo.carnet.test"))
        created = await client.post("/api/v1/structures", headers=manager, json={
            "structure": {"name": "Maison des solidarités", "postal_code": "93190", "city": "Livry-Gargan"}})
        assert created.status_code == 201, created.text
        structure = created.json()
        answers = await asyncio.gather(*(
            client.put(f"/api/v1/structures/{structure['structure_id']}", headers=manager, json={
                "structure_id": structure["structure_id"], "version": structure["version"],
                "structure": {"name": f"Maison des solidarités {i}", "postal_code": "93190",
                              "city": "Livry-Gargan"}})
            for i in range(N)))
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] + [409] * (N - 1), [a.text for a in answers]
        [won] = [a.json() for a in answers if a.status_code == 200]
        assert won["version"] == structure["version"] + 1
        for lost in (a.json() for a in answers if a.status_code == 409):
            assert "Quelqu'un a modifié" in lost["message"] and lost["details"]["current"] == won
        saved = await client.get(f"/api/v1/structures/{structure['structure_id']}", headers=manager)
        assert (saved.json()["name"], saved.json()["version"]) == (won["name"], won["version"])

        # Two managers correcting one professional from pages read at the same version.
        pro = (await client.get(f"/api/v1/people/{PIERRE}", headers=manager)).json()
        answers = await asyncio.gather(*(
            client.put(f"/api/v1/people/{PIERRE}", headers=manager, json={
                "person_id": PIERRE, "version": pro["version"],
                "structure_ids": [s["structure_id"] for s in pro["structures"]],
                "person": {"firstname": pro["firstname"], "lastname": pro["lastname"], "email": pro["email"],
                           "position": f"Conseiller {i}"}})
            for i in range(N)))
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] + [409] * (N - 1), [a.text for a in answers]
        [won] = [a.json() for a in answers if a.status_code == 200]
        assert won["version"] == pro["version"] + 1
        for lost in (a.json() for a in answers if a.status_code == 409):
            assert "Quelqu'un a modifié cette personne" in lost["message"] and lost["details"]["current"] == won
        saved = (await client.get(f"/api/v1/people/{PIERRE}", headers=manager)).json()
        assert (saved["position"], saved["version"]) == (won["position"], won["version"])


BENEFICIARY = next(a for a in DEMO_ACCOUNTS if a.role == Role.beneficiary)


async def test_wrong_sms_codes_sent_at_once_still_burn_the_code_after_five(system):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    phone = "+33" + BENEFICIARY.phone.replace(" ", "")[1:]
    async with system.client() as client:
        asked = await client.post("/api/v1/auth/sms-code", json={"phone": BENEFICIARY.phone})
        assert asked.status_code == 202, asked.text
        [sms] = await system.mailbox(client, phone)
        code = re.search(r"\b(\d{6})\b", sms["text"]).group(1)
        wrongs = [f"{(int(code) + 1 + i) % 1_000_000:06d}" for i in range(N)]
        answers = await asyncio.gather(*(
            client.post("/api/v1/auth/sms-code/verify", json={"phone": phone, "code": wrong}) for wrong in wrongs))
        assert all(a.status_code == 401 for a in answers), [a.text for a in answers]
        # Every wrong code counted: the code is burnt, the right one no longer works.
        burnt = await client.post("/api/v1/auth/sms-code/verify", json={"phone": phone, "code": code})
        assert burnt.status_code == 401, burnt.text
