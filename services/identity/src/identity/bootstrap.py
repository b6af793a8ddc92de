"""Composition root of the identity service (nothing happens at import)."""
from __future__ import annotations

from identity.config import IdentitySettings
from identity.entrypoints import rpc
from identity.handlers.deps import Deps
from identity.handlers.get_jwks import jwks
from servicekit.app import Service
from servicekit.auth import TokenVerifier

NAME = "identity"


def build(settings: IdentitySettings | None = None) -> Service:
    settings = settings or IdentitySettings()
    service = Service(NAME, settings)
    deps = Deps(sessions=service.sessions, outbox=service.outbox, settings=settings,
                verifier=TokenVerifier(lambda: jwks(deps), min_refresh_interval_s=0))
    service.verifier = deps.verifier  # identity reads its own keys, it does not ask itself over NATS
    service.follow_revocations = False  # and its database says at once whether an account or session was revoked
    rpc.register(service, deps)
    return service


def main() -> None:
    build().run()
