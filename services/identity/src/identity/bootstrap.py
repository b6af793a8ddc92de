"""Composition root of the identity service (nothing happens at import)."""
from __future__ import annotations

from identity.config import IdentitySettings
from identity.entrypoints import rpc
from identity.handlers.deps import Deps
from identity.handlers.get_jwks import jwks
from servicekit.app import Service
from servicekit.housekeeping import Kept
from identity.adapters.orm import EmailChange, LoginAttempt, LoginLink, OidcLogin, PartnerCall, RefreshToken, SmsCode
from servicekit.auth import TokenVerifier

NAME = "identity"


def build(settings: IdentitySettings | None = None) -> Service:
    settings = settings or IdentitySettings()
    service = Service(NAME, settings)
    # Once-only secrets a day past their expiry, sessions a month past theirs, attempts (IP, browser) 90 days.
    service.kept = (*(Kept(table.__table__.c.expires_at, 1) for table in (LoginLink, SmsCode, EmailChange, OidcLogin)),
                    Kept(RefreshToken.__table__.c.expires_at, 30), Kept(LoginAttempt.__table__.c.at, 90),
                    Kept(PartnerCall.__table__.c.at, 365))
    deps = Deps(sessions=service.sessions, outbox=service.outbox, settings=settings,
                verifier=TokenVerifier(lambda: jwks(deps), min_refresh_interval_s=0))
    service.verifier = deps.verifier  # identity reads its own keys, it does not ask itself over NATS
    service.follow_revocations = False  # and its database says at once whether an account or session was revoked
    rpc.register(service, deps)
    return service


def main() -> None:
    build().run()
