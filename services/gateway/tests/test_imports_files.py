"""Files through the gateway on a real nats-server with JetStream (the import service's RPCs are faked): an upload
reaches the object store chunk by chunk while its body is still arriving, an upload over the limit leaves nothing
and closes the import as failed, the page's form streams the same way once its CSRF token is checked, and reports
and templates stream back as attachments."""
from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from nats.js.errors import NotFoundError

from contracts.identity import GetMeV1, MeReply, Role
from contracts.imports import (
    MAX_UPLOAD_BYTES,
    FinishUploadV1,
    GetImportReportV1,
    GetImportTemplateV1,
    ImportKind,
    ImportObjectReply,
    ImportOpenedReply,
    ImportsReply,
    ImportState,
    ImportView,
    ListImportsV1,
    OpenImportV1,
)
from gateway.config import GatewaySettings
from gateway.main import create_app
from servicekit.bus import client_bus
from servicekit.objects import CHUNK_BYTES, uploads
from services.gateway.tests.fake_bus import FakeRpc

TOKEN = "eyJ.access.token"
BOUNDARY = "----carnet-test-boundary"


@pytest.fixture
async def bus(nats_url):
    async with client_bus("test-gateway-imports", nats_url) as bus:
        yield bus


@pytest.fixture
def rpc() -> FakeRpc:
    return FakeRpc()


@pytest.fixture
def app(rpc, bus):
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc, app.state.bus = rpc, bus
    return app


def client(app, **kwargs) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway", **kwargs)


def view(import_id: uuid.UUID, state: ImportState, reason: str = "") -> ImportView:
    return ImportView(import_id=import_id, kind=ImportKind.beneficiaries, filename="beneficiaires.csv", state=state,
                      reason=reason, created_at=datetime(2026, 11, 28, 9, 30, tzinfo=UTC))


def open_import(rpc: FakeRpc, max_bytes: int = MAX_UPLOAD_BYTES) -> uuid.UUID:
    import_id = uuid.uuid4()
    rpc.answers[OpenImportV1] = ImportOpenedReply(import_id=import_id, object_name=f"imports/{import_id}",
                                                  max_bytes=max_bytes)
    rpc.answers[FinishUploadV1] = lambda request: view(
        import_id, ImportState.failed if request.error else ImportState.parsing, request.error)
    return import_id


def multipart_head(filename: str, fields: dict[str, str] | None = None) -> bytes:
    head = b""
    for name, value in (fields or {}).items():
        head += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
    return head + (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
                   "Content-Type: text/csv\r\n\r\n").encode()


def multipart_tail() -> bytes:
    return f"\r\n--{BOUNDARY}--\r\n".encode()


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


async def stored_messages(bus) -> int:
    return (await bus.stream_context.stream_info("OBJ_uploads")).state.messages


async def test_an_upload_reaches_the_object_store_in_chunks_while_it_arrives(app, rpc, bus):
    import_id = open_import(rpc)
    data = ("Nom*;Prénom*\n" + "Çelik;Hélène\n" * 40_000).encode()  # about 560 kB: 5 chunks of the store
    await uploads(bus.stream_context)
    before = await stored_messages(bus)
    seen_while_arriving = []

    async def body():
        yield multipart_head("bénéficiaires.csv")
        for start in range(0, len(data), 16 * 1024):
            if start == len(data) // 2 // (16 * 1024) * (16 * 1024):
                await asyncio.sleep(0.1)  # let the relay publish what it has
                seen_while_arriving.append(await stored_messages(bus) - before)
            yield data[start:start + 16 * 1024]
        yield multipart_tail()

    async with client(app) as browser:
        reply = await browser.post("/api/v1/imports/beneficiaries", content=body(),
                                   headers={**MULTIPART, "Authorization": f"Bearer {TOKEN}"})

    assert reply.status_code == 202, reply.text
    assert reply.json()["import_id"] == str(import_id) and reply.json()["state"] == "parsing"
    # Half the body sent: at least one chunk of the file was already in the store.
    assert seen_while_arriving and seen_while_arriving[0] >= 1
    store = await uploads(bus.stream_context)
    info = await store.get_info(f"imports/{import_id}")
    assert info.size == len(data) and info.chunks == -(-len(data) // CHUNK_BYTES)
    assert (await store.get(f"imports/{import_id}")).data == data
    [opened] = rpc.sent(OpenImportV1)
    assert opened == OpenImportV1(kind=ImportKind.beneficiaries, filename="bénéficiaires.csv")
    assert rpc.sent(FinishUploadV1) == [FinishUploadV1(import_id=import_id)]


async def test_an_upload_over_the_limit_is_413_leaves_nothing_and_fails_the_import(app, rpc, bus):
    import_id = open_import(rpc, max_bytes=CHUNK_BYTES + 1)
    store = await uploads(bus.stream_context)
    before = (await store.status()).size

    async with client(app) as browser:
        # No Content-Length: the body arrives in pieces, the limit is found while streaming.
        async def body():
            yield multipart_head("gros.csv")
            for _ in range(8):
                yield b"x" * 40_000
            yield multipart_tail()
        reply = await browser.post("/api/v1/imports/beneficiaries", content=body(),
                                   headers={**MULTIPART, "Authorization": f"Bearer {TOKEN}"})

    assert reply.status_code == 413 and reply.json()["code"] == "too_large"
    assert reply.json()["message"].startswith("Le fichier dépasse la taille maximale de 128 Ko")
    assert (await store.status()).size == before
    with pytest.raises(NotFoundError):
        await store.get_info(f"imports/{import_id}")
    [finished] = rpc.sent(FinishUploadV1)
    assert finished.import_id == import_id and finished.error.startswith("Le fichier dépasse la taille maximale")


async def test_an_upload_cut_short_fails_the_import_and_leaves_nothing(app, rpc, bus):
    import_id = open_import(rpc)
    store = await uploads(bus.stream_context)

    async with client(app) as browser:
        async def body():
            yield multipart_head("coupé.csv")
            yield os.urandom(CHUNK_BYTES + 10)  # then the body ends, without the closing boundary
        reply = await browser.post("/api/v1/imports/beneficiaries", content=body(),
                                   headers={**MULTIPART, "Authorization": f"Bearer {TOKEN}"})

    assert reply.status_code == 422 and "incomplet" in reply.json()["message"]
    with pytest.raises(NotFoundError):
        await store.get_info(f"imports/{import_id}")
    [finished] = rpc.sent(FinishUploadV1)
    assert "incomplet" in finished.error


def manager() -> MeReply:
    return MeReply(account_id=uuid.uuid4(), email="manager@demo.carnet.test", phone=None, role=Role.manager,
                   deployment_id=uuid.uuid4(), profile_id=uuid.uuid4(), firstname="Gaëlle", lastname="Martin")


async def test_the_page_form_streams_the_same_way_once_its_csrf_token_is_checked(app, rpc, bus):
    import_id = open_import(rpc)
    rpc.answers[GetMeV1] = manager()
    data = b"Nom*;Pr\xe9nom*\n\xc7elik;H\xe9l\xe8ne\n"  # Windows-1252: stored as sent, bytes untouched

    async with client(app, cookies={"carnet_csrf": "jeton"}) as browser:
        reply = await browser.post("/imports/beneficiaries", headers={**MULTIPART, "Authorization": f"Bearer {TOKEN}"},
                                   content=multipart_head("b.csv", {"csrf": "jeton"}) + data + multipart_tail())

    assert reply.status_code == 303 and reply.headers["location"] == f"/imports/{import_id}"
    assert (await (await uploads(bus.stream_context)).get(f"imports/{import_id}")).data == data


async def test_the_page_form_without_its_csrf_token_stores_nothing(app, rpc, bus):
    open_import(rpc)
    rpc.answers[GetMeV1] = manager()
    rpc.answers[ListImportsV1] = ImportsReply(imports=[])

    async with client(app, cookies={"carnet_csrf": "jeton"}) as browser:
        reply = await browser.post("/imports/beneficiaries", headers={**MULTIPART, "Authorization": f"Bearer {TOKEN}"},
                                   content=multipart_head("b.csv", {"csrf": "autre"}) + b"x;y\n" + multipart_tail())

    assert reply.status_code == 403 and "Le formulaire a expiré" in reply.text
    assert rpc.sent(OpenImportV1) == []


async def test_a_report_streams_back_as_an_attachment(app, rpc, bus):
    import_id = uuid.uuid4()
    store = await uploads(bus.stream_context)
    report = ("Ligne;Résultat;Messages\n" + "2;Rejetée;Ce bénéficiaire est introuvable.\n" * 20_000).encode()
    await store.put(f"reports/{import_id}.csv", report)
    rpc.answers[GetImportReportV1] = ImportObjectReply(
        object_name=f"reports/{import_id}.csv", filename="rapport bénéficiaires.csv",
        content_type="text/csv; charset=utf-8")

    async with client(app) as browser:
        reply = await browser.get(f"/api/v1/imports/{import_id}/report.csv",
                                  headers={"Authorization": f"Bearer {TOKEN}"})

    assert reply.status_code == 200 and reply.content == report
    assert reply.headers["content-type"] == "text/csv; charset=utf-8"
    assert reply.headers["content-length"] == str(len(report))
    assert reply.headers["content-disposition"] == (
        "attachment; filename=\"rapport b_n_ficiaires.csv\"; "
        "filename*=UTF-8''rapport%20b%C3%A9n%C3%A9ficiaires.csv")
    assert rpc.sent(GetImportReportV1) == [GetImportReportV1(import_id=import_id, format="csv")]


async def test_a_template_streams_back_and_an_expired_file_is_a_french_404(app, rpc, bus):
    store = await uploads(bus.stream_context)
    name = f"templates/{uuid.uuid4()}.xlsx"
    await store.put(name, b"PK\x03\x04 xlsx")
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rpc.answers[GetImportTemplateV1] = ImportObjectReply(object_name=name, filename="modele-beneficiaires.xlsx",
                                                         content_type=xlsx)

    async with client(app) as browser:
        reply = await browser.get("/api/v1/imports/templates/beneficiaries.xlsx",
                                  headers={"Authorization": f"Bearer {TOKEN}"})
        assert reply.status_code == 200 and reply.content == b"PK\x03\x04 xlsx"
        assert reply.headers["content-type"] == xlsx
        assert rpc.sent(GetImportTemplateV1) == [GetImportTemplateV1(kind=ImportKind.beneficiaries, format="xlsx")]

        rpc.answers[GetImportTemplateV1] = ImportObjectReply(object_name="templates/gone.csv", filename="m.csv",
                                                             content_type="text/csv")
        gone = await browser.get("/api/v1/imports/templates/structures.csv",
                                 headers={"Authorization": f"Bearer {TOKEN}"})
    assert gone.status_code == 404 and "gardés 7 jours" in gone.json()["message"]
