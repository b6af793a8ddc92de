"""Route → RPC → HTTP, without NATS: each route sends the right request model with the caller's token and the
request id, a reply becomes the JSON answer, and an error reply its HTTP status with the French envelope.

The app runs without its lifespan; ``app.state.rpc`` is a fake RPC client that records what it is asked and
answers what the test set."""
from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest

from contracts.base import ErrorCode
from contracts.directory import SearchStructuresV1, StructuresReply, StructureView
from contracts.identity import AcceptedReply, ClientInfo, RefreshSessionV1, RequestLoginLinkV1, TokenPairReply
from contracts.notebook import (
    Access,
    ActionStatus,
    AddActionV1,
    BeneficiaryView,
    GetNotebookPageV1,
    NotebookPage,
    VersionReply,
)
from gateway.config import GatewaySettings
from gateway.main import create_app
from servicekit.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RpcTimeout,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
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
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # lifespan (NATS) not started
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.request(method, path, headers=headers, **kwargs)


def page(notebook_id: uuid.UUID) -> NotebookPage:
    return NotebookPage(
        notebook_id=notebook_id, deployment_id=uuid.uuid4(), access=Access.full,
        beneficiary=BeneficiaryView(beneficiary_id=uuid.uuid4(), version=3, firstname="Sophie", lastname="Tifour",
                                    date_of_birth=date(1990, 4, 12)))


async def test_a_notebook_page_is_asked_with_the_caller_s_token_and_request_id(app, rpc):
    notebook_id = uuid.uuid4()
    rpc.answers[GetNotebookPageV1] = page(notebook_id)

    reply = await answer(app, "GET", f"/api/v1/notebooks/{notebook_id}", params={"timeline_kind": "focus"})

    assert reply.status_code == 200 and reply.headers["X-Request-Id"] == "req-42"
    assert reply.json() == rpc.answers[GetNotebookPageV1].model_dump(mode="json")
    assert reply.json()["beneficiary"]["firstname"] == "Sophie"
    [(request, headers)] = rpc.calls
    assert request == GetNotebookPageV1(notebook_id=notebook_id, timeline_kind="focus")
    assert headers == {"Authorization": f"Bearer {TOKEN}", "X-Request-Id": "req-42"}


async def test_the_page_s_json_is_the_one_the_model_gives_withheld_fields_left_out(app, rpc):
    """The page's JSON is passed on as the service wrote it (not parsed and serialised again): it must be what
    the route answered when it went through the model, fields withheld from this caller still left out."""
    notebook_id = uuid.uuid4()
    full = page(notebook_id)
    rpc.answers[GetNotebookPageV1] = full.model_copy(update={"beneficiary": full.beneficiary.model_copy(
        update={"withheld": ["nir", "right_rsa"]})})

    reply = await answer(app, "GET", f"/api/v1/notebooks/{notebook_id}")

    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    assert reply.json() == NotebookPage.model_validate(reply.json()).model_dump(mode="json")
    assert reply.json() == rpc.answers[GetNotebookPageV1].model_dump(mode="json")
    assert {"nir", "right_rsa"}.isdisjoint(reply.json()["beneficiary"])


async def test_the_session_cookie_is_the_token_when_there_is_no_bearer(app, rpc):
    notebook_id = uuid.uuid4()
    rpc.answers[GetNotebookPageV1] = page(notebook_id)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway",
                                 cookies={"carnet_session": "cookie-token"}) as client:
        assert (await client.get(f"/api/v1/notebooks/{notebook_id}")).status_code == 200
    [(_request, headers)] = rpc.calls
    assert headers["Authorization"] == "Bearer cookie-token" and headers["X-Request-Id"]


async def test_a_session_renewed_for_the_page_sends_its_new_cookies_with_it(app, rpc):
    notebook_id = uuid.uuid4()
    rpc.answers[GetNotebookPageV1] = page(notebook_id)
    rpc.answers[RefreshSessionV1] = TokenPairReply(access_token="new-access", refresh_token="new-refresh",
                                                   expires_in=900)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway",
                                 cookies={"carnet_refresh": "old-refresh"}) as client:
        reply = await client.get(f"/api/v1/notebooks/{notebook_id}")
    assert reply.status_code == 200 and reply.json()["notebook_id"] == str(notebook_id)
    assert reply.cookies["carnet_session"] == "new-access" and reply.cookies["carnet_refresh"] == "new-refresh"
    assert rpc.calls[-1][1]["Authorization"] == "Bearer new-access"


async def test_an_action_is_added_from_the_path_and_the_body(app, rpc):
    target_id, action_id = uuid.uuid4(), uuid.uuid4()
    rpc.answers[AddActionV1] = VersionReply(id=action_id)

    reply = await answer(app, "POST", f"/api/v1/targets/{target_id}/actions",
                         json={"action": "Atelier CV", "starting_at": "2026-12-01", "status": "planned"})

    assert reply.status_code == 201 and reply.json() == {"id": str(action_id), "version": 1}
    [(request, headers)] = rpc.calls
    assert request == AddActionV1(target_id=target_id, action="Atelier CV", starting_at=date(2026, 12, 1),
                                  status=ActionStatus.planned)
    assert headers["Authorization"] == f"Bearer {TOKEN}"


async def test_a_directory_search_passes_the_query_parameters(app, rpc):
    deployment_id = uuid.uuid4()
    structure = StructureView(structure_id=uuid.uuid4(), deployment_id=deployment_id, name="Mission Locale",
                              city="Valence")
    rpc.answers[SearchStructuresV1] = StructuresReply(structures=[structure], total=1)

    reply = await answer(app, "GET", "/api/v1/structures",
                         params={"q": "mission valence", "deployment_id": str(deployment_id), "limit": 5})

    assert reply.status_code == 200 and reply.json()["total"] == 1
    assert reply.json()["structures"][0]["name"] == "Mission Locale"
    [(request, _headers)] = rpc.calls
    assert request == SearchStructuresV1(q="mission valence", deployment_id=deployment_id, limit=5)


async def test_the_magic_link_request_carries_the_client_and_no_token(app, rpc):
    rpc.answers[RequestLoginLinkV1] = AcceptedReply()

    reply = await answer(app, "POST", "/api/v1/auth/magic-link", token=None, json={"email": "pro@demo.carnet.test"},
                         headers={"User-Agent": "navigateur/1.0"})

    assert reply.status_code == 202 and "lien de connexion" in reply.json()["message"]
    [(request, headers)] = rpc.calls
    assert request == RequestLoginLinkV1(email="pro@demo.carnet.test",
                                         client=ClientInfo(ip="127.0.0.1", user_agent="navigateur/1.0"))
    assert headers == {"X-Request-Id": "req-42"}


async def test_an_anonymous_form_with_a_file_is_refused_before_it_is_spooled(app, rpc, monkeypatch):
    """Starlette writes a form's files to temporary files whatever their size: the forms posted before signing in
    (login, sign-up) take none, so a file part is refused when its headers arrive, its content never stored."""
    from starlette import formparsers

    def never(*_args, **_kwargs):
        raise AssertionError("a file part was spooled")

    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", never)
    for path in ("/connexion", "/inscription", "/connexion/sms"):
        reply = await answer(app, "POST", path, token=None, cookies={"carnet_csrf": "x"},
                             data={"csrf": "x", "email": "a@b.fr"}, files={"f": ("big.bin", b"0" * 100_000)})
        assert reply.status_code == 400, path
    assert rpc.calls == []


@pytest.mark.parametrize(("error", "status"), [
    (Unauthenticated("Votre session a expiré ou n'est pas valide. Reconnectez-vous."), 401),
    (Forbidden("Vous n'avez pas le droit de faire cette opération sur ce carnet.", details={"operation": "x"}), 403),
    (NotFound("Aucun carnet ne correspond.", details={"reason": "not_imported"}), 404),
    (Conflict("Quelqu'un a modifié cet élément.", details={"version": 4}), 409),
    (Invalid("Saisissez un intitulé.", details={"field": "text"}), 422),
    (Unavailable("Le service ne répond pas pour le moment."), 503),
    (RpcTimeout("Le service ne répond pas pour le moment. Réessayez dans un instant."), 504),
    (ServiceError("Une erreur interne est survenue (demande req-42).", code=ErrorCode.internal,
                  details={"request_id": "req-42"}), 500),
])
async def test_an_error_reply_answers_its_status_with_the_french_envelope(app, rpc, error, status):
    rpc.answers[GetNotebookPageV1] = error

    reply = await answer(app, "GET", f"/api/v1/notebooks/{uuid.uuid4()}")

    assert reply.status_code == status
    assert reply.json() == {"code": error.code.value, "message": error.message, "details": error.details}


async def test_no_token_is_401_before_any_rpc(app, rpc):
    reply = await answer(app, "GET", f"/api/v1/notebooks/{uuid.uuid4()}", token=None)
    assert reply.status_code == 401 and reply.json()["code"] == "unauthenticated"
    assert rpc.calls == []
