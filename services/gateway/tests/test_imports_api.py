"""Import routes → import service RPCs, without NATS: each route sends the right request with the caller's token,
a refusal answers its status with the French envelope, and an upload that cannot be one (no file, not multipart,
a declared size over the limit) is refused before any RPC and before its body is read."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from contracts.imports import (
    MAX_UPLOAD_BYTES,
    ApplyImportV1,
    GetImportV1,
    ImportKind,
    ImportRowsReply,
    ImportRowView,
    ImportsReply,
    ImportState,
    ImportView,
    ListImportRowsV1,
    ListImportsV1,
    OpenImportV1,
    ReviewStatus,
)
from gateway.api.imports import attachment, clean_filename
from gateway.config import GatewaySettings
from gateway.main import create_app
from servicekit.errors import Forbidden
from services.gateway.tests.fake_bus import FakeRpc

pytestmark = pytest.mark.unit

TOKEN = "eyJ.access.token"


@pytest.fixture
def rpc() -> FakeRpc:
    return FakeRpc()


@pytest.fixture
def app(rpc):
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = rpc
    return app


async def answer(app, method: str, path: str, *, token: str | None = TOKEN, **kwargs) -> httpx.Response:
    headers = {"X-Request-Id": "req-42", **kwargs.pop("headers", {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.request(method, path, headers=headers, **kwargs)


def view(import_id: uuid.UUID, state: ImportState = ImportState.review) -> ImportView:
    return ImportView(import_id=import_id, kind=ImportKind.beneficiaries, filename="beneficiaires.csv", state=state,
                      rows_total=3, rows_done=3, created_at=datetime(2026, 11, 28, 9, 30, tzinfo=UTC))


async def test_an_import_is_read_with_the_caller_s_token(app, rpc):
    import_id = uuid.uuid4()
    rpc.answers[GetImportV1] = view(import_id)

    reply = await answer(app, "GET", f"/api/v1/imports/{import_id}")

    assert reply.status_code == 200
    assert reply.json()["state"] == "review" and reply.json()["counts"]["created"] == 0
    [(request, headers)] = rpc.calls
    assert request == GetImportV1(import_id=import_id)
    assert headers == {"Authorization": f"Bearer {TOKEN}", "X-Request-Id": "req-42"}


async def test_rows_are_paged_and_filtered_by_status(app, rpc):
    import_id = uuid.uuid4()
    rpc.answers[ListImportRowsV1] = ImportRowsReply(rows=[ImportRowView(
        row=2, status=ReviewStatus.conflict, values={"Nom*": "Çelik"}, messages=["Homonyme"])], total=1)

    reply = await answer(app, "GET", f"/api/v1/imports/{import_id}/rows",
                         params={"status": "conflict", "offset": 100, "limit": 50})

    assert reply.status_code == 200 and reply.json()["rows"][0]["values"] == {"Nom*": "Çelik"}
    [(request, _headers)] = rpc.calls
    assert request == ListImportRowsV1(import_id=import_id, status=ReviewStatus.conflict, offset=100, limit=50)


async def test_an_unknown_status_is_a_french_422(app, rpc):
    reply = await answer(app, "GET", f"/api/v1/imports/{uuid.uuid4()}/rows", params={"status": "nouveau"})
    assert reply.status_code == 422 and reply.json()["code"] == "invalid" and rpc.calls == []


async def test_apply_sends_the_excluded_rows_and_answers_202(app, rpc):
    import_id = uuid.uuid4()
    rpc.answers[ApplyImportV1] = view(import_id, ImportState.applying)

    reply = await answer(app, "POST", f"/api/v1/imports/{import_id}/apply", json={"exclude_rows": [4, 7]})

    assert reply.status_code == 202 and reply.json()["state"] == "applying"
    [(request, _headers)] = rpc.calls
    assert request == ApplyImportV1(import_id=import_id, exclude_rows=[4, 7])


async def test_the_list_is_filtered_by_kind(app, rpc):
    rpc.answers[ListImportsV1] = ImportsReply(imports=[view(uuid.uuid4(), ImportState.done)])

    reply = await answer(app, "GET", "/api/v1/imports", params={"kind": "orientation-managers"})

    assert reply.status_code == 200 and len(reply.json()["imports"]) == 1
    [(request, _headers)] = rpc.calls
    assert request == ListImportsV1(kind=ImportKind.orientation_managers)


async def test_a_refusal_of_the_import_service_is_its_status_and_french_message(app, rpc):
    rpc.answers[OpenImportV1] = Forbidden("Vous ne pouvez pas importer de structures.")

    reply = await answer(app, "POST", "/api/v1/imports/structures",
                         files={"file": ("structures.csv", b"Nom*;Ville\nMission Locale;Valence\n", "text/csv")})

    assert reply.status_code == 403 and reply.json()["message"] == "Vous ne pouvez pas importer de structures."
    [(request, _headers)] = rpc.calls
    assert request == OpenImportV1(kind=ImportKind.structures, filename="structures.csv")


async def test_no_file_field_is_a_french_422_before_any_rpc(app, rpc):
    reply = await answer(app, "POST", "/api/v1/imports/beneficiaries", files={"fichier": ("a.csv", b"x;y\n")})

    assert reply.status_code == 422
    assert reply.json()["message"].startswith("Joignez le fichier à importer") and rpc.calls == []


async def test_a_file_field_without_a_file_is_no_file(app, rpc):
    # What a browser sends when no file was chosen: the part, with an empty file name.
    reply = await answer(app, "POST", "/api/v1/imports/beneficiaries", files={"file": ("", b"")})
    assert reply.status_code == 422 and "Joignez le fichier" in reply.json()["message"] and rpc.calls == []


async def test_a_body_that_is_not_multipart_is_a_french_422(app, rpc):
    reply = await answer(app, "POST", "/api/v1/imports/beneficiaries", content=b"Nom;Prenom\n",
                         headers={"Content-Type": "text/csv"})
    assert reply.status_code == 422 and "multipart/form-data" in reply.json()["message"] and rpc.calls == []


async def test_a_declared_length_over_the_limit_is_413_before_reading(app, rpc):
    reply = await answer(app, "POST", "/api/v1/imports/beneficiaries", files={"file": ("a.csv", b"x")},
                         headers={"Content-Length": str(MAX_UPLOAD_BYTES + 1024 ** 2)})

    assert reply.status_code == 413 and reply.json()["code"] == "too_large"
    assert reply.json()["message"].startswith("Le fichier dépasse la taille maximale de 50 Mo")
    assert rpc.calls == []


async def test_an_unknown_kind_is_a_422(app, rpc):
    reply = await answer(app, "POST", "/api/v1/imports/chats", files={"file": ("a.csv", b"x")})
    assert reply.status_code == 422 and rpc.calls == []


async def test_the_cookie_alone_from_another_site_cannot_upload(app, rpc):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway",
                                 cookies={"carnet_session": "cookie-token"}) as client:
        reply = await client.post("/api/v1/imports/beneficiaries", files={"file": ("a.csv", b"x")},
                                  headers={"Origin": "https://evil.example"})
    assert reply.status_code == 403 and "autre site" in reply.json()["message"] and rpc.calls == []


def test_the_routes_are_in_the_openapi_document_with_their_multipart_body(app):
    paths = app.openapi()["paths"]
    upload = paths["/api/v1/imports/{kind}"]["post"]
    assert "file" in upload["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert {"/api/v1/imports", "/api/v1/imports/{import_id}", "/api/v1/imports/{import_id}/rows",
            "/api/v1/imports/{import_id}/apply", "/api/v1/imports/{import_id}/report.{file_format}",
            "/api/v1/imports/templates/{kind}.{file_format}"} <= set(paths)


def test_a_file_name_keeps_its_letters_and_loses_its_folders_and_controls():
    assert clean_filename("C:\\Users\\hélène\\Bénéficiaires\x07 2026.csv") == "Bénéficiaires 2026.csv"
    assert clean_filename("../../etc/passwd") == "passwd"


def test_the_attachment_header_cannot_be_broken_out_of():
    header = attachment('rapport "Hélène"\r\nSet-Cookie: x=1.csv')
    assert header == ('attachment; filename="rapport H_l_neSet-Cookie: x=1.csv"; '
                      "filename*=UTF-8''rapport%20H%C3%A9l%C3%A8neSet-Cookie%3A%20x%3D1.csv")
