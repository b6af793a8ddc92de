"""Carnet de bord webhooks: check the ``X-Carnet-Signature`` header of a request you received.

Copy this file into your project: it needs nothing but Python's standard library (3.8+).

    from webhook_signature import verify_signature

    if not verify_signature(SECRET, request.headers["X-Carnet-Signature"], raw_body):
        return 400  # not from Carnet de bord, altered, or too old

``raw_body`` is the body exactly as received (bytes), before any JSON parsing: re-serialising the JSON would
change the bytes and the signature would no longer match.

The header is ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``. During a rotation of the
secret, call ``verify_signature`` with the new secret, then the former one.
"""
from __future__ import annotations

import hashlib
import hmac
import time


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value Carnet de bord sends with ``body`` (useful to test your endpoint)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, tolerance_s: int = 300,
                     now: float | None = None) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and was made less than ``tolerance_s`` seconds ago
    (or ahead, for clocks apart): a request captured on the way cannot be replayed later."""
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    # compare_digest takes as long whatever the first differing character: no timing hint to an attacker.
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
