"""Webhooks to partners, the pure part: what a partner receives of each event, how it is signed, which
addresses may receive it, when a failed delivery is tried again and when a failing subscription pauses.

The signature is Stripe's scheme: ``X-Carnet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>``. The timestamp is signed with the body, so a captured request cannot be replayed later than
the partner's tolerance; ``examples/webhook_signature.py`` is the partner's side of it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
from datetime import datetime, timedelta
from functools import cached_property
from urllib.parse import urlsplit


from contracts.notebook import (
    AppointmentBookedV1,
    ContractValidatedV1,
    NotebookEvent,
    OrientationChangedV1,
    ReferentChangedV1,
)
from contracts.webhooks import WebhookEventType
from notify.domain.retries import next_attempt_at

SIGNATURE_HEADER = "X-Carnet-Signature"
EVENT_HEADER = "X-Carnet-Event"
DELIVERY_HEADER = "X-Carnet-Delivery"

# What a partner may see of each event: ids, names of structures and professionals, dates. Never the
# beneficiary's contact details nor the professionals' email addresses the events carry for notify's own messages.
PUBLIC_FIELDS: dict[type[NotebookEvent], tuple[WebhookEventType, tuple[str, ...]]] = {
    OrientationChangedV1: (WebhookEventType.orientation_changed,
                           ("reorientation", "orientation_system_id", "orientation_system_name", "structure_id",
                            "structure_name", "referent_id")),
    ReferentChangedV1: (WebhookEventType.referent_changed,
                        ("referent_id", "referent_name", "previous_referent_id", "orientation_system_id")),
    AppointmentBookedV1: (WebhookEventType.appointment_booked,
                          ("appointment_id", "at", "person_id", "with_name", "structure_name")),
    ContractValidatedV1: (WebhookEventType.contract_validated, ("contract_id", "kind", "decided_on")),
}
# A partner sees "professional_id", not our internal name for who the appointment is with.
RENAMED = {"person_id": "professional_id"}

# --- payload and signature ----------------------------------------------------------------------------------


def event_type_of(event: NotebookEvent) -> WebhookEventType:
    return PUBLIC_FIELDS[type(event)][0]


def payload_of(event: NotebookEvent) -> bytes:
    """The body POSTed, as bytes: signed and stored as is, so that a replay sends exactly what was signed."""
    event_type, fields = PUBLIC_FIELDS[type(event)]
    values = event.model_dump(mode="json", include=set(fields))
    body = {"id": str(event.event_id), "type": event_type.value,
            "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
            "territory": str(event.deployment_id), "notebook_id": str(event.notebook_id),
            "data": {RENAMED.get(name, name): values.get(name) for name in fields}}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def new_secret() -> str:
    """256 random bits; the prefix tells a leaked value for what it is (secret scanners know ``whsec_``)."""
    return "whsec_" + secrets.token_urlsafe(32)


class SecretBox:
    """Secrets encrypted at rest: they must be read back to sign, so encrypted (Fernet), never hashed. The key
    derives from notify's secret (``NOTIFY_SECRET_KEY``)."""

    def __init__(self, key: bytes):
        self._fernet_key = base64.urlsafe_b64encode(hashlib.sha256(b"notify-webhook-secrets\0" + key).digest())

    @cached_property
    def _fernet(self):
        # Made at the first webhook secret, not at start: cryptography (OpenSSL) is some 8 MB of an idle
        # service's memory (issue 19 item 4).
        from cryptography.fernet import Fernet
        return Fernet(self._fernet_key)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        return self._fernet.decrypt(sealed.encode()).decode()


# --- where a webhook may go ----------------------------------------------------------------------------------
HTTPS_REQUIRED = "L'adresse doit commencer par https://."
NOT_A_URL = "L'adresse n'est pas une URL valide (https://exemple.fr/chemin attendu)."
PRIVATE_ADDRESS = ("L'adresse désigne une machine locale ou d'un réseau privé : "
                   "seules les adresses publiques sont acceptées.")
WITH_CREDENTIALS = "L'adresse ne doit pas contenir d'identifiant ni de mot de passe."
LOCAL_NAMES = ("localhost", "localhost.localdomain")


def public_address(address: str) -> bool:
    """False for loopback, private, link-local (cloud metadata at 169.254.169.254), shared, reserved and
    multicast addresses: a webhook must never become a way into our own network (SSRF)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_problem(url: str, dev_mode: bool) -> str | None:
    """Why ``url`` cannot receive webhooks, in French; None when it can. In dev and tests, http:// and local
    addresses are allowed (the tests' receivers listen on 127.0.0.1). Names are resolved again at each send."""
    try:
        parts = urlsplit(url.strip())
        host, _port = parts.hostname, parts.port  # ``port`` raises on a port that is not a number
    except ValueError:
        return NOT_A_URL
    if parts.scheme not in ("https", "http") or not host:
        return NOT_A_URL
    if parts.username or parts.password:
        return WITH_CREDENTIALS
    if dev_mode:
        return None
    if parts.scheme != "https":
        return HTTPS_REQUIRED
    if host.lower().rstrip(".") in LOCAL_NAMES or host.lower().endswith(".localhost"):
        return PRIVATE_ADDRESS
    try:
        return None if public_address(host) else PRIVATE_ADDRESS
    except ValueError:
        return None  # a name: its addresses are checked when it is resolved, at each send


# --- retries and pause ----------------------------------------------------------------------------------------
PAUSE_AFTER = timedelta(days=1)


def is_transient(status_code: int | None) -> bool:
    """Worth trying again: the partner unreachable or timing out (no status), overloaded (429) or failing
    (5xx). Any other refusal (4xx) would be refused again: it waits for a replay by hand."""
    return status_code is None or status_code in (408, 429) or status_code >= 500


def is_success(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


def next_try(now: datetime, attempts: int, base_s: float, cap_s: float) -> datetime:
    return next_attempt_at(now, attempts, base_s, cap_s)


def should_pause(failing_since: datetime | None, now: datetime, after: timedelta = PAUSE_AFTER) -> bool:
    """A subscription pauses when its deliveries keep failing for ``after``: the first failure since its last
    success is that old, and the attempt just made failed too."""
    return failing_since is not None and now - failing_since >= after
