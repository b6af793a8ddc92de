"""Retention (issue 21 item 1) through the gateway, on real NATS and both databases: the demo territory keeps notebooks
1 month without activity; Sophie Tifour's notebook (her account used, an appointment booked — an SMS sent — a free
text on her parcours) has had none for three months. The managers' dry run lists her; the run publishes one
``notebook.retention.due.v1``; identity, notify and the import service erase and confirm; the notebook erases last.
Then a scan of every table of every service database, and of every message of every stream, finds none of her values
(the same scans found them before: her account, notebook, pilotage row, messages, a saved query and an export named
after her), and the territory's dashboard counts are what they were. The policy's rules: 1 to 36 months (French
refusals), managers only, an extension needs a reason and is recorded."""
from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape

import nats
import pytest
from carnet.demo import DEMO_BENEFICIARY_PHONE, DEMO_NOTEBOOKS
from carnet.main import app as carnet_app
from sqlalchemy import MetaData, select, update
from testkit.clock import paris_today
from testkit.system import bearer, csrf_of, sign_in
from typer.testing import CliRunner

from contracts.retention import RunRetentionV1
from contracts.streams import ALL_STREAMS, SECRETS
from nats.js.errors import NotFoundError
from notebook.adapters.orm import Notebook, TimelineEvent
from servicekit.db import create_engine
from tests.e2e.test_exports import finished
from tests.e2e.test_imports import apply, beneficiaries_csv, counts, open_territory, person, reviewed
from tests.e2e.test_notebook import page_with_systems, seed_demo, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SOPHIE = DEMO_NOTEBOOKS.beneficiaries[0]
MYRNA = str(DEMO_NOTEBOOKS.beneficiaries[1].notebook_id)
FREE_TEXT = "Projet Quokkazanzibar"
HER_VALUES = ("Tifour", "2800593190123", "beneficiaire@demo.carnet.test", DEMO_BENEFICIARY_PHONE, "0612345678",
              "+33612345678", FREE_TEXT)


def counts_of(dashboard: dict) -> dict:
    return {(f["key"], s["name"], p["label"]): p["value"]
            for f in dashboard["figures"] for s in f["series"] for p in s["points"]}


async def traces_in_databases(system, values=HER_VALUES) -> list[str]:
    """Every row of every table of every service database, as text, holding one of her values."""
    found = []
    for service, url in system.database_urls.items():
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                metadata = MetaData()
                await connection.run_sync(metadata.reflect)
                for table in metadata.sorted_tables:
                    for row in (await connection.execute(select(table))).all():
                        text = " ".join(v.decode("utf-8", "replace") if isinstance(v, bytes | memoryview) and not
                                        isinstance(v, memoryview) else bytes(v).decode("utf-8", "replace")
                                        if isinstance(v, memoryview) else
                                        json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else str(v)
                                        for v in row)
                        for value in values:
                            if value.lower() in text.lower():
                                found.append(f"{service}.{table.name}: {value} in {text[:300]}")
        finally:
            await engine.dispose()
    return found


async def traces_in_streams(system) -> list[str]:
    """Every message of every stream holding one of her values; SECRETS aside: a login link lives there for its own
    lifetime (15 minutes, the stream's max_age), read by no one but notify, and no service may read it to purge it."""
    found = []
    connection = await nats.connect(system.nats_url)
    js = connection.jetstream()
    try:
        for spec in ALL_STREAMS:
            if spec.name == SECRETS.name:
                continue
            info = await js.stream_info(spec.name)
            if not info.state.messages:
                continue
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                try:
                    message = await js.get_msg(spec.name, seq)
                except NotFoundError:
                    continue
                data = (message.data or b"").decode("utf-8", "replace").lower()
                found += [f"{spec.name}#{seq} {message.subject}: {value}" for value in HER_VALUES
                          if value.lower() in data]
    finally:
        await connection.close()
    return found


async def test_a_purge_leaves_no_trace_of_an_expired_beneficiary_and_the_counts_stay(system):
    await seed_demo(system)
    notebook_id = str(SOPHIE.notebook_id)
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        await sign_in(system, client, "beneficiaire@demo.carnet.test")
        h = bearer(pro)
        page = await page_with_systems(client, pro, notebook_id)
        joined = await client.post(f"/api/v1/notebooks/{notebook_id}/members", headers=h, json={
            "as_referent": True, "orientation_system_id": page["my_orientation_systems"][0]["orientation_system_id"]})
        assert joined.status_code == 200, joined.text
        focus = await client.post(f"/api/v1/notebooks/{notebook_id}/focuses", headers=h, json={"theme": "logement"})
        target = await client.post(f"/api/v1/focuses/{focus.json()['id']}/targets", headers=h, json={
            "target": FREE_TEXT, "linked_to": "cer", "user_consent": True})
        assert target.status_code == 201, target.text
        at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
        booked = await client.post(f"/api/v1/notebooks/{notebook_id}/appointments", headers=h,
                                   json={"at": at.isoformat(), "status": "planned"})
        assert booked.status_code == 201, booked.text
        await system.mailbox(client, "+33612345678")

        # The policy: managers only, 1 to 36 months, refused in French.
        assert (await client.get("/api/v1/retention", headers=h)).status_code == 403
        for wrong in (0, 37):
            refused = await client.put("/api/v1/retention", headers=bearer(manager), json={"months": wrong})
            assert refused.status_code == 422 and "entre 1 et 36" in refused.json()["message"], refused.text
        assert (await client.get("/api/v1/retention", headers=bearer(manager))).json()["months"] == 24
        # The page's forms: the months (refused in French out of range), an extension (a reason required).
        lindsay = str(DEMO_NOTEBOOKS.beneficiaries[2].notebook_id)
        async with system.client() as browser:
            browser.headers.update(bearer(manager))
            page = await browser.get("/territoire/conservation")
            assert page.status_code == 200 and "Conservation des données" in page.text
            too_long = await browser.post("/territoire/conservation/duree", data={"csrf": csrf_of(browser),
                                                                                 "months": "40"})
            assert too_long.status_code == 422 and "entre 1 et 36" in too_long.text
            assert 'name="months" min="1" max="36" required value="40"' in too_long.text  # as typed, to correct
            not_a_number = await browser.post("/territoire/conservation/duree", data={"csrf": csrf_of(browser),
                                                                                      "months": "douze"})
            assert not_a_number.status_code == 422
            assert "La durée de conservation (en mois) doit être un nombre entier." in unescape(not_a_number.text)
            saved = await browser.post("/territoire/conservation/duree", data={"csrf": csrf_of(browser), "months": "1"})
            assert saved.status_code == 303, saved.text
            later = (paris_today() + timedelta(days=60)).isoformat()
            blank = await browser.post(f"/territoire/conservation/{lindsay}/prolonger", data={
                "csrf": csrf_of(browser), "until": later, "reason": ""})
            assert blank.status_code == 422 and "raison" in blank.text
            bad_day = await browser.post(f"/territoire/conservation/{lindsay}/prolonger", data={
                "csrf": csrf_of(browser), "until": "31/12/2030", "reason": "Demande <du> juge"})
            assert bad_day.status_code == 422 and "La date de fin n&#39;est pas une date valide" in bad_day.text
            extended_by_form = await browser.post(f"/territoire/conservation/{lindsay}/prolonger", data={
                "csrf": csrf_of(browser), "until": later, "reason": "Demande du juge"})
            assert extended_by_form.status_code == 303, extended_by_form.text
        kept = (await client.get("/api/v1/retention", headers=bearer(manager))).json()
        assert kept["months"] == 1 and kept["due"] == [] and kept["updated_by_name"]

        # An extension needs a reason, and is recorded with it.
        until_day = (paris_today() + timedelta(days=90)).isoformat()
        no_reason = await client.post(f"/api/v1/retention/notebooks/{MYRNA}/extensions", headers=bearer(manager),
                                      json={"until": until_day, "reason": " "})
        assert no_reason.status_code == 422 and "raison" in no_reason.json()["message"]
        extended = await client.post(f"/api/v1/retention/notebooks/{MYRNA}/extensions", headers=bearer(manager),
                                     json={"until": until_day, "reason": "Procédure contentieuse en cours"})
        assert extended.status_code == 201, extended.text
        # Another territory's manager: its own policy, none of these notebooks (the same 404 as an unknown one).
        elsewhere = await open_territory(system, client)
        theirs = (await client.get("/api/v1/retention", headers=elsewhere.h)).json()
        assert theirs["months"] == 24 and theirs["extensions"] == []
        for notebook in (MYRNA, str(uuid.uuid4())):
            out_of_reach = await client.post(f"/api/v1/retention/notebooks/{notebook}/extensions",
                                             headers=elsewhere.h, json={"until": until_day, "reason": "Erreur"})
            assert out_of_reach.status_code == 404, out_of_reach.text

        # Her notebook's activity three months ago (as if nobody had touched it since).
        engine = create_engine(system.database_urls["notebook"])
        long_ago = datetime.now(UTC) - timedelta(days=100)
        try:
            async with engine.begin() as connection:
                await connection.execute(update(TimelineEvent).where(
                    TimelineEvent.notebook_id == SOPHIE.notebook_id).values(occurred_at=long_ago))
                await connection.execute(update(Notebook).where(Notebook.id == SOPHIE.notebook_id).values(
                    updated_at=long_ago))
        finally:
            await engine.dispose()

        async def dashboard_ready():
            answer = await client.get("/api/v1/pilotage/dashboard", headers=bearer(manager))
            assert answer.status_code == 200, answer.text
            body = answer.json()
            support = next(f for f in body["figures"] if f["key"] == "accompagnement")
            return body if sum(s["points"][-1]["value"] for s in support["series"]) >= 4 else None
        before = counts_of(await until(dashboard_ready, timeout_s=90))

        # The dry run: she is listed, with her last activity; Myrna's extension is shown with its reason.
        dry = (await client.get("/api/v1/retention", headers=bearer(manager))).json()
        assert [d["beneficiary_name"] for d in dry["due"]] == ["Sophie Tifour"], dry
        assert (await client.get("/api/v1/retention", headers=elsewhere.h)).json()["due"] == []
        assert sorted((e["beneficiary_name"], e["reason"]) for e in dry["extensions"]) == [
            ("Lindsay Aguilar", "Demande du juge"), ("Myrna Henderson", "Procédure contentieuse en cours")]
        html = await client.get("/territoire/conservation", headers=bearer(manager))
        assert html.status_code == 200 and "Sophie Tifour" in html.text and "Prolonger" in html.text
        assert (await system.call(RunRetentionV1(dry_run=True))).due == [SOPHIE.notebook_id]
        # The operator's dry run says the same (and erases nothing either).
        dry_cli = await asyncio.to_thread(CliRunner().invoke, carnet_app, ["retention", "run", "--dry-run"],
                                          env={"NATS_URL": system.nats_url})
        assert dry_cli.exit_code == 0 and notebook_id in dry_cli.output, dry_cli.output
        assert (await client.get(f"/api/v1/notebooks/{notebook_id}", headers=h)).status_code == 200

        # A manager follows her with a query named after her, and exports with it: the label names her too.
        saved = await client.post("/api/v1/queries", headers=bearer(manager), json={"name": "Suivi Tifour"})
        assert saved.status_code == 201, saved.text
        started = await client.post("/api/v1/exports", headers=bearer(manager), json={
            "list_name": "beneficiaries", "format": "csv", "query_id": saved.json()["query_id"]})
        assert started.status_code == 202, started.text
        await finished(client, manager, started.json()["export_id"])

        # The scans see her before the purge (in each of these tables at least, and in the streams).
        seen = {trace.split(":")[0] for trace in await traces_in_databases(system)}
        assert {"identity.account", "notebook.beneficiary", "notebook.target", "notebook.pilotage_notebook",
                "notebook.saved_query", "notebook.export_job", "notify.outgoing_message"} <= seen, seen
        assert await traces_in_streams(system)

        ran = await system.call(RunRetentionV1())
        assert ran.due == [SOPHIE.notebook_id]

        async def purged():
            return (await client.get("/api/v1/retention", headers=bearer(manager))).json()["purged"] == 1
        await until(purged, timeout_s=60)
        assert (await client.get(f"/api/v1/notebooks/{notebook_id}", headers=h)).status_code == 404
        assert (await system.call(RunRetentionV1())).due == []  # announced once

        assert await traces_in_databases(system) == []

        async def streams_clean():  # each service sweeps its stream after its transaction
            return not await traces_in_streams(system)
        try:
            await until(streams_clean, timeout_s=30)
        except AssertionError:
            assert await traces_in_streams(system) == []
        after = counts_of((await client.get("/api/v1/pilotage/dashboard", headers=bearer(manager))).json())
        assert after == before


IMPORTED = ("Zorglubovski", "1850775123456", "0677889900")


async def sms_sign_in(system, client, phone: str) -> str:
    """A beneficiary's login by SMS code, her CGU accepted: her access token."""
    await client.post("/api/v1/auth/sms-code", json={"phone": phone})
    [sms] = await system.mailbox(client, "+33" + phone[1:])
    code = re.search(r"\b(\d{6})\b", sms["text"]).group(1)
    pair = (await client.post("/api/v1/auth/sms-code/verify", json={"phone": phone, "code": code})).json()
    me = (await client.get("/api/v1/me", headers=bearer(pair["access_token"]))).json()
    answer = await client.post("/api/v1/me/cgu", json={"version": me["cgu_version"]},
                               headers=bearer(pair["access_token"]))
    return answer.json()["access_token"]


async def test_an_imported_beneficiary_purged_leaves_no_row_of_the_import_holding_her(system):
    """Her import rows: the one applied (known by the notebook's record) and one refused (found by her NIR) lose their
    cells; the import's counts stay."""
    await seed_demo(system)
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        her = person("Z1", "Quentin", "Zorglubovski", "1985-07-01", NIR="1850775123456", **{"Téléphone": "0677889900"})
        created = await reviewed(client, manager, "beneficiaries", "b.csv", beneficiaries_csv([her]))
        assert counts(await apply(client, manager, created["import_id"]))[0] == 1
        wrong = person("Z2", "Quentin", "Zorglubovski", "pas une date", NIR="1850775123456")
        refused = await reviewed(client, manager, "beneficiaries", "b2.csv", beneficiaries_csv([wrong]))
        homonym = person("Z3", "Quentin", "Zorglubovski", "pas une date", NIR="1990699123456")
        await reviewed(client, manager, "beneficiaries", "b3.csv", beneficiaries_csv([homonym]))
        answer = await client.get("/api/v1/notebooks", headers=bearer(manager), params={"q": "Zorglubovski"})
        [notebook] = answer.json()["notebooks"]

        # Her copy of her data holds both lines about her (applied; refused, found by her NIR), not the homonym's.
        data = (await client.get("/api/v1/me/data", headers=bearer(await sms_sign_in(system, client, IMPORTED[2])))
                ).json()
        [lines] = [s["data"] for s in data["sections"] if (s["service"], s["key"]) == ("data_import", "import_rows")]
        assert [(line["fichier"], line["statut"], line["cellules"]["NIR"]) for line in lines] == [
            ("b.csv", "nouveau", "1850775123456"), ("b2.csv", "invalide", "1850775123456")], lines

        assert (await client.put("/api/v1/retention", headers=bearer(manager), json={"months": 1})).status_code == 200
        engine = create_engine(system.database_urls["notebook"])
        long_ago = datetime.now(UTC) - timedelta(days=100)
        try:
            async with engine.begin() as connection:
                await connection.execute(update(TimelineEvent).where(
                    TimelineEvent.notebook_id == uuid.UUID(notebook["notebook_id"])).values(occurred_at=long_ago))
                await connection.execute(update(Notebook).where(
                    Notebook.id == uuid.UUID(notebook["notebook_id"])).values(updated_at=long_ago))
        finally:
            await engine.dispose()
        assert (await system.call(RunRetentionV1())).due == [uuid.UUID(notebook["notebook_id"])]

        async def purged():
            return (await client.get("/api/v1/retention", headers=bearer(manager))).json()["purged"] == 1
        await until(purged, timeout_s=60)
        assert await traces_in_databases(system, IMPORTED) == []
        assert counts((await client.get(f"/api/v1/imports/{created['import_id']}", headers=bearer(manager))).json()
                      )[0] == 1
        assert (await client.get(f"/api/v1/imports/{refused['import_id']}", headers=bearer(manager))).status_code == 200
