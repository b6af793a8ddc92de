"""The notebook page served fast is the page read the slow way (issue 19), on real NATS and both databases: after
random changes (identity, diagnostic, work axes, objectives, actions, appointments), the gateway's JSON (the
service's reply passed on unparsed, theme labels from the referentials held in memory, the access log written in
group commit) equals, section by section, the page rebuilt straight from the notebook's database by the reference
readers (ORM rows, a query for each label), and the JSON that the reply's model gives."""
from __future__ import annotations

import random
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY

from contracts.notebook import GetNotebookPageV1, NotebookPage
from notebook.adapters.orm import Notebook
from notebook.config import NotebookSettings
from notebook.handlers.page_reference import (appointments_of, diagnostic_view, members_of, parcours_of,
                                               structures_of, timeline_of)
from servicekit.db import create_engine, sessionmaker
from testkit.clock import PARIS, paris_today
from testkit.system import bearer, sign_in

pytestmark = pytest.mark.e2e

SOPHIE = DEMO_NOTEBOOKS.beneficiaries[0].notebook_id
SECTIONS = ("members", "structures", "diagnostic", "focuses", "appointments", "timeline")


async def reference_sections(database_url: str) -> dict:
    """The page's sections as the reference readers build them from the database."""
    engine = create_engine(database_url)
    try:
        async with sessionmaker(engine)() as session:
            notebook = await session.get(Notebook, SOPHIE)
            sections = {
                "members": await members_of(session, notebook), "structures": await structures_of(session, notebook),
                "diagnostic": await diagnostic_view(session, notebook), "focuses": await parcours_of(session, notebook),
                "appointments": await appointments_of(session, notebook),
                "timeline": await timeline_of(session, notebook, GetNotebookPageV1(notebook_id=SOPHIE),
                                              NotebookSettings().page_timeline_limit)}
    finally:
        await engine.dispose()
    return {name: _json(value) for name, value in sections.items()}


def _json(value):
    if value is None:
        return None
    if isinstance(value, list):
        return [item.model_dump(mode="json") for item in value]
    return value.model_dump(mode="json")


async def test_the_fast_page_equals_the_page_read_the_slow_way_after_random_changes(system):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    chance = random.Random(19)
    async with system.client() as client:
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        h = bearer(pro)
        url = f"/api/v1/notebooks/{SOPHIE}"
        for _ in range(450):  # the orientation systems reach notebook by events
            page = (await client.get(url, headers=h)).json()
            if page.get("my_orientation_systems"):
                break
        system_id = page["my_orientation_systems"][0]["orientation_system_id"]
        assert (await client.post(f"{url}/members", headers=h, json={
            "as_referent": True, "orientation_system_id": system_id})).status_code == 200
        referentials = (await client.get("/api/v1/referentials", headers=h)).json()
        focuses, targets = [], []
        themes = list(referentials["focus_themes"])  # a work axis per theme
        chance.shuffle(themes)

        async def change() -> None:
            page = (await client.get(url, headers=h)).json()
            kind = chance.choice(["identity", "diagnostic", "focus", "target", "action", "appointment"])
            if kind == "action" and targets:
                answer = await client.post(f"/api/v1/targets/{chance.choice(targets)}/actions", headers=h,
                                           json={"action": f"Action {chance.randrange(1000)}"})
            elif kind in ("target", "action") and focuses or kind == "focus" and not themes:
                answer = await client.post(f"/api/v1/focuses/{chance.choice(focuses)}/targets", headers=h, json={
                    "target": f"Objectif {chance.randrange(1000)}", "user_consent": True})
                targets.append(answer.json().get("id"))
            elif kind in ("focus", "target", "action"):
                answer = await client.post(f"{url}/focuses", headers=h, json={"theme": themes.pop()})
                focuses.append(answer.json().get("id"))
            elif kind == "identity":
                fields = {**page["beneficiary"], "city": f"Ville {chance.randrange(1000)}"}
                answer = await client.put(f"{url}/beneficiary", headers=h, json={
                    "version": fields["version"], "beneficiary": fields})
            elif kind == "diagnostic":
                situations = chance.sample([s["id"] for s in referentials["situations"]], chance.randrange(6))
                answer = await client.put(f"{url}/diagnostic", headers=h, json={
                    "version": page["diagnostic"]["version"],
                    "diagnostic": {"work_situation": "recherche_emploi", "situation_ids": situations}})
            else:
                at = datetime.combine(paris_today() + timedelta(days=chance.randrange(-30, 30)), time(10),
                                      tzinfo=PARIS)
                answer = await client.post(f"{url}/appointments", headers=h, json={"at": at.isoformat()})
            assert answer.status_code in (200, 201), (kind, answer.text)

        for _ in range(4):
            for _ in range(chance.randrange(2, 6)):
                await change()
            answer = await client.get(url, headers=h)
            assert answer.status_code == 200
            fast = answer.json()
            assert fast == NotebookPage.model_validate(fast).model_dump(mode="json")  # what the model's route gave
            reference = await reference_sections(system.database_urls["notebook"])
            assert {name: fast[name] for name in SECTIONS} == reference
            assert fast["timeline_more"] is False  # fewer than 200 entries
            # The latest entries only, as the HTML page asks for them (20, then « Voir plus »).
            limit = chance.randrange(1, len(reference["timeline"]) + 2)
            paged = (await client.get(url, headers=h, params={"timeline_limit": limit})).json()
            assert paged["timeline"] == reference["timeline"][:limit]
            assert paged["timeline_more"] is (len(reference["timeline"]) > limit)
            # Every upcoming appointment and the latest past ones, as the HTML page asks for them (10, then « Voir
            # tous les rendez-vous »): the reference's first ones (latest first), cut where the service's clock was.
            assert fast["appointments_more"] is False
            limit = chance.randrange(0, len(reference["appointments"]) + 2)
            before = datetime.now(UTC)
            paged = (await client.get(url, headers=h, params={"past_appointments_limit": limit})).json()
            after = datetime.now(UTC)
            assert any(paged["appointments"] == reference["appointments"][:upcoming + min(limit, past)]
                       and paged["appointments_more"] is (past > limit)
                       for upcoming, past in (split(reference["appointments"], now) for now in (before, after)))
        entries = len(reference["timeline"])
        html = (await client.get(f"/carnets/{SOPHIE}", headers=h)).text
        assert ("Voir plus d'évènements" in html) is (entries > 20)
        if entries > 20:
            more = re.search(r'href="([^"]*evenements=40)#historique"', html).group(1).replace("&amp;", "&")
            html = (await client.get(more, headers=h)).text
            assert ("Voir plus d'évènements" in html) is (entries > 40)
        # More than 10 past appointments: the HTML page shows the latest 10 and links to them all.
        for days in range(1, 12):
            at = datetime.combine(paris_today() - timedelta(days=days), time(9), tzinfo=PARIS)
            assert (await client.post(f"{url}/appointments", headers=h, json={"at": at.isoformat()})).status_code == 201
        appointments = (await reference_sections(system.database_urls["notebook"]))["appointments"]
        upcoming, past = split(appointments, datetime.now(UTC))
        html = (await client.get(f"/carnets/{SOPHIE}", headers=h)).text
        assert html.count('<tr id="rdv-') == upcoming + 10 and "Voir tous les rendez-vous" in html
        every = re.search(r'href="([^"]*rendez-vous=tous)#rendez-vous"', html).group(1).replace("&amp;", "&")
        html = (await client.get(every, headers=h)).text
        assert "Voir tous les rendez-vous" not in html and html.count('<tr id="rdv-') == upcoming + past


def split(appointments: list[dict], now: datetime) -> tuple[int, int]:
    """How many of the appointments are upcoming, how many past, at ``now``."""
    upcoming = sum(1 for a in appointments if datetime.fromisoformat(a["at"]) >= now)
    return upcoming, len(appointments) - upcoming
