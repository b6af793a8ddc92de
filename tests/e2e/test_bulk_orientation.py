"""Orientation in bulk through the gateway, on real NATS and both databases: the demo territory's orientation manager
orients 500 notebooks in one decision (each answered « done », one history entry and one
notebook.orientation.changed.v1 each, within seconds); a mixed selection says why each refused notebook was left
alone; 501 is a 422 in French; and the list page's form orients the rows ticked, the référent being told."""
from __future__ import annotations

import time
import uuid
from datetime import date

import pytest
from carnet.demo import DEMO_93, DEMO_OTHER_STRUCTURE, DEMO_TERRITORY
from nats.js.api import DeliverPolicy
from sqlalchemy import func, select

from contracts.directory import DemoPerson, PersonFields
from contracts.notebook import BeneficiaryFields, DemoBeneficiary, OrientationChangedV1, SeedDemoNotebooksV1
from notebook.adapters.orm import TimelineEvent
from servicekit.db import create_engine
from servicekit.bus import client_bus
from testkit.system import bearer, csrf_of, sign_in
from tests.e2e.test_notebook import MYRNA, PRO2, SOPHIE, messages_about, seed_demo, until

pytestmark = pytest.mark.e2e

COUNT = 500


def many(deployment_id: uuid.UUID, count: int, prefix: str) -> list[DemoBeneficiary]:
    return [DemoBeneficiary(notebook_id=uuid.uuid4(), beneficiary_id=uuid.uuid4(), beneficiary=BeneficiaryFields(
        firstname=f"Prénom {n}", lastname=f"{prefix} {n:03d}", date_of_birth=date(1970 + n % 30, 1 + n % 12, 1)))
        for n in range(count)]


async def seed_notebooks(system, deployment_id: uuid.UUID, beneficiaries: list[DemoBeneficiary]) -> None:
    """As the dev seed does: a few RPCs of 250 notebooks, each created by the same use case as one by one."""
    async with client_bus("test", system.nats_url, rpc_timeout_s=120) as bus:
        for start in range(0, len(beneficiaries), 250):
            await bus.call(SeedDemoNotebooksV1(deployment_id=deployment_id,
                                               beneficiaries=beneficiaries[start:start + 250]))


async def orientation_events(system, wanted: set[uuid.UUID], timeout_s: float = 60) -> dict[uuid.UUID, int]:
    """How many notebook.orientation.changed.v1 the stream holds for each notebook of ``wanted`` (read from the
    stream's start once all have arrived, and then until nothing more comes)."""
    counts: dict[uuid.UUID, int] = {}
    async with client_bus("test", system.nats_url) as bus:
        sub = await bus.stream_context.subscribe(OrientationChangedV1.subject, ordered_consumer=True,
                                                 deliver_policy=DeliverPolicy.ALL)
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                try:
                    message = await sub.next_msg(timeout=2)
                except TimeoutError:
                    if wanted <= counts.keys():
                        break
                    continue
                event = OrientationChangedV1.model_validate_json(message.data)
                counts[event.notebook_id] = counts.get(event.notebook_id, 0) + 1
        finally:
            await sub.unsubscribe()
    return counts


async def test_an_orientation_manager_orients_500_notebooks_in_one_decision(system):
    await seed_demo(system)
    selection = many(DEMO_93, COUNT, "Masse")
    started = time.monotonic()
    await seed_notebooks(system, DEMO_93, selection)
    seeded_in = time.monotonic() - started
    ids = [str(b.notebook_id) for b in selection]
    # Another territory's notebook: out of the orientation manager's scope.
    d51 = DEMO_TERRITORY.model_copy(update={
        "deployment_id": uuid.uuid4(), "label": "Démo 51", "department_code": "51", "structures": [],
        "people": [DemoPerson(person_id=uuid.uuid4(), role="manager",
                              person=PersonFields(firstname="Marc", lastname="Marne", email="marc@cd51.fr"))]})
    await system.call(d51)
    [elsewhere] = many(d51.deployment_id, 1, "Ailleurs")
    await seed_notebooks(system, d51.deployment_id, [elsewhere])

    async with system.client() as client:
        co = await sign_in(system, client, "orientation@demo.carnet.test")
        pro2 = await sign_in(system, client, "pro2@demo.carnet.test")

        async def options_known():  # directory's events: the systems, Groupe NS and Simon's systems
            answer = (await client.get("/api/v1/orientations/options", headers=bearer(co))).json().get("options", {})
            simon = [p for p in answer.get("referents", []) if p["person_id"] == PRO2]
            systems = {s["name"] for s in answer.get("orientation_systems", [])}
            structures = {s["structure_id"] for s in answer.get("structures", [])}
            ready = "Social" in systems and str(DEMO_OTHER_STRUCTURE) in structures
            return answer if ready and simon and simon[0]["orientation_system_ids"] else None
        options = await until(options_known)
        systems = {s["name"]: s["orientation_system_id"] for s in options["orientation_systems"]}
        assert DEMO_OTHER_STRUCTURE in {uuid.UUID(s["structure_id"]) for s in options["structures"]}
        decision = {"orientation_system_id": systems["Social"], "structure_id": str(DEMO_OTHER_STRUCTURE),
                    "reason": "Commission d'orientation du mois"}

        # 500 notebooks, one decision, within seconds.
        started = time.monotonic()
        answer = await client.post("/api/v1/orientations/bulk", headers=bearer(co),
                                   json={"notebook_ids": ids, **decision}, timeout=120)
        decided_in = time.monotonic() - started
        assert answer.status_code == 200, answer.text
        reply = answer.json()
        assert (reply["done"], reply["refused"]) == (COUNT, 0)
        assert [r["notebook_id"] for r in reply["results"]] == ids
        assert {r["status"] for r in reply["results"]} == {"done"}
        assert reply["results"][7]["lastname"] == "Masse 007"
        print(f"{COUNT} notebooks seeded in {seeded_in:.1f} s, oriented in one decision in {decided_in:.1f} s")
        assert decided_in < 60, f"500 notebooks oriented in {decided_in:.1f} s (seeded in {seeded_in:.1f} s)"

        # One notebook.orientation.changed.v1 for each, through the outbox and the stream.
        counts = await orientation_events(system, {b.notebook_id for b in selection})
        assert {b.notebook_id: counts.get(b.notebook_id, 0) for b in selection} == {
            b.notebook_id: 1 for b in selection}

        # One history entry each: counted in notebook's database (500 pages would take long on a loaded machine),
        # and seen through the API on a few.
        engine = create_engine(system.database_urls["notebook"])
        try:
            async with engine.connect() as connection:
                rows = (await connection.execute(
                    select(TimelineEvent.notebook_id, func.count()).where(TimelineEvent.kind == "orientation")
                    .group_by(TimelineEvent.notebook_id))).all()
        finally:
            await engine.dispose()
        entries = {uuid.UUID(str(notebook_id)): count for notebook_id, count in rows}
        assert {b.notebook_id: entries.get(b.notebook_id, 0) for b in selection} == {
            b.notebook_id: 1 for b in selection}
        for notebook_id in (ids[0], ids[250], ids[-1]):
            page = (await client.get(f"/api/v1/notebooks/{notebook_id}", headers=bearer(co))).json()
            assert page["orientation_system_name"] == "Social"
            assert page["orientation_reason"] == "Commission d'orientation du mois"
            assert [e["summary"] for e in page["timeline"] if e["kind"] == "orientation"] == [
                "Orientation : Social, suivi par Groupe NS"]
            assert [s["name"] for s in page["structures"] if s["status"] == "current"] == ["Groupe NS"]

        # A mixed selection: each refused one says why and changes nothing.
        unknown = str(uuid.uuid4())
        mixed = await client.post("/api/v1/orientations/bulk", headers=bearer(co), json={
            "notebook_ids": [ids[0], str(elsewhere.notebook_id), unknown, SOPHIE], **decision})
        assert mixed.status_code == 200, mixed.text
        results = mixed.json()["results"]
        assert [r["status"] for r in results] == ["refused", "refused", "refused", "done"]
        assert "Déjà orienté ainsi" in results[0]["reason"]
        assert results[1]["reason"] == results[2]["reason"] and "Aucun carnet" in results[1]["reason"]
        assert results[1]["lastname"] == "" and results[3]["lastname"] == "Tifour"

        # 501: refused as a whole, in French, before anything is done.
        too_many = await client.post("/api/v1/orientations/bulk", headers=bearer(co), json={
            "notebook_ids": [*ids, unknown], **decision})
        assert too_many.status_code == 422
        assert "500 carnets au plus : 501 sont sélectionnés" in too_many.json()["message"]
        # Only those who may orient do.
        assert (await client.post("/api/v1/orientations/bulk", headers=bearer(pro2), json={
            "notebook_ids": [MYRNA], **decision})).status_code == 403

        # The list page: tick Myrna, choose Simon as référent; the result page, and Simon is told.
        listing = await client.get("/beneficiaires", headers=bearer(co), params={"q": "Henderson"})
        assert listing.status_code == 200  # the decision's lists (the territory's people) once asked for
        assert 'href="/beneficiaires?q=Henderson&amp;orienter=1">Orienter plusieurs' in listing.text
        assert "Orienter les bénéficiaires sélectionnés" not in listing.text and "bulk-referent" not in listing.text
        listing = await client.get("/beneficiaires", headers=bearer(co), params={"q": "Henderson", "orienter": "1"})
        assert "Orienter les bénéficiaires sélectionnés" in listing.text
        assert "Sélectionner tous les bénéficiaires de cette page" in listing.text
        nothing = await client.post("/beneficiaires/orientation", headers=bearer(co), data={
            "csrf": csrf_of(client), "bulk_orientation_system_id": systems["Social"],
            "bulk_structure_id": str(DEMO_OTHER_STRUCTURE)})
        assert nothing.status_code == 422 and "Sélectionnez au moins un bénéficiaire" in nothing.text
        # The form is parsed by the API's body model: a structure that is not one is said in French, the choices
        # kept, nothing oriented (Myrna is oriented just below, not refused as already oriented so).
        bad = await client.post("/beneficiaires/orientation", headers=bearer(co), data={
            "csrf": csrf_of(client), "all_on_page": "1", "page_ids": [MYRNA],
            "bulk_orientation_system_id": systems["Social"], "bulk_structure_id": "pas-une-structure",
            "bulk_reason": "Motif <gardé>"})
        assert bad.status_code == 422 and "La structure n&#39;est pas un identifiant valide." in bad.text
        assert f'<option value="{systems["Social"]}" selected>' in bad.text
        assert "Motif &lt;gardé&gt;</textarea>" in bad.text
        shown = await client.post("/beneficiaires/orientation", headers=bearer(co), data={
            "csrf": csrf_of(client), "all_on_page": "1", "page_ids": [MYRNA],
            "bulk_orientation_system_id": systems["Social"], "bulk_structure_id": str(DEMO_OTHER_STRUCTURE),
            "bulk_referent_id": PRO2})
        assert shown.status_code == 200, shown.text
        assert "Résultat de l'orientation" in shown.text and "1 bénéficiaire orienté, 0 refusé" in shown.text
        assert "HENDERSON Myrna" in shown.text and "référent Simon Anka" in shown.text
        # Told once for the decision (not once per notebook), with a link to his beneficiaries.
        [told] = await until(lambda: messages_about(system, client, "pro2@demo.carnet.test",
                                                    "Des bénéficiaires vous sont orientés"), timeout_s=60)
        assert told["links"][0].endswith("/beneficiaires?mine=1") and "1 bénéficiaire" in told["text"]
        assert await messages_about(system, client, "pro2@demo.carnet.test", "Orientation d'un bénéficiaire") == []
        page = (await client.get(f"/api/v1/notebooks/{MYRNA}", headers=bearer(pro2))).json()
        assert {m["person"]["person_id"]: m["member_type"] for m in page["members"] if m["ended_at"] is None} == {
            PRO2: "referent"}


        # « Rattacher » on the same list, parsed by the API's body model (referent-assignments): a référent that is
        # not one is said in French and Myrna's group stays as it is; the chargé d'orientation is assigned.
        refused = await client.post("/beneficiaires/rattachement", headers=bearer(co), data={
            "csrf": csrf_of(client), "notebook_ids": [MYRNA], "referent_id": "pas-un-referent", "assign": "referent"})
        assert refused.status_code == 422 and "La personne n&#39;est pas un identifiant valide." in refused.text
        after = (await client.get(f"/api/v1/notebooks/{MYRNA}", headers=bearer(pro2))).json()
        assert after["members"] == page["members"]
        me = (await client.get("/api/v1/me", headers=bearer(co))).json()
        assigned = await client.post("/beneficiaires/rattachement", headers=bearer(co), data={
            "csrf": csrf_of(client), "notebook_ids": [MYRNA], "orientation_manager_id": me["profile_id"],
            "assign": "co"})
        assert assigned.status_code == 303 and assigned.headers["location"].endswith("notice=co"), assigned.text
