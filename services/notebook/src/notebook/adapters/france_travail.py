"""France Travail's partner APIs (spec §4.4): OAuth2 client credentials, then "rechercher-usager" (NIR and birth
date → identifiant), the "diagnostic argumenté" of an individual, and the agencies' referential.

What the caller can rely on: an answer, ``None`` when France Travail has no such person or dossier, or
``FranceTravailUnavailable`` (5xx, timeouts, refused connections, too many 429s, an answer that is not what the API
documents). Nothing else escapes, so that no page of ours ever fails because France Travail did.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog

from notebook.domain.france_travail import UNAVAILABLE, FranceTravailUnavailable  # noqa: F401  (raised here)

log = structlog.get_logger("notebook.france_travail")

DIAGNOSTIC_SCOPES = "api_rechercher-usagerv1 api_diagnosticargumentev1"
AGENCIES_SCOPES = "api_referentielagencesv1 organisationpe"
# A token is renewed this long before it expires: a request sent with it must still find it valid.
TOKEN_MARGIN_S = 60


@dataclass(frozen=True)
class FranceTravailConfig:
    auth_base_url: str
    api_base_url: str
    client_id: str
    client_secret: str
    timeout_s: float = 30
    max_tries: int = 5
    max_retry_after_s: float = 30


@dataclass
class _Token:
    value: str
    renew_at: float  # monotonic


class FranceTravailClient:
    """One per process: tokens (one per set of scopes) are cached until a little before they expire."""

    def __init__(self, config: FranceTravailConfig, *, transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._http = httpx.AsyncClient(timeout=config.timeout_s, transport=transport)
        self._sleep, self._monotonic = sleep, monotonic
        self._tokens: dict[str, _Token] = {}
        self._token_locks: dict[str, asyncio.Lock] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the API ---------------------------------------------------------------------------------------------
    async def find_individual(self, nir: str, date_of_birth: date) -> str | None:
        """France Travail's ``identifiant`` of the person with this NIR and birth date, or None."""
        answer = await self._request(
            "recherche", "POST", "/partenaire/rechercher-usager/v1/usagers/recherche", DIAGNOSTIC_SCOPES,
            json={"nir": nir, "dateNaissance": date_of_birth.isoformat()})
        identifiant = answer.get("identifiant") if isinstance(answer, dict) else None
        return identifiant or None

    async def diagnostic(self, identifiant: str) -> dict[str, Any] | None:
        """The "diagnostic argumenté" (``DossierIndividuData``) of an individual, or None without a dossier."""
        answer = await self._request(
            "diagnostic", "GET", f"/partenaire/diagnosticargumente/v1/individus/{identifiant}", DIAGNOSTIC_SCOPES)
        if answer is None:
            return None
        if not isinstance(answer, dict):
            raise FranceTravailUnavailable("diagnostic: not an object")
        return answer

    async def agencies(self, department: str) -> list[dict[str, Any]]:
        """The agencies of a département (its code, "8" asked as "08"): code, codeSafir, libelle, siret, contact,
        adressePrincipale…"""
        answer = await self._request(
            "agences", "GET", "/partenaire/referentielagences/v1/agences", AGENCIES_SCOPES,
            params={"commune": department.rjust(2, "0"), "horaire": "false", "zonecompetence": "false"})
        if answer is None:
            return []
        if not isinstance(answer, list):
            raise FranceTravailUnavailable("agencies: not a list")
        return answer

    # --- HTTP ------------------------------------------------------------------------------------------------
    async def _request(self, api: str, method: str, path: str, scopes: str, **kwargs: Any) -> Any:
        """The JSON of a 200, None for 204 and 404 (nobody, no dossier). A 401 renews the token once (it may
        have been revoked before its time); a 429 waits as told, ``max_tries`` times at most. Errors name the
        ``api``, never the path: it may hold France Travail's identifiant of the person."""
        url = self.config.api_base_url.rstrip("/") + path
        renewed, tries = False, 0
        while True:
            token = await self._token(scopes)
            response = await self._send(api, method, url, headers={"Authorization": f"Bearer {token}",
                                                              "Accept": "application/json"}, **kwargs)
            if response.status_code == 401 and not renewed:
                self._tokens.pop(scopes, None)
                renewed = True
                continue
            if response.status_code != 429:
                return self._json_of(response, api)
            tries += 1
            if tries >= self.config.max_tries:
                raise FranceTravailUnavailable(f"{api}: still rate limited after {tries} tries")
            await self._sleep(self._retry_after(response))

    async def _send(self, api: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise FranceTravailUnavailable(f"{api}: timed out") from exc
        except httpx.HTTPError as exc:  # refused, reset, a bad URL
            raise FranceTravailUnavailable(f"{api}: {type(exc).__name__}") from exc

    @staticmethod
    def _json_of(response: httpx.Response, api: str) -> Any:
        if response.status_code in (204, 404):
            return None
        if response.status_code != 200:
            raise FranceTravailUnavailable(f"{api}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise FranceTravailUnavailable(f"{api}: not JSON") from exc

    def _retry_after(self, response: httpx.Response) -> float:
        """``Retry-After`` in seconds or as an HTTP date; 1 s when missing. Longer than we may wait: give up."""
        value = response.headers.get("Retry-After", "").strip()
        seconds = 1.0
        if value:
            try:
                seconds = float(value)
            except ValueError:
                try:
                    seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
                except (TypeError, ValueError):
                    seconds = 1.0
        if seconds > self.config.max_retry_after_s:
            raise FranceTravailUnavailable(f"Retry-After {value} is longer than we wait")
        return max(seconds, 0.0)

    async def _token(self, scopes: str) -> str:
        cached = self._tokens.get(scopes)
        if cached and self._monotonic() < cached.renew_at:
            return cached.value
        async with self._token_locks.setdefault(scopes, asyncio.Lock()):  # one token request for many callers
            cached = self._tokens.get(scopes)
            if cached and self._monotonic() < cached.renew_at:
                return cached.value
            response = await self._send(
                "access token", "POST", self.config.auth_base_url.rstrip("/") + "/connexion/oauth2/access_token",
                params={"realm": "/partenaire"},
                data={"grant_type": "client_credentials", "client_id": self.config.client_id,
                      "client_secret": self.config.client_secret, "scope": scopes})
            if response.status_code != 200:
                raise FranceTravailUnavailable(f"access token: HTTP {response.status_code}")
            try:
                body = response.json()
                value, lifetime = str(body["access_token"]), float(body.get("expires_in", 0))
            except (ValueError, KeyError, TypeError) as exc:
                raise FranceTravailUnavailable("access token: unexpected answer") from exc
            # Renewed a little before it expires (half its life when it lives less than twice the margin).
            margin = min(TOKEN_MARGIN_S, lifetime / 2)
            self._tokens[scopes] = _Token(value, self._monotonic() + lifetime - margin)
            return value
