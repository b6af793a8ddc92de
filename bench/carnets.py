"""ROME search over the 10,876 job titles (budget: under 30 ms) and the beneficiaries' search over 100,000
notebooks (budget: under 50 ms, DESIGN §6), through the notebook's own handlers. BENCH_NOTEBOOKS sets the
number of notebooks (fewer for a quick look).

Baseline in the same run: the ROME handler with an empty query (token check and session only), so that the
searches' own cost shows. SQLite always; PostgreSQL too when DATABASE_ADMIN_URL is set.
Results: bench/results/carnets-<backend>.json.
"""
from __future__ import annotations

import asyncio
import os
import platform
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from benchkit import on_each_backend, run, timed_ms
from sqlalchemy import text

from contracts.identity import Role
from contracts.notebook import BeneficiaryFields, SearchNotebooksV1, SearchRomeCodesV1
from identity.domain.access_tokens import Claims, encode_access_token, load_private_key, new_private_key_pem, public_jwk
from notebook.config import NotebookSettings
from notebook.domain.protection import FieldProtection
from notebook.adapters.orm import Beneficiary, Notebook
from notebook.handlers.beneficiaries import apply, cleaned
from notebook.handlers.deps import Deps
from notebook.handlers.referentials import search_rome_codes
from notebook.handlers.search import search
from servicekit.auth import TokenVerifier
from servicekit.db import create_engine, sessionmaker
from servicekit.outbox import Outbox
from servicekit.rpc import RpcContext

NOTEBOOKS, RUNS = int(os.environ.get("BENCH_NOTEBOOKS", "100000")), 200
ROME_QUERIES = ["dev info", "M1805", "boulanger", "aide soignant", "conducteur engins", "zzz-rien"]
SEARCHES = ["tifour", "gonz", "Élodie", "0612345678", "2800593190123", "zzz-nobody", ""]
FIRSTNAMES = ["Élodie", "Pierre", "Sophie", "Jérôme", "Anaïs", "Karim", "Hélène", "Noël", "Zoé", "Inès"]
LASTNAMES = ["Dupré", "Tifour", "Gonzalez", "Benali", "Nguyen", "Moreau", "Gauthier", "Bœuf", "Périer", "Diallo"]


async def seed(deps: Deps, deployment_id: uuid.UUID) -> None:
    """Beneficiaries and their notebooks written in bulk (the rows ``create_notebook`` writes, without its
    history entries and events): 100,000 one by one would take a quarter of an hour."""
    rng = random.Random(93)
    now = datetime.now(UTC)
    for batch in range(0, NOTEBOOKS, 5000):
        async with deps.sessions.begin() as session:
            for index in range(batch, min(batch + 5000, NOTEBOOKS)):
                fields = cleaned(BeneficiaryFields(
                    firstname=rng.choice(FIRSTNAMES), lastname=f"{rng.choice(LASTNAMES)}{index}",
                    date_of_birth=date(1960 + index % 40, 1 + index % 12, 1 + index % 28),
                    mobile_number=f"06{index:08d}", caf_number=f"{index:07d}"))
                beneficiary = Beneficiary(id=uuid.uuid4(), deployment_id=deployment_id, created_at=now)
                apply(beneficiary, fields, deps)
                session.add(beneficiary)
                session.add(Notebook(beneficiary_id=beneficiary.id, deployment_id=deployment_id, created_at=now))
    async with deps.sessions.begin() as session:
        # Statistics as autovacuum keeps them in service; right after a bulk load the planner would guess.
        await session.execute(text("ANALYZE"))


async def measure(backend: str, url: str) -> dict:
    deployment_id = uuid.uuid4()
    key = load_private_key(new_private_key_pem(b"bench"), b"bench")
    token = encode_access_token(Claims(uuid.uuid4(), Role.professional, deployment_id, uuid.uuid4()), "bench", key,
                                datetime.now(UTC), timedelta(hours=1))

    async def jwks():
        return [public_jwk("bench", key)]

    engine = create_engine(url)
    settings = NotebookSettings()
    deps = Deps(sessions=sessionmaker(engine), outbox=Outbox(), settings=settings, verifier=TokenVerifier(jwks),
                protection=FieldProtection(settings.secret_key.get_secret_value().encode()))
    started = time.perf_counter()
    await seed(deps, deployment_id)
    seeded_s = time.perf_counter() - started
    ctx = RpcContext(headers={"Authorization": f"Bearer {token}"})

    baseline = await run(lambda: search_rome_codes(SearchRomeCodesV1(q=""), ctx, deps), RUNS)
    rome = {}
    for q in ROME_QUERIES:
        found = len((await search_rome_codes(SearchRomeCodesV1(q=q), ctx, deps)).codes)
        rome[q] = {**timed_ms(await run(lambda q=q: search_rome_codes(SearchRomeCodesV1(q=q), ctx, deps), RUNS)),
                   "found": found}
    beneficiaries = {}
    for q in SEARCHES:
        total = (await search(SearchNotebooksV1(q=q), ctx, deps)).total
        beneficiaries[q or "(tous)"] = {**timed_ms(await run(lambda q=q: search(SearchNotebooksV1(q=q), ctx, deps), RUNS)),
                                        "total": total}
    await engine.dispose()
    return {"backend": backend, "notebooks": NOTEBOOKS, "seeded_in_s": round(seeded_s, 1),
            "budgets_ms": {"rome_p95": 30, "search_p95": 50}, "baseline_empty_rome_query": timed_ms(baseline),
            "rome_search": rome, "beneficiary_search": beneficiaries, "machine": platform.platform(),
            "measured_at": datetime.now(UTC).isoformat()}


async def main() -> None:
    for result in await on_each_backend("carnets", "notebook", measure):
        print(f"carnets {result['backend']}: baseline p50 {result['baseline_empty_rome_query']['p50_ms']} ms, "
              f"ROME p95 worst {max(r['p95_ms'] for r in result['rome_search'].values())} ms (budget 30), "
              f"search p95 worst {max(r['p95_ms'] for r in result['beneficiary_search'].values())} ms (budget 50)")


if __name__ == "__main__":
    asyncio.run(main())
