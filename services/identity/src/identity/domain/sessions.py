"""Rules of login links and refresh tokens, on plain values."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


@dataclass(frozen=True)
class OneTimeSecretState:
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None = None


class Verdict(Enum):
    usable = "usable"
    expired = "expired"
    already_used = "already_used"  # for a refresh token: a replay, the whole family is revoked
    revoked = "revoked"


def judge(secret: OneTimeSecretState, now: datetime) -> Verdict:
    if secret.revoked_at is not None:
        return Verdict.revoked
    if secret.used_at is not None:
        return Verdict.already_used
    if now >= secret.expires_at:
        return Verdict.expired
    return Verdict.usable


def over_limit(recent_attempts: int, limit: int) -> bool:
    """``recent_attempts`` counts the earlier attempts in the window, this one excluded."""
    return recent_attempts >= limit
