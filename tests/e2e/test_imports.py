"""File imports (issue 15) through the gateway's HTTP API and the real bus, on SQLite and PostgreSQL: every v1 file of
shared/fixtures/cdb-v1 for the six kinds, review before apply, exclusions, re-imports, the report, habilitation and
every bad input of item 7.

One system per backend for the whole module (starting one costs seconds): each test opens a territory of its own, so
that what one imports is nothing another sees."""
from __future__ import annotations

import asyncio
import csv
import io
import itertools
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import xlsxwriter

from contracts.identity import DemoAccount, Role
from contracts.imports import MAX_UPLOAD_BYTES
from contracts.streams import ALL_STREAMS
from servicekit.bus import client_bus
from servicekit.streams import ensure_streams
from servicekit.topology import SERVICES_BY_NAME
from testkit.harness import gateway_process, service_process, stop_all
from testkit.infra import DatabaseFactory
from testkit.system import E2E_SERVICES, RunningSystem, bearer, open_link, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

REPOSITORY = Path(__file__).resolve().parents[2]
FIXTURES = REPOSITORY / "shared" / "fixtures" / "cdb-v1"
if not FIXTURES.is_dir():
    FIXTURES = REPOSITORY.parent / "shared" / "fixtures" / "cdb-v1"

ADMIN = DemoAccount(email="admin@demo.carnet.test", role=Role.admin_cdb, firstname="Alice", lastname="Admin")
# The import service may be one of testkit's system services already, or not yet.
SERVICES = E2E_SERVICES
FINAL = {"done", "failed"}
DEPARTMENT_CODES = itertools.count(10)
ADMIN_TOKENS: dict[str, str] = {}


# --- the system, once per backend ------------------------------------------------------------------------

async def _fresh_streams(nats_url: str) -> None:
    """Streams emptied as the ``jetstream`` fixture does: other tests' events must not reach this system."""
    async with client_bus("test", nats_url) as bus:
        for spec in ALL_STREAMS:
            try:
                await bus.stream_context.delete_stream(spec.name)
            except Exception:  # noqa: BLE001  (absent already)
                pass
        await ensure_streams(bus.stream_context)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def imports_system(request, nats_url, database_templates, forkserver, clamd_server,
                   tmp_path_factory) -> Iterator[RunningSystem]:
    backend = request.param
    admin_url = request.getfixturevalue("postgres_admin_url") if backend == "postgresql" else None
    if backend == "postgresql" and admin_url is None:
        pytest.skip("PostgreSQL is missing (DATABASE_ADMIN_URL)")
    folder = tmp_path_factory.mktemp(f"imports-{backend}")
    factory = DatabaseFactory(backend, folder, admin_url, database_templates)
    trace_file = folder / "spans.jsonl"
    common = {"NATS_URL": nats_url, "CARNET_ENV": "dev", "CARNET_TRACE_FILE": str(trace_file),
              "CARNET_RPC_TIMEOUT_S": "5", "CARNET_VAR_DIR": str(folder / "var")}
    processes, urls = {}, {}
    try:
        asyncio.run(_fresh_streams(nats_url))
        gateway = gateway_process(common, folder)
        for name in SERVICES:
            urls[name] = asyncio.run(factory.create(name, SERVICES_BY_NAME[name].migrations_dir))
            env = {"CARNET_PUBLIC_URL": gateway.base_url}
            if name == "data_import" and clamd_server is not None:  # every file scanned, as in production
                env["DATA_IMPORT_CLAMD_SOCKET"] = str(clamd_server.socket_path)
            processes[name] = forkserver.start(service_process(name, common, urls[name], folder, env), wait=False)
        processes["gateway"] = forkserver.start(gateway, wait=False)
        for process in processes.values():
            process.wait_ready(90)
        system = RunningSystem(gateway.base_url, nats_url, trace_file, folder, processes, urls)
        asyncio.run(system.seed(ADMIN))
        yield system
    finally:
        stop_all(list(processes.values()), 10)
        asyncio.run(factory.drop_all())


# --- people ----------------------------------------------------------------------------------------------

class Territory:
    """A fresh territory, its manager's token, and the structures and people a test adds to it."""

    def __init__(self, system: RunningSystem, client: httpx.AsyncClient, deployment: dict, token: str) -> None:
        self.system, self.client, self.token = system, client, token
        self.deployment_id = deployment["deployment_id"]
        # A référent must be habilitated for a dispositif: everyone added here is, for all of the territory's.
        self.orientation_system_ids = [s["orientation_system_id"] for s in deployment["orientation_systems"]]

    @property
    def h(self) -> dict:
        return bearer(self.token)

    async def structure(self, name: str) -> str:
        answer = await self.client.post("/api/v1/structures", headers=self.h, json={"structure": {
            "name": name, "postal_code": "93190", "city": "Livry-Gargan",
            "orientation_system_ids": self.orientation_system_ids}})
        assert answer.status_code == 201, answer.text
        return answer.json()["structure_id"]

    async def person(self, role: str, email: str, structure_ids: list[str], firstname: str = "Camille",
                     lastname: str = "Martin") -> str:
        systems = self.orientation_system_ids if role == "professional" else []
        answer = await self.client.post("/api/v1/people", headers=self.h, json={
            "role": role, "structure_ids": structure_ids, "orientation_system_ids": systems,
            "person": {"firstname": firstname, "lastname": lastname, "email": email}})
        assert answer.status_code == 201, answer.text
        return answer.json()["person_id"]

    async def sign_in_person(self, email: str) -> str:
        """The token of someone this territory's manager created (their invitation is their first message)."""
        await self.system.mailbox(self.client, email)
        async with self.system.client() as other:
            return await sign_in(self.system, other, email, count=2)


async def open_territory(system: RunningSystem, client: httpx.AsyncClient) -> Territory:
    code = f"{next(DEPARTMENT_CODES):02d}"  # one territory per département
    manager_email = f"gestion-{uuid.uuid4().hex[:8]}@cd{code}.fr"
    # The admin signs in once per system: login links to one address are rate limited.
    if system.base_url not in ADMIN_TOKENS:
        ADMIN_TOKENS[system.base_url] = await sign_in(system, client, ADMIN.email)
    admin_token = ADMIN_TOKENS[system.base_url]
    created = await client.post("/api/v1/deployments", headers=bearer(admin_token), json={
        "label": f"Territoire {uuid.uuid4().hex[:6]}", "department_code": code,
        "manager": {"firstname": "Agathe", "lastname": "Gestion", "email": manager_email}})
    assert created.status_code == 201, created.text
    [invitation] = await system.mailbox(client, manager_email)
    async with system.client() as manager:
        await open_link(manager, invitation["links"][0])
        token = await sign_in(system, manager, manager_email, count=2)
    return Territory(system, client, created.json(), token)


# --- imports through the API -----------------------------------------------------------------------------

def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


async def upload(client: httpx.AsyncClient, token: str, kind: str, filename: str, content: bytes,
                 structure_id: str | None = None) -> httpx.Response:
    params = {"structure_id": structure_id} if structure_id else None
    return await client.post(f"/api/v1/imports/{kind}", headers=bearer(token), params=params,
                             files={"file": (filename, content, "application/octet-stream")})


async def wait_for(client: httpx.AsyncClient, token: str, import_id: str, states: set[str],
                   timeout_s: float = 60) -> dict:
    """Polls the import until its state is one of ``states`` (or final, which is then asserted)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        answer = await client.get(f"/api/v1/imports/{import_id}", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        view = answer.json()
        if view["state"] in states or view["state"] in FINAL:
            assert view["state"] in states, view
            return view
        assert asyncio.get_running_loop().time() < deadline, f"still {view['state']} after {timeout_s}s: {view}"
        await asyncio.sleep(0.05)


async def reviewed(client: httpx.AsyncClient, token: str, kind: str, filename: str, content: bytes,
                   structure_id: str | None = None) -> dict:
    """Uploads and waits for the review: the import's view."""
    answer = await upload(client, token, kind, filename, content, structure_id)
    assert answer.status_code == 202, answer.text
    assert set(answer.json()) >= {"import_id", "state"}
    return await wait_for(client, token, answer.json()["import_id"], {"review"})


async def reviewed_once_known(client: httpx.AsyncClient, token: str, kind: str, filename: str, content: bytes,
                              timeout_s: float = 20) -> tuple[dict, dict[int, dict]]:
    """Uploads until no row says a person is unknown: the people a test just added reach the notebook's read
    model through directory's events, a moment later (eventual consistency, by design)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        view = await reviewed(client, token, kind, filename, content)
        seen = await rows(client, token, view["import_id"])
        unknown = [m for r in seen.values() for m in r["messages"] if "aucun professionnel actif" in m]
        if not unknown or asyncio.get_running_loop().time() > deadline:
            return view, seen
        await asyncio.sleep(0.5)


async def failed(client: httpx.AsyncClient, token: str, kind: str, filename: str, content: bytes) -> str:
    """A bad file: refused at once (4xx) or ``failed``; either way its French reason."""
    answer = await upload(client, token, kind, filename, content)
    if answer.status_code != 202:
        assert 400 <= answer.status_code < 500, answer.text
        return answer.json()["message"]
    view = await wait_for(client, token, answer.json()["import_id"], {"failed"})
    assert view["counts"]["created"] == view["counts"]["updated"] == 0
    return view["reason"]


async def rows(client: httpx.AsyncClient, token: str, import_id: str, status: str | None = None) -> dict[int, dict]:
    params = {"limit": 500, **({"status": status} if status else {})}
    answer = await client.get(f"/api/v1/imports/{import_id}/rows", headers=bearer(token), params=params)
    assert answer.status_code == 200, answer.text
    return {row["row"]: row for row in answer.json()["rows"]}


async def statuses(client: httpx.AsyncClient, token: str, import_id: str) -> dict[int, str]:
    return {number: row["status"] for number, row in (await rows(client, token, import_id)).items()}


async def apply(client: httpx.AsyncClient, token: str, import_id: str, exclude: list[int] = ()) -> dict:
    answer = await client.post(f"/api/v1/imports/{import_id}/apply", headers=bearer(token),
                               json={"exclude_rows": list(exclude)})
    assert answer.status_code == 202, answer.text
    return await wait_for(client, token, import_id, {"done"})


def counts(view: dict) -> tuple[int, int, int, int]:
    c = view["counts"]
    return c["created"], c["updated"], c["unchanged"], c["rejected"]


async def report(client: httpx.AsyncClient, token: str, import_id: str) -> list[list[str]]:
    answer = await client.get(f"/api/v1/imports/{import_id}/report.csv", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    text = answer.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";" if text.count(";") >= text.count(",") else ","))


async def search(territory: Territory, q: str) -> list[dict]:
    answer = await territory.client.get("/api/v1/notebooks", headers=territory.h, params={"q": q})
    assert answer.status_code == 200, answer.text
    return answer.json()["notebooks"]


def beneficiaries_csv(people: list[dict], encoding: str = "utf-8-sig") -> bytes:
    """A beneficiaries file of v1's template columns; each person a dict of the columns they fill."""
    header = ["Identifiant dans le SI*", "Prénom*", "Nom*", "Date de naissance*", "NIR", "Téléphone", "Structure",
              "Accompagnateurs", "Droits ASS", "Ville"]
    lines = [";".join(header)] + [";".join(person.get(column, "") for column in header) for person in people]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def person(external_id: str, firstname: str, lastname: str, born: str, **columns: str) -> dict:
    return {"Identifiant dans le SI*": external_id, "Prénom*": firstname, "Nom*": lastname,
            "Date de naissance*": born, **columns}


# --- beneficiaries ---------------------------------------------------------------------------------------

NAME_BIRTH_CONFLICT = "Un bénéficiaire existe déjà avec ce nom/prénom/date de naissance sur le territoire."
NIR_CONFLICT = ("Un bénéficiaire existe déjà avec ce NIR sur le territoire. Mais ni ses données personnelles ni son "
                "identifiant SI ne correspondent.")
SI_CONFLICT = "Un bénéficiaire existe déjà avec cet identifiant SI sur le territoire."


async def test_v1_beneficiary_files_reviewed_applied_and_imported_again(imports_system):
    async with imports_system.client() as client:
        territory = await open_territory(imports_system, client)
        m = territory.token

        # 1. Every v1 date format: Charlotte's bad phone, charlie fondue the same person as Charlie Fondue above
        # (a duplicate inside the file), two people new.
        dates = await reviewed(client, m, "beneficiaries", "import_beneficiaires_with_all_date_formats.csv",
                               fixture("import_beneficiaires_with_all_date_formats.csv"))
        assert (dates["rows_total"], dates["review"]) == (4, {"new": 2, "same": 0, "conflict": 1, "invalid": 1})
        seen = await rows(client, m, dates["import_id"])
        assert seen[2]["status"] == "invalid" and seen[2]["messages"] == [
            "« Téléphone » : « 071234567 » n'est pas un numéro de téléphone français valide (10 chiffres, par "
            "exemple 06 12 34 56 78)."]
        assert seen[4]["status"] == "conflict" and seen[4]["messages"] == [
            "Ligne en double : même nom, prénom et date de naissance que la ligne 3."]
        assert seen[3]["values"]["Date de naissance*"] == "22-04-1997" and seen[3]["status"] == "new"
        # Its référent is nobody of this territory: said on the row, which is still applied (spec §4.1 A step 3).
        assert any("sofia@cd26.fr" in message for message in seen[3]["messages"]), seen[3]
        assert set(await rows(client, m, dates["import_id"], "new")) == {3, 5}
        assert await search(territory, "fondue") == []  # reviewing changes nothing
        # A row to exclude that the file does not have (4 rows: lines 2 to 5) is refused, nothing applied.
        refused = await client.post(f"/api/v1/imports/{dates['import_id']}/apply", headers=bearer(m),
                                    json={"exclude_rows": [3, 6]})
        assert refused.status_code == 422, refused.text
        assert refused.json()["message"].startswith("Ces lignes ne font pas partie de l'import : 6.")
        assert (await wait_for(client, m, dates["import_id"], {"review"}))["state"] == "review"
        done = await apply(client, m, dates["import_id"])
        assert counts(done)[:3] == (2, 0, 0) and done["rows_done"] >= 2
        found = {n["firstname"]: n for n in await search(territory, "fondue")}
        assert sorted(found) == ["Charlie", "charlot"]
        assert {n["date_of_birth"] for n in found.values()} == {"1997-04-22"}
        page = (await client.get(f"/api/v1/notebooks/{found['Charlie']['notebook_id']}", headers=territory.h)).json()
        assert page["beneficiary"]["place_of_birth"] == "Loriol" and page["beneficiary"]["city"] == "Camembert"
        assert found["Charlie"]["referent_name"] == ""

        # 2. The partial file: two NIR refused (their French messages), charlie fondue under another SI id than
        # Charlie Fondue, charlot matched with a NIR to add.
        partial = await reviewed(client, m, "beneficiaries", "import_beneficiaires_partial.csv",
                                 fixture("import_beneficiaires_partial.csv"))
        seen = await rows(client, m, partial["import_id"])
        assert {n: r["status"] for n, r in seen.items()} == {2: "invalid", 3: "invalid", 4: "conflict", 5: "same"}
        assert seen[2]["messages"] == ["« NIR » : « 185077505612324 » : la clé (les 2 derniers chiffres) ne "
                                       "correspond pas au numéro ; vérifiez le NIR."]
        assert "n'est pas un NIR valide" in seen[3]["messages"][0]
        assert seen[4]["messages"] == [NAME_BIRTH_CONFLICT]
        assert seen[5]["match"]["label"] == "charlot fondue, né le 22/04/1997" or "22/04/1997" in seen[5]["match"]["label"]
        done = await apply(client, m, partial["import_id"])
        assert counts(done)[:3] == (0, 1, 0)
        # Identity never overwritten, the NIR (a variable field) taken: charlot is found by it.
        assert [n["firstname"] for n in await search(territory, "1000000000000")] == ["charlot"]

        # 3. The re-import file: Sophie is new, Charlie Fondue matched with nothing changed.
        again = await reviewed(client, m, "beneficiaries", "re_import_beneficiaires.csv",
                               fixture("re_import_beneficiaires.csv"))
        assert await statuses(client, m, again["import_id"]) == {2: "new", 3: "same"}
        assert (await rows(client, m, again["import_id"], "same"))[3].get("changed", []) == []
        done = await apply(client, m, again["import_id"])
        assert counts(done)[:3] == (1, 0, 1)

        # 4. Contradicting what exists: another person under an SI id already taken, or with a NIR already taken.
        contradicting = beneficiaries_csv([person("12345", "Marc", "Autre", "1961-01-01"),
                                           person("Z9", "Zoé", "Autre", "1960-01-01", NIR="2000000000000")])
        view = await reviewed(client, m, "beneficiaries", "contradictions.csv", contradicting)
        seen = await rows(client, m, view["import_id"])
        assert (seen[2]["status"], seen[2]["messages"]) == ("conflict", [SI_CONFLICT])
        assert (seen[3]["status"], seen[3]["messages"]) == ("conflict", [NIR_CONFLICT])

        # 5. The v1 file, then the same file twice: a warning first, then everything unchanged.
        first = await reviewed(client, m, "beneficiaries", "import_beneficiaires.csv", fixture("import_beneficiaires.csv"))
        assert await statuses(client, m, first["import_id"]) == {2: "invalid", 3: "same", 4: "conflict", 5: "same"}
        assert counts(await apply(client, m, first["import_id"]))[:3] == (0, 0, 2)
        twice = await reviewed(client, m, "beneficiaries", "import_beneficiaires.csv", fixture("import_beneficiaires.csv"))
        assert any("déjà été importé" in w for w in twice["warnings"]), twice["warnings"]
        assert await statuses(client, m, twice["import_id"]) == {2: "invalid", 3: "same", 4: "conflict", 5: "same"}
        assert all(not r.get("changed") for r in (await rows(client, m, twice["import_id"], "same")).values())
        assert counts(await apply(client, m, twice["import_id"]))[:3] == (0, 0, 2)

        # The history of the territory's beneficiary imports, newest first.
        listed = await client.get("/api/v1/imports", headers=territory.h, params={"kind": "beneficiaries"})
        assert listed.status_code == 200, listed.text
        assert [i["import_id"] for i in listed.json()["imports"]] == [
            twice["import_id"], first["import_id"], view["import_id"], again["import_id"], partial["import_id"],
            dates["import_id"]]
        other_kind = await client.get("/api/v1/imports", headers=territory.h, params={"kind": "structures"})
        assert other_kind.json()["imports"] == []


async def test_buggy_file_in_a_fresh_territory_and_its_report_errors_first(imports_system):
    async with imports_system.client() as client:
        territory = await open_territory(imports_system, client)
        m = territory.token
        buggy = await reviewed(client, m, "beneficiaries", "import_beneficiaires_buggy.csv",
                               fixture("import_beneficiaires_buggy.csv"))
        seen = await rows(client, m, buggy["import_id"])
        assert seen[2]["status"] == "invalid" and seen[2]["messages"][0] == (
            "La colonne « Date de naissance » est obligatoire : indiquez une valeur.")
        assert seen[3]["messages"] == ["« Date de naissance » : « 19970-04-22 » n'est pas une date reconnue : "
                                       "formats acceptés AAAA-MM-JJ, JJ/MM/AAAA, JJ-MM-AAAA ou JJ.MM.AAAA."]
        # Its referent (sofia@cd26.fr) is unknown in this territory: said on the row, the person still new.
        assert seen[4]["status"] == "new"
        # A bad row never stops the others: row 4 is created, rows 2 and 3 reported.
        done = await apply(client, m, buggy["import_id"])
        assert counts(done)[0] == 1
        header, *lines = await report(client, m, buggy["import_id"])
        assert header[:4] == ["Ligne", "Statut", "Résultat", "Messages"]
        assert [line[0] for line in lines] == ["2", "3", "4"]
        assert [line[1] for line in lines] == ["invalide", "invalide", "nouveau"] and lines[2][2] == "créé"
        assert "19970-04-22" in lines[1][3]
        errors_later = beneficiaries_csv([person("B1", "Léa", "Martin", "1990-01-01"),
                                          person("B2", "Léo", "Martin", "pas une date")])
        view = await reviewed(client, m, "beneficiaries", "b.csv", errors_later)
        await apply(client, m, view["import_id"])
        header, *lines = await report(client, m, view["import_id"])
        assert [line[0] for line in lines] == ["3", "2"]  # errors first


async def test_review_exclusions_and_cp1252_names_intact(imports_system):
    async with imports_system.client() as client:
        territory = await open_territory(imports_system, client)
        m = territory.token
        people = [person("A1", "Hélène", "Çelik", "12/03/1985", **{"Téléphone": "06 12 34 56 78", "Ville": "Bobigny"}),
                  person("A2", "Noël", "Bœuf", "1990-01-02"), person("A3", "Zoé", "Périer", "03-04-1970"),
                  person("A4", "Anaïs", "Gauthier", "1999-12-31")]
        content = beneficiaries_csv(people, "cp1252")
        assert "Hélène".encode("cp1252") in content and b"\xc3" not in content
        view = await reviewed(client, m, "beneficiaries", "windows.csv", content)
        assert view["review"]["new"] == 4
        seen = await rows(client, m, view["import_id"], "new")
        assert (seen[2]["values"]["Prénom*"], seen[2]["values"]["Nom*"]) == ("Hélène", "Çelik")
        done = await apply(client, m, view["import_id"], exclude=[4])
        assert counts(done)[:3] == (3, 0, 0) and done["counts"].get("excluded", 1) == 1
        assert await search(territory, "Périer") == []
        [helene] = await search(territory, "celik")
        assert (helene["firstname"], helene["lastname"], helene["date_of_birth"]) == ("Hélène", "Çelik", "1985-03-12")
        excluded = (await rows(client, m, view["import_id"]))[4]
        assert excluded["outcome"] == "excluded"

        # Re-import updates variable fields only: a new town, an ASS right; a new first name is not taken.
        changed = [person("A1", "Hélène", "Çelik", "1985-03-12", **{"Ville": "Pantin", "Droits ASS": "Oui"})]
        update = await reviewed(client, m, "beneficiaries", "maj.csv", beneficiaries_csv(changed))
        [row] = (await rows(client, m, update["import_id"])).values()
        assert row["status"] == "same" and row["match"]["label"].startswith("Hélène Çelik, né")
        assert row["match"]["label"].endswith(" le 12/03/1985")
        done = await apply(client, m, update["import_id"])
        assert counts(done)[:3] == (0, 1, 0)
        page = (await client.get(f"/api/v1/notebooks/{helene['notebook_id']}", headers=territory.h)).json()
        assert page["beneficiary"]["city"] == "Pantin" and page["beneficiary"]["mobile_number"]


async def test_structures_orientation_managers_and_professionals_from_v1_files(imports_system):
    async with imports_system.client() as client:
        territory = await open_territory(imports_system, client)
        m = territory.token
        view = await reviewed(client, m, "structures", "import_structures.csv", fixture("import_structures.csv"))
        assert await statuses(client, m, view["import_id"]) == {2: "new", 3: "new"}
        done = await apply(client, m, view["import_id"])
        assert done["counts"]["rejected"] == 0 and sum(counts(done)[:2]) == 2
        structures = (await client.get("/api/v1/structures", headers=territory.h)).json()
        assert [s["name"] for s in structures["structures"]] == ["CD 93"]
        cd93 = structures["structures"][0]["structure_id"]

        # The e2e copy of the same rows: both matched, nothing to change.
        again = await reviewed(client, m, "structures", "e2e_import_structures.csv", fixture("e2e_import_structures.csv"))
        assert await statuses(client, m, again["import_id"]) == {2: "same", 3: "same"}
        assert counts(await apply(client, m, again["import_id"]))[:3] == (0, 0, 2)

        buggy = await reviewed(client, m, "structures", "import_structures_buggy.csv",
                               fixture("import_structures_buggy.csv"))
        seen = await rows(client, m, buggy["import_id"])
        assert [seen[n]["status"] for n in (3, 4, 5)] == ["invalid"] * 3
        assert seen[3]["messages"] == ["La colonne « Nom » est obligatoire : indiquez une valeur."]
        assert "« Siret » : « 12312312312311 » n'est pas un SIRET valide" in " ".join(seen[4]["messages"])
        assert seen[2]["status"] == "same"
        missing_key = await reviewed(client, m, "structures", "import_structures_missing_key.csv",
                                     fixture("import_structures_missing_key.csv"))
        assert set((await statuses(client, m, missing_key["import_id"])).values()) == {"same"}

        # Orientation managers, from the CSV then the same people from the XLS and XLSX: matched, unchanged.
        managers = await reviewed(client, m, "orientation-managers", "import_charges_orientation.csv",
                                  fixture("import_charges_orientation.csv"))
        seen = await rows(client, m, managers["import_id"])
        assert {n: r["status"] for n, r in seen.items()} == {2: "new", 3: "new", 4: "invalid", 5: "invalid"}
        assert seen[4]["messages"] == ["La colonne « Courriel » est obligatoire : indiquez une valeur."]
        assert seen[5]["messages"] == ["« Courriel » : « @toto » n'est pas une adresse e-mail valide (par exemple "
                                       "nom@domaine.fr)."]
        assert counts(await apply(client, m, managers["import_id"]))[:3] == (2, 0, 0)
        found = (await client.get("/api/v1/people", headers=territory.h, params={"q": "woirnesse"})).json()["people"]
        assert [(p["firstname"], p["lastname"]) for p in found] == [("Woirnesse", "La Réunion")]
        for name in ("import_charges_orientation.xls", "import_charges_orientation.xlsx"):
            sheet = await reviewed(client, m, "orientation-managers", name, fixture(name))
            assert await statuses(client, m, sheet["import_id"]) == {2: "same", 3: "same"}, name
            assert counts(await apply(client, m, sheet["import_id"]))[:3] == (0, 0, 2), name
        e2e = await reviewed(client, m, "orientation-managers", "e2e_import_charges_orientation.xlsx",
                             fixture("e2e_import_charges_orientation.xlsx"))
        seen = await rows(client, m, e2e["import_id"])
        assert {n: r["status"] for n, r in seen.items()} == {2: "same", 3: "same", 4: "invalid", 5: "invalid"}
        assert "« Justine.titegoute » n'est pas une adresse e-mail valide" in seen[4]["messages"][0]
        assert seen[5]["messages"] == ["La colonne « Courriel » est obligatoire : indiquez une valeur."]
        xlsx_report = await client.get(f"/api/v1/imports/{e2e['import_id']}/report.xlsx", headers=territory.h)
        assert xlsx_report.status_code == 200 and xlsx_report.content.startswith(b"PK")

        # Professionals by the manager, into a structure of the territory it names.
        # (v1's file itself is the structure admin's, in another test: an address is one account in the system.)
        pros_file = ("Courriel*;Prénom*;Nom*;Téléphone;Fonction\r\n"
                     f"mona.{cd93[:8]}@cd93.fr;Mona;Lisière;0612345678;Conseillère\r\n"
                     f"mona.{cd93[:8]}@cd93.fr;Mona;Lisière;;\r\n").encode()
        pros = await reviewed(client, m, "professionals", "pros.csv", pros_file, structure_id=cd93)
        seen = await rows(client, m, pros["import_id"])
        assert (seen[2]["status"], seen[3]["status"]) == ("new", "conflict")
        [twice] = seen[3]["messages"]
        assert twice.startswith("Ligne en double : même « Courriel") and twice.endswith("que la ligne 2."), twice
        assert counts(await apply(client, m, pros["import_id"]))[:3] == (1, 0, 0)
        found = (await client.get("/api/v1/people", headers=territory.h, params={"q": "Lisière"})).json()["people"]
        assert [p["firstname"] for p in found] == ["Mona"]


async def test_a_structure_admin_imports_professionals_and_rattachements(imports_system):
    async with imports_system.client() as client:
        territory = await open_territory(imports_system, client)
        m = territory.token
        ccas = await territory.structure("CCAS de Livry-Gargan")
        await territory.person("admin_structure", f"admin-{territory.deployment_id[:8]}@ccas.fr", [ccas])
        admin = await territory.sign_in_person(f"admin-{territory.deployment_id[:8]}@ccas.fr")

        pros = await reviewed(client, admin, "professionals", "import_professionnels.csv",
                              fixture("import_professionnels.csv"))
        assert counts(await apply(client, admin, pros["import_id"]))[:3] == (2, 0, 0)

        # A beneficiary of the CCAS, then v1's pending file (a notebook of v1, unknown here) and one of ours.
        beneficiary = person("R1", "Myrna", "Henderson", "1999-12-08", **{"Structure": "CCAS de Livry-Gargan"})
        created = await reviewed(client, m, "beneficiaries", "b.csv", beneficiaries_csv([beneficiary]))
        assert counts(await apply(client, m, created["import_id"]))[0] == 1
        [myrna] = await search(territory, "Henderson")
        pending = await reviewed(client, admin, "referents", "beneficiaires_en_attente.csv",
                                 fixture("beneficiaires_en_attente.csv"))
        [unknown] = (await rows(client, admin, pending["import_id"])).values()
        assert unknown["status"] in {"invalid", "conflict"} and unknown["messages"]
        ours = ("\ufeffid; nom; prénom; date de naissance; emails des professionnels\r\n"
                f"{myrna['notebook_id']};Henderson;Myrna;1999-12-08;salome@cd26.fr\r\n").encode()
        rattachement, seen = await reviewed_once_known(client, admin, "referents", "rattachement.csv", ours)
        assert seen[2]["status"] == "same", seen[2]["messages"]
        assert counts(await apply(client, admin, rattachement["import_id"]))[1] == 1
        [myrna] = await search(territory, "Henderson")
        assert "Légase" in myrna["referent_name"]

        # Who may import what: a structure admin no beneficiaries; a professional nothing.
        refused = await upload(client, admin, "beneficiaries", "b.csv", beneficiaries_csv([beneficiary]))
        assert refused.status_code == 403, refused.text
        pro = await territory.sign_in_person("salome@cd26.fr")
        for kind in ("beneficiaries", "professionals", "structures"):
            assert (await upload(client, pro, kind, "b.csv", beneficiaries_csv([beneficiary]))).status_code == 403


async def test_reorientations_of_v1(imports_system):
    async with imports_system.client() as client:
        territory = await open_territory(imports_system, client)
        m = territory.token
        groupe_ns, interlogement = await territory.structure("Groupe NS"), await territory.structure("Interlogement 93")
        mission_locale = await territory.structure("Mission locale")
        await territory.person("professional", "sanka@groupe-ns.fr", [groupe_ns], "Simon", "Anka")
        await territory.person("professional", "pcamara@seinesaintdenis.fr", [interlogement], "Paul", "Camara")
        await territory.person("professional", "edith.orial@interlogement93.fr", [interlogement], "Édith", "Orial")
        await territory.person("professional", "bienvenu.lejeune@mission-locale.fr", [mission_locale], "Bienvenu",
                               "Lejeune")
        people = [person("J1", "Janie", "Herring", "19/02/2002", **{"Structure": "Interlogement 93",
                                                                   "Accompagnateurs": "pcamara@seinesaintdenis.fr"}),
                  person("D1", "Dee", "Jennings", "08/01/1974", **{"Structure": "Interlogement 93",
                                                                  "Accompagnateurs": "edith.orial@interlogement93.fr"})]
        created, seen = await reviewed_once_known(client, m, "beneficiaries", "b.csv", beneficiaries_csv(people))
        assert [r["messages"] for r in seen.values()] == [[], []]
        assert counts(await apply(client, m, created["import_id"]))[:3] == (2, 0, 0)
        [janie] = await search(territory, "Herring")
        assert "Camara" in janie["referent_name"]

        for name, expected_referent in (("import_reorientation_change_referent.csv", "Anka"),
                                        ("import_reorientation_deactivate_referent.csv", ""),
                                        ("import_reorientation_change_structure.csv", ""),
                                        ("import_reorientation_change_referent_same_structure.csv", "Lejeune")):
            view = await reviewed(client, m, "reorientations", name, fixture(name))
            [row] = (await rows(client, m, view["import_id"])).values()
            assert row["status"] == "same", (name, row["messages"])
            done = await apply(client, m, view["import_id"])
            assert done["counts"]["rejected"] == 0, (name, done)
            if name.endswith("change_referent.csv"):
                [janie] = await search(territory, "Herring")
                assert expected_referent in janie["referent_name"], janie
        [dee] = await search(territory, "Jennings")
        assert "Lejeune" in dee["referent_name"]
        unknown = "Prénom*;Nom*;Date de naissance*\r\nJohn;Personne;01/01/1980\r\n".encode()
        view = await reviewed(client, m, "reorientations", "r.csv", unknown)
        [row] = (await rows(client, m, view["import_id"])).values()
        assert row["status"] in {"invalid", "conflict"} and row["messages"]


# --- habilitation ----------------------------------------------------------------------------------------

async def test_nobody_outside_the_territory_sees_its_imports(imports_system):
    async with imports_system.client() as client:
        territory = await open_territory(imports_system, client)
        other = await open_territory(imports_system, client)
        view = await reviewed(client, territory.token, "beneficiaries", "b.csv",
                              beneficiaries_csv([person("X", "Léa", "Martin", "1990-01-01")]))
        unknown = str(uuid.uuid4())
        for path in (f"/api/v1/imports/{view['import_id']}", f"/api/v1/imports/{view['import_id']}/rows",
                     f"/api/v1/imports/{view['import_id']}/report.csv"):
            elsewhere = await client.get(path, headers=other.h)
            missing = await client.get(path.replace(view["import_id"], unknown), headers=other.h)
            assert elsewhere.status_code == missing.status_code == 404, path
        applied = await client.post(f"/api/v1/imports/{view['import_id']}/apply", headers=other.h,
                                    json={"exclude_rows": []})
        assert applied.status_code == 404
        assert (await client.get("/api/v1/imports", headers=other.h)).json()["imports"] == []
        assert (await client.get(f"/api/v1/imports/{view['import_id']}")).status_code == 401
        assert (await wait_for(client, territory.token, view["import_id"], {"review"}))["state"] == "review"


# --- bad inputs (item 7) ---------------------------------------------------------------------------------

def xlsx_bytes(cells: list[list[str]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    for r, line in enumerate(cells):
        for c, value in enumerate(line):
            sheet.write_string(r, c, value)
    workbook.close()
    return buffer.getvalue()


def zip_bomb() -> bytes:
    """A real workbook plus 200 Mo of zeros compressed to ~200 Ko."""
    header = ["Identifiant dans le SI", "Prénom", "Nom", "Date de naissance"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        workbook = zipfile.ZipFile(io.BytesIO(xlsx_bytes([header, ["1", "Léa", "Martin", "1990-01-01"]])))
        for name in workbook.namelist():
            archive.writestr(name, workbook.read(name))
        with archive.open("xl/media/zeros.bin", "w", force_zip64=True) as part:
            zeros = bytes(1024 * 1024)
            for _ in range(200):
                part.write(zeros)
    return buffer.getvalue()


async def test_bad_files_are_refused_in_french_and_nothing_is_applied(imports_system):
    async with imports_system.client() as client:
        territory = await open_territory(imports_system, client)
        m = territory.token
        header = "Identifiant dans le SI*;Prénom*;Nom*;Date de naissance*"
        good_row = "1;Léa;Martin;1990-01-01"

        assert "vide" in await failed(client, m, "beneficiaries", "vide.csv", b"")
        assert "ligne d'en-tête" in await failed(client, m, "beneficiaries", "entete.csv", f"{header}\r\n".encode())
        missing = await failed(client, m, "beneficiaries", "sans-date.csv",
                               "Identifiant dans le SI*;Prénom*;Nom*\r\n1;Léa;Martin\r\n".encode())
        assert "« Date de naissance »" in missing and "obligatoire" in missing
        wide = ";".join(f"Colonne {n}" for n in range(10_000)) + "\r\n" + ";".join("x" * 1 for _ in range(10_000))
        assert "10\u202f000 colonnes" in await failed(client, m, "beneficiaries", "large.csv", wide.encode())
        pipes = f"{header.replace(';', '|')}\r\n{good_row.replace(';', '|')}\r\n".encode()
        assert "obligatoires" in await failed(client, m, "beneficiaries", "barres.csv", pipes)
        assert "encodage" in await failed(client, m, "beneficiaries", "illisible.csv",
                                          f"{header}\r\n".encode() + b"1;L\x81a;Martin;1990-01-01\r\n")
        csv_as_xlsx = await failed(client, m, "beneficiaries", "faux.xlsx", f"{header}\r\n{good_row}\r\n".encode())
        assert "porte l'extension .xlsx" in csv_as_xlsx
        assert "décompresse" in await failed(client, m, "beneficiaries", "bombe.xlsx", zip_bomb())
        assert "n'est pas d'un type accepté" in await failed(client, m, "beneficiaries", "photo.pdf", b"%PDF-1.4")

        # Over the size limit: 413 with the limit, streamed (the gateway never holds it whole).
        async def too_big():
            yield f"{header}\r\n".encode()
            chunk = (good_row + "\r\n").encode() * 4096
            sent = 0
            while sent <= MAX_UPLOAD_BYTES:
                yield chunk
                sent += len(chunk)

        boundary = "carnet-frontiere"

        async def multipart():
            yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"gros.csv\"\r\n"
                   "Content-Type: text/csv\r\n\r\n").encode()
            async for part in too_big():
                yield part
            yield f"\r\n--{boundary}--\r\n".encode()

        big = await client.post("/api/v1/imports/beneficiaries", content=multipart(), headers={
            **territory.h, "Content-Type": f"multipart/form-data; boundary={boundary}"}, timeout=60)
        assert big.status_code == 413, big.text
        assert "50 Mo" in big.json()["message"]

        assert await search(territory, "Martin") == []
        # The template to fill in instead: v1's columns, mandatory ones starred.
        template = await client.get("/api/v1/imports/templates/beneficiaries.csv", headers=territory.h)
        assert template.status_code == 200
        assert template.content.decode("utf-8-sig").startswith("Identifiant dans le SI*;Prénom*;Nom*;Date de naissance*")
        listed = (await client.get("/api/v1/imports", headers=territory.h)).json()["imports"]
        assert all(i["state"] == "failed" and i["reason"] for i in listed), listed
