"""A territory's dashboard over 100,000 notebooks (issue 18 item 5: under 300 ms server time), through the
notebook's own handler (token check, period, every figure's queries, names), on the pilotage read model filled
directly: 100,000 notebooks' facts, one action each, a year of daily snapshots, 12 structures, 300 référents; then
its counts made from those rows (the consumer keeps them as it writes rows; a bulk load bypasses it).
BENCH_NOTEBOOKS sets the number of notebooks (fewer for a quick look).

Baseline in the same run: one COUNT(*) over the territory's facts (the least a dashboard reading them costs), so
that the figures' own cost shows. SQLite always; PostgreSQL too when DATABASE_ADMIN_URL is set.
Results: bench/results/dashboard-<backend>.json.
"""
from __future__ import annotations

import asyncio
import os
import platform
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from benchkit import on_each_backend, run, timed_ms
from sqlalchemy import func, insert, select, text

from contracts.identity import Role
from contracts.pilotage import GetPilotageDashboardV1, PilotageScope
from identity.domain.access_tokens import Claims, encode_access_token, load_private_key, new_private_key_pem, public_jwk
from notebook.adapters.orm import (
    PilotageAction,
    PilotageNotebook,
    PilotageSnapshot,
    Person,
    StructureRead,
    TerritoryRead,
)
from notebook.config import NotebookSettings
from notebook.domain.protection import FieldProtection
from notebook.handlers import pilotage_facts
from notebook.handlers.deps import Deps
from notebook.handlers.pilotage_dashboard import get_dashboard
from gateway.web.common import templates
from gateway.web.dashboard_pages import PARAMETERS, figure_views, presets
from servicekit.auth import TokenVerifier
from servicekit.db import create_engine, sessionmaker
from servicekit.outbox import Outbox
from servicekit.rpc import RpcContext

NOTEBOOKS, RUNS = int(os.environ.get("BENCH_NOTEBOOKS", "100000")), 20
BUDGET_MS = 300
STRUCTURES, REFERENTS = 12, 300
THEMES = ["emploi", "formation", "logement", "sante", "mobilite", "difficulte_administrative", "budget", "famille"]
ACTION_STATUSES = ["planned", "in_progress", "standby", "done", "abandoned", "canceled"]
ORIGINS = ["manual", "import", "cafmsa", "france_travail", "partner"]
CER_STATES = ["none", "draft", "submitted", "validated", "signed", "ended"]


async def seed(deps: Deps, deployment_id: uuid.UUID) -> tuple[list[uuid.UUID], int]:
    """Facts written in bulk (Core INSERTs of 5,000 rows), as the read model's consumer would have left them."""
    rng = random.Random(18)
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo("Europe/Paris")).date()
    structures = [uuid.uuid4() for _ in range(STRUCTURES)]
    referents = [(uuid.uuid4(), structures[i % STRUCTURES]) for i in range(REFERENTS)]
    async with deps.sessions.begin() as session:
        session.add(TerritoryRead(id=deployment_id, label="Banc d'essai", department_code="99"))
        for index, structure in enumerate(structures):
            session.add(StructureRead(id=structure, deployment_id=deployment_id, name=f"Structure {index:02d}",
                                      occurred_at=now))
        for index, (person, structure) in enumerate(referents):
            session.add(Person(id=person, role="professional", deployment_id=deployment_id, firstname="Pro",
                               lastname=f"Référent {index:03d}", structure_ids=[str(structure)], occurred_at=now,
                               deactivated_at=None))
    for batch in range(0, NOTEBOOKS, 5000):
        facts, actions = [], []
        for index in range(batch, min(batch + 5000, NOTEBOOKS)):
            notebook_id = uuid.uuid4()
            created = now - timedelta(days=rng.randint(0, 900), minutes=rng.randint(0, 1440))
            followed = rng.random() < 0.7
            referent, structure = rng.choice(referents) if followed else (None, rng.choice(structures + [None]))
            oriented = created + timedelta(days=rng.randint(0, 200)) if rng.random() < 0.8 else None
            cer_state = rng.choice(CER_STATES)
            facts.append({
                "notebook_id": notebook_id, "deployment_id": deployment_id, "lastname": f"Nom{index}",
                "firstname": "Prénom", "structure_id": structure, "referent_id": referent,
                "support": "accompanied" if referent else ("waiting" if structure else "not_accompanied"),
                "rsa_right": "rsa_droit_ouvert_versable", "subject_to_right_and_duty": rng.random() < 0.6,
                "cer_state": cer_state, "cer_end_date": today + timedelta(days=rng.randint(-100, 300))
                if cer_state != "none" else None, "last_activity_at": now - timedelta(days=rng.randint(0, 300)),
                "created_at": created, "first_oriented_at": oriented,
                "first_cer_at": (oriented + timedelta(days=rng.randint(0, 120))) if oriented and cer_state != "none"
                else None, "origin": rng.choice(ORIGINS), "themes": f"|{rng.choice(THEMES)}|",
                "pending_reorientation_since": now - timedelta(days=rng.randint(0, 120)) if rng.random() < 0.03
                else None, "refreshed_at": now})
            actions.append({"id": uuid.uuid4(), "notebook_id": notebook_id, "deployment_id": deployment_id,
                            "structure_id": structure, "theme": rng.choice(THEMES),
                            "status": rng.choice(ACTION_STATUSES), "created_at": created + timedelta(days=3)})
        async with deps.sessions.begin() as session:
            await session.execute(insert(PilotageNotebook), facts)
            await session.execute(insert(PilotageAction), actions)
    snapshots = []
    for days in range(1, 366):
        for structure in structures:
            for support in ("accompanied", "waiting", "not_accompanied"):
                snapshots.append({"id": uuid.uuid4(), "day": today - timedelta(days=days),
                                  "deployment_id": deployment_id, "structure_id": structure, "support": support,
                                  "count": rng.randint(100, 6000)})
    async with deps.sessions.begin() as session:
        await session.execute(insert(PilotageSnapshot), snapshots)
    # The dashboards' counts as the consumer would have kept them: the bulk load bypassed the ORM that moves them.
    await pilotage_facts.recount(deps)
    async with deps.sessions.begin() as session:
        # Statistics as autovacuum keeps them in service; right after a bulk load the planner would guess.
        await session.execute(text("ANALYZE"))
    return structures, len(snapshots)


async def page_html(reply) -> str:
    form = {name: "" for name in PARAMETERS}
    context = {"form": form, "scopes": [], "presets": presets({}), "dash": reply, "figures": figure_views(reply, form),
               "error": "", "csrf": "", "visitor": None}
    return templates.env.get_template("dashboard.html.j2").render(context)


async def measure(backend: str, url: str) -> dict:
    deployment_id = uuid.uuid4()
    key = load_private_key(new_private_key_pem(b"bench"), b"bench")
    token = encode_access_token(Claims(uuid.uuid4(), Role.manager, deployment_id, uuid.uuid4()), "bench", key,
                                datetime.now(UTC), timedelta(hours=1))

    async def jwks():
        return [public_jwk("bench", key)]

    engine = create_engine(url)
    settings = NotebookSettings()
    deps = Deps(sessions=sessionmaker(engine), outbox=Outbox(), settings=settings, verifier=TokenVerifier(jwks),
                protection=FieldProtection(settings.secret_key.get_secret_value().encode()))
    started = time.perf_counter()
    structures, snapshots = await seed(deps, deployment_id)
    seeded_s = time.perf_counter() - started
    ctx = RpcContext(headers={"Authorization": f"Bearer {token}"})

    async def count_all():
        async with deps.sessions() as session:
            return await session.scalar(select(func.count()).select_from(PilotageNotebook).where(
                PilotageNotebook.deployment_id == deployment_id))

    baseline = await run(count_all, RUNS)
    territory = await get_dashboard(GetPilotageDashboardV1(), ctx, deps)
    measured = {
        "territory_12_months": await run(lambda: get_dashboard(GetPilotageDashboardV1(), ctx, deps), RUNS),
        # The gateway's share of the page's server time: the reply into charts (SVG) and tables, then the HTML.
        "gateway_page_of_the_territory": await run(lambda: page_html(territory), RUNS),
        "territory_5_years": await run(lambda: get_dashboard(GetPilotageDashboardV1(
            period_from=date.today() - timedelta(days=365 * 5 - 2)), ctx, deps), RUNS),
        "one_structure_12_months": await run(lambda: get_dashboard(GetPilotageDashboardV1(
            scope=PilotageScope.structure, structure_id=structures[0]), ctx, deps), RUNS),
    }
    await engine.dispose()
    return {"backend": backend, "notebooks": NOTEBOOKS, "actions": NOTEBOOKS, "snapshots": snapshots,
            "seeded_in_s": round(seeded_s, 1), "budget_ms": {"dashboard_p95": BUDGET_MS},
            "figures": len(territory.figures), "baseline_count_of_the_facts": timed_ms(baseline),
            "dashboard": {name: timed_ms(samples) for name, samples in measured.items()},
            "machine": platform.platform(), "measured_at": datetime.now(UTC).isoformat()}


async def main() -> None:
    for result in await on_each_backend("dashboard", "notebook", measure):
        worst = max(r["p95_ms"] for r in result["dashboard"].values())  # the service's figures and the HTML apart
        page = result["dashboard"]["territory_12_months"]["p95_ms"] + result["dashboard"][
            "gateway_page_of_the_territory"]["p95_ms"]
        print(f"dashboard {result['backend']}: the territory's page (service + gateway) p95 {page:.1f} ms")
        print(f"dashboard {result['backend']}: baseline COUNT(*) p50 {result['baseline_count_of_the_facts']['p50_ms']}"
              f" ms, dashboard p95 worst {worst} ms (budget {BUDGET_MS}) over {result['notebooks']} notebooks")


if __name__ == "__main__":
    asyncio.run(main())
