"""Binds each RPC subject to its use case."""
from __future__ import annotations

from functools import partial

from contracts import identity as contract
from identity.handlers.deps import Deps
from identity.handlers.exchange_login_link import exchange_login_link
from identity.handlers.get_jwks import get_jwks
from identity.handlers.get_me import get_me
from identity.handlers.refresh_session import logout, refresh_session
from identity.handlers.request_login_link import request_login_link
from identity.handlers.seed_demo_accounts import seed_demo_accounts
from servicekit.app import Service

ROUTES = {
    contract.RequestLoginLinkV1: request_login_link,
    contract.ExchangeLoginLinkV1: exchange_login_link,
    contract.RefreshSessionV1: refresh_session,
    contract.LogoutV1: logout,
    contract.GetMeV1: get_me,
    contract.GetJwksV1: get_jwks,
    contract.SeedDemoAccountsV1: seed_demo_accounts,
}


def register(service: Service, deps: Deps) -> None:
    for request_type, handler in ROUTES.items():
        service.handle(request_type, partial(handler, deps=deps))
