"""`carnet import` against a stand-in of the gateway's import API (httpx's MockTransport): it uploads the file as
multipart field ``file`` with the bearer token, follows the reading, prints the review, applies when asked, prints
the final counts and the report's address; it fails with exit code 1 and a French message."""
from __future__ import annotations

import io
import json
import uuid

import httpx
import pytest
from carnet.imports import ImportFailed, dev_login, run_import
from carnet.main import app as cli
from rich.console import Console
from typer.testing import CliRunner

from contracts.imports import ImportKind

pytestmark = pytest.mark.unit

TOKEN = "eyJ.access.token"


def view(import_id: str, state: str, **fields) -> dict:
    return {"import_id": import_id, "kind": "beneficiaries", "filename": "b.csv", "state": state, "reason": "",
            "rows_total": 3, "rows_done": 0, "rows_per_s": None, "eta_s": None, "warnings": [],
            "counts": {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0, "excluded": 0},
            "review": {"new": 0, "same": 0, "conflict": 0, "invalid": 0}, **fields}


class Gateway:
    """The import API as the CLI sees it: each GET of the import moves it one step along ``states``."""

    def __init__(self, states: list[dict]) -> None:
        self.import_id = str(uuid.uuid4())
        self.states = states
        self.uploaded = b""
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        path = request.url.path
        if request.method == "POST" and path == "/api/v1/imports/beneficiaries":
            self.uploaded = request.read()
            return httpx.Response(202, json=view(self.import_id, "parsing"))
        if request.method == "POST" and path.endswith("/apply"):
            assert json.loads(request.content) == {"exclude_rows": []}
            return httpx.Response(202, json=view(self.import_id, "applying"))
        if path == f"/api/v1/imports/{self.import_id}":
            return httpx.Response(200, json=self.states.pop(0))
        return httpx.Response(404, json={"code": "not_found", "message": "Introuvable.", "details": {}})


def run(gateway: Gateway, tmp_path, *, apply: bool) -> tuple[dict, str]:
    path = tmp_path / "bénéficiaires.csv"
    path.write_bytes("Nom*;Prénom*\nÇelik;Hélène\n".encode() * 2000)
    out = io.StringIO()
    with httpx.Client(base_url="http://carnet.test", transport=httpx.MockTransport(gateway),
                      headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        last = run_import(client, path, ImportKind.beneficiaries, structure=None, apply=apply,
                          console=Console(file=out, width=200), poll_s=0)
    return last, out.getvalue()


def test_an_import_is_uploaded_reviewed_applied_and_reported(tmp_path):
    gateway = Gateway([])
    gateway.states = [
        view(gateway.import_id, "parsing", rows_done=1, rows_per_s=1200.0),
        view(gateway.import_id, "review", rows_done=3, review={"new": 2, "same": 0, "conflict": 1, "invalid": 0},
             warnings=["Ce fichier a déjà été importé le 27/11/2026 [rouge]."]),
        view(gateway.import_id, "applying", rows_done=1),
        view(gateway.import_id, "done", counts={"created": 2, "updated": 0, "unchanged": 0, "rejected": 0,
                                                "excluded": 0}),
    ]

    last, printed = run(gateway, tmp_path, apply=True)

    assert last["state"] == "done" and gateway.states == []
    assert b'name="file"; filename="b\xc3\xa9n\xc3\xa9ficiaires.csv"' in gateway.uploaded
    assert (b"\r\n\r\n" + (tmp_path / "bénéficiaires.csv").read_bytes() + b"\r\n--") in gateway.uploaded
    assert "Nouvelles (seront créées)" in printed and "déjà été importé le 27/11/2026 [rouge]" in printed
    assert "Créées" in printed
    assert f"http://carnet.test/api/v1/imports/{gateway.import_id}/report.csv" in printed


def test_without_apply_it_stops_at_the_review(tmp_path):
    gateway = Gateway([])
    gateway.states = [view(gateway.import_id, "review", review={"new": 3, "same": 0, "conflict": 0, "invalid": 0})]

    last, printed = run(gateway, tmp_path, apply=False)

    assert last["state"] == "review"
    assert not any(request.url.path.endswith("/apply") for request in gateway.requests)
    assert f"http://carnet.test/imports/{gateway.import_id}" in printed and "--apply" in printed


def test_a_failed_import_raises_its_french_reason(tmp_path):
    gateway = Gateway([])
    gateway.states = [view(gateway.import_id, "failed", reason="La colonne obligatoire « Nom » manque.")]

    with pytest.raises(ImportFailed, match="La colonne obligatoire « Nom » manque."):
        run(gateway, tmp_path, apply=True)


def test_a_refusal_raises_the_gateway_s_french_message(tmp_path):
    def refuse(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"code": "forbidden", "message": "Vous ne pouvez pas importer ce fichier.",
                                         "details": {}})
    path = tmp_path / "b.csv"
    path.write_text("Nom\n")
    with httpx.Client(base_url="http://carnet.test", transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(ImportFailed, match="Vous ne pouvez pas importer ce fichier."):
            run_import(client, path, ImportKind.beneficiaries, structure=None, apply=False,
                       console=Console(file=io.StringIO()))


def test_the_dev_login_reads_the_link_in_the_dev_mailbox():
    mailbox: list[dict] = [{"links": ["http://carnet.test/auth/magic/ancien"]}]

    def gateway(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v1/dev/mailbox":
            return httpx.Response(200, json=mailbox)
        if path == "/api/v1/auth/magic-link":
            mailbox.insert(0, {"links": ["http://carnet.test/auth/magic/nouveau"]})
            return httpx.Response(202, json={"message": "envoyé"})
        if path == "/api/v1/auth/token":
            assert json.loads(request.content) == {"token": "nouveau"}
            return httpx.Response(200, json={"access_token": TOKEN, "refresh_token": "r", "expires_in": 900})
        assert path == "/api/v1/me" and request.headers["authorization"] == f"Bearer {TOKEN}"
        return httpx.Response(200, json={"pending_steps": []})

    with httpx.Client(base_url="http://carnet.test", transport=httpx.MockTransport(gateway)) as client:
        assert dev_login(client, "manager@demo.carnet.test") == TOKEN


def test_the_command_without_a_token_or_a_site_exits_1_in_french(tmp_path, monkeypatch):
    monkeypatch.delenv("CARNET_TOKEN", raising=False)
    path = tmp_path / "b.csv"
    path.write_text("Nom\n")
    runner = CliRunner()

    no_token = runner.invoke(cli, ["import", str(path), "--kind", "beneficiaries"])
    assert no_token.exit_code == 1 and "--token" in no_token.output

    no_site = runner.invoke(cli, ["import", str(path), "--kind", "beneficiaries", "--token", TOKEN,
                                  "--url", "http://127.0.0.1:9"])
    assert no_site.exit_code == 1 and "ne répond pas" in no_site.output
