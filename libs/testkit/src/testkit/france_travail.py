"""A local France Travail for tests, shaped like its partner APIs (spec §4.4): OAuth2 client credentials, the search
of a person by NIR and birth date, the diagnostic argumenté, the agencies. It runs on 127.0.0.1 and a free port;
tests say who it knows (``add_person``) and script its faults (``fail_next``): 429 with ``Retry-After``, 5xx, slow
answers; tokens can expire early (``revoke_tokens``) or live briefly (``token_lifetime_s``)."""
from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, Response

from testkit.infra import free_port, wait_for_port

SCOPE_OF = {"recherche": "api_rechercher-usagerv1", "diagnostic": "api_diagnosticargumentev1",
            "agences": "api_referentielagencesv1"}


@dataclass
class Fault:
    """The next API request (of ``api``, or any when empty) gets ``status`` (with ``retry_after``) or, with
    ``delay_s``, its normal answer that late."""

    status: int = 0
    retry_after: str = ""
    delay_s: float = 0
    api: str = ""  # "recherche", "diagnostic", "agences"


@dataclass
class _Token:
    scopes: frozenset[str]
    expires_at: float


@dataclass
class LocalFranceTravail:
    client_id: str = "carnet-test"
    client_secret: str = "carnet-test-secret"
    token_lifetime_s: int = 1499  # what France Travail gives
    port: int = field(default_factory=free_port)
    people: dict[tuple[str, str], str] = field(default_factory=dict)  # (nir, birth date) → identifiant
    dossiers: dict[str, dict] = field(default_factory=dict)  # identifiant → diagnostic argumenté
    agencies: dict[str, list[dict]] = field(default_factory=dict)  # département → agencies
    faults: list[Fault] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # "recherche", "diagnostic", "agences", as answered
    token_requests: int = 0

    def __post_init__(self) -> None:
        self._tokens: dict[str, _Token] = {}
        self._numbers = itertools.count(1)
        self._server: uvicorn.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_person(self, nir: str, date_of_birth: str, dossier: dict | None) -> str:
        """Someone France Travail knows; without a dossier, the diagnostic answers 204."""
        identifiant = f"ft-{next(self._numbers):06d}"
        self.people[(nir, date_of_birth)] = identifiant
        if dossier is not None:
            self.dossiers[identifiant] = dossier
        return identifiant

    def fail_next(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def revoke_tokens(self) -> None:
        """Every token given so far is refused from now on (as when France Travail expires them early)."""
        self._tokens.clear()

    def _authorised(self, request: Request, api: str) -> bool:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        token = self._tokens.get(value) if scheme == "Bearer" else None
        return token is not None and token.expires_at > time.monotonic() and SCOPE_OF[api] in token.scopes

    async def _answer(self, request: Request, api: str, answer) -> Response:
        if not self._authorised(request, api):
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        fault = next((f for f in self.faults if f.api in ("", api)), None)
        if fault is not None:
            self.faults.remove(fault)
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            elif fault.status:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return JSONResponse({"message": "faute simulée"}, status_code=fault.status, headers=headers)
        self.calls.append(api)
        if answer is None:
            return Response(status_code=204)
        return JSONResponse(answer)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/connexion/oauth2/access_token")
        async def access_token(realm: str, grant_type: str = Form(), client_id: str = Form(),
                               client_secret: str = Form(), scope: str = Form("")):
            if realm != "/partenaire" or grant_type != "client_credentials" or (client_id, client_secret) != (
                    self.client_id, self.client_secret):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            self.token_requests += 1
            value = f"token-{next(self._numbers)}"
            self._tokens[value] = _Token(frozenset(scope.split()), time.monotonic() + self.token_lifetime_s)
            return {"access_token": value, "token_type": "Bearer", "expires_in": self.token_lifetime_s,
                    "scope": scope}

        @app.post("/partenaire/rechercher-usager/v1/usagers/recherche")
        async def recherche(request: Request):
            body = await request.json()
            identifiant = self.people.get((body.get("nir", ""), body.get("dateNaissance", "")))
            found = {"identifiant": identifiant, "codeRetour": "S001", "message": "Approchant trouvé"}
            none = {"identifiant": None, "codeRetour": "S002", "message": "Aucun approchant trouvé"}
            return await self._answer(request, "recherche", found if identifiant else none)

        @app.get("/partenaire/diagnosticargumente/v1/individus/{identifiant}")
        async def diagnostic(identifiant: str, request: Request):
            return await self._answer(request, "diagnostic", self.dossiers.get(identifiant))

        @app.get("/partenaire/referentielagences/v1/agences")
        async def agences(commune: str, request: Request):
            return await self._answer(request, "agences", self.agencies.get(commune, []))

        return app

    def start(self) -> LocalFranceTravail:
        self._server = uvicorn.Server(uvicorn.Config(self.app(), host="127.0.0.1", port=self.port,
                                                     log_level="warning", timeout_graceful_shutdown=1))
        threading.Thread(target=self._server.run, daemon=True, name="france-travail").start()
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True

    def notebook_env(self, *deployment_ids) -> dict[str, str]:
        """Settings that point the notebook service at this France Travail for these territories."""
        return {"NOTEBOOK_FRANCE_TRAVAIL_AUTH_BASE_URL": self.url, "NOTEBOOK_FRANCE_TRAVAIL_API_BASE_URL": self.url,
                "NOTEBOOK_FRANCE_TRAVAIL_CLIENT_ID": self.client_id,
                "NOTEBOOK_FRANCE_TRAVAIL_CLIENT_SECRET": self.client_secret,
                "NOTEBOOK_FRANCE_TRAVAIL_DEPLOYMENTS": "[" + ",".join(f'"{d}"' for d in deployment_ids) + "]"}


def diagnostic_argumente(*, conseiller: str = "Conseiller FT") -> dict:
    """A dossier as France Travail gives it: a contrainte worked on (a situation, objectives in progress and not
    discussed), one not discussed, and a job with a strength and a need."""
    return {
        "contraintesIndividusDto": {
            "code": "1", "libelle": "Contraintes individuelles", "dateDeModification": "2024-03-12T10:08:19.000+00:00",
            "conseiller": conseiller,
            "contraintes": [
                {"code": "23", "libelle": "Développer sa mobilité", "date": "2024-03-11", "valeur": "OUI",
                 "situations": [
                     {"code": "24", "libelle": "Dépendant des transports en commun", "valeur": "OUI"},
                     {"code": "25", "libelle": "Permis de conduire en cours", "valeur": "NON"}],
                 "objectifs": [
                     {"code": "26", "libelle": "Obtenir le permis de conduire", "valeur": "EN_COURS"},
                     {"code": "27", "libelle": "Acquérir un véhicule", "valeur": "NON_ABORDE"}]},
                {"code": "30", "libelle": "Surmonter ses contraintes familiales", "date": None,
                 "valeur": "NON_ABORDEE", "situations": [], "objectifs": []},
            ],
        },
        "besoinsParDiagnosticIndividuDtos": [
            {"idMetierChiffre": "abc", "nomMetier": "Aide-soignant / Aide-soignante", "statut": "EN_COURS",
             "typologie": "PROJET_PRINCIPAL", "estPrioritaire": True, "dateMiseAJour": "2024-03-10",
             "besoins": [{"code": "1", "libelle": "Savoir-être professionnels", "valeur": "POINT_FORT"},
                         {"code": "2", "libelle": "Connaissance du métier", "valeur": "BESOIN"}]},
        ],
    }
