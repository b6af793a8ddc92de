"""Annuaire search at 5,000 professionals (budget: under 50 ms), through the directory's own handler.

Baseline in the same run: reading one structure by id through the same handler path (token check,
session, view building), so that the search's own cost shows. SQLite always; PostgreSQL too when
DATABASE_ADMIN_URL is set. Results: bench/results/annuaire-<backend>.json.
"""
from __future__ import annotations

import asyncio
import platform
import random
import uuid
from datetime import UTC, datetime, timedelta

from benchkit import on_each_backend, run, timed_ms

from contracts.directory import GetStructureV1, SearchPeopleV1
from contracts.identity import Role
from directory.adapters.orm import Deployment, Person, PersonStructure, Structure
from directory.config import DirectorySettings
from directory.handlers.deps import Deps
from directory.handlers.people import search_people
from directory.handlers.structures import get_structure
from identity.domain.access_tokens import Claims, encode_access_token, load_private_key, new_private_key_pem, public_jwk
from servicekit.auth import TokenVerifier
from servicekit.contact import search_key
from servicekit.db import create_engine, sessionmaker
from servicekit.outbox import Outbox
from servicekit.rpc import RpcContext

PROFESSIONALS, STRUCTURES, RUNS = 5_000, 250, 200
FIRSTNAMES = ["Élodie", "Pierre", "Sophie", "Jérôme", "Anaïs", "Karim", "Hélène", "Noël", "Zoé", "Mathis", "Inès"]
LASTNAMES = ["Dupré", "Chevalier", "Lefèvre", "Benali", "Nguyen", "Moreau", "Gauthier", "Bœuf", "Périer", "Diallo"]
CITIES = [("93190", "Livry-Gargan"), ("93140", "Bondy"), ("93200", "Saint-Denis"), ("93100", "Montreuil"),
          ("93000", "Bobigny"), ("93300", "Aubervilliers")]
QUERIES = ["dupre", "Élodie", "jerome lefevre", "bondy", "93190", "mission locale saint", "zzz-nobody", ""]


async def seed(url: str) -> tuple[uuid.UUID, uuid.UUID]:
    engine = create_engine(url)
    rng = random.Random(93)
    deployment_id = uuid.uuid4()
    now = datetime.now(UTC)
    async with sessionmaker(engine)() as session, session.begin():
        session.add(Deployment(id=deployment_id, label="Bench 93", department_code="93", created_at=now))
        structures = []
        for index in range(STRUCTURES):
            postal_code, city = rng.choice(CITIES)
            name = f"{rng.choice(['Mission locale', 'CCAS', 'Association', 'Centre social'])} {city} {index}"
            structures.append(Structure(deployment_id=deployment_id, name=name, name_key=search_key(name),
                                        postal_code=postal_code, city=city, created_at=now,
                                        search_text=search_key(f"{name} {city} {postal_code}")))
        session.add_all(structures)
        await session.flush()
        for index in range(PROFESSIONALS):
            structure = rng.choice(structures)
            first, last = rng.choice(FIRSTNAMES), rng.choice(LASTNAMES)
            person = Person(role="professional", deployment_id=deployment_id, firstname=first, lastname=last,
                            email=f"pro{index}@bench.fr", created_at=now,
                            search_text=search_key(f"{first} {last} pro{index}@bench.fr {structure.name} "
                                                   f"{structure.city} {structure.postal_code}"))
            session.add(person)
            await session.flush()
            session.add(PersonStructure(person_id=person.id, structure_id=structure.id))
    await engine.dispose()
    return deployment_id, structures[0].id


async def measure(backend: str, url: str) -> dict:
    deployment_id, structure_id = await seed(url)
    key = load_private_key(new_private_key_pem(b"bench"), b"bench")
    token = encode_access_token(Claims(uuid.uuid4(), Role.manager, deployment_id, None), "bench", key,
                                datetime.now(UTC), timedelta(hours=1))

    async def jwks():
        return [public_jwk("bench", key)]

    engine = create_engine(url)
    deps = Deps(sessions=sessionmaker(engine), outbox=Outbox(), settings=DirectorySettings(),
                verifier=TokenVerifier(jwks))
    ctx = RpcContext(headers={"Authorization": f"Bearer {token}"})

    baseline = await run(lambda: get_structure(GetStructureV1(structure_id=structure_id), ctx, deps), RUNS)
    results = {}
    for q in QUERIES:
        reply = await search_people(SearchPeopleV1(q=q), ctx, deps)
        samples = await run(lambda q=q: search_people(SearchPeopleV1(q=q), ctx, deps), RUNS)
        results[q or "(tous)"] = {**timed_ms(samples), "total": reply.total}
    await engine.dispose()
    return {"backend": backend, "professionals": PROFESSIONALS, "structures": STRUCTURES, "budget_ms": 50,
            "baseline_get_structure": timed_ms(baseline), "search_people": results,
            "machine": platform.platform(), "measured_at": datetime.now(UTC).isoformat()}


async def main() -> None:
    for result in await on_each_backend("annuaire", "directory", measure):
        worst = max(r["p95_ms"] for r in result["search_people"].values())
        print(f"annuaire {result['backend']}: baseline p50 {result['baseline_get_structure']['p50_ms']} ms, "
              f"search p95 worst {worst} ms (budget {result['budget_ms']} ms)")


if __name__ == "__main__":
    asyncio.run(main())
