"""Public keys that verify access tokens, for every service and for ``/.well-known/jwks.json``."""
from __future__ import annotations

from datetime import timedelta

from contracts.identity import GetJwksV1, JwksReply
from identity.adapters.signing_keys import current_key, published_jwks
from identity.handlers.deps import Deps
from servicekit.rpc import RpcContext


async def jwks(deps: Deps) -> list[dict]:
    now = deps.clock()
    password = deps.settings.key_password
    async with deps.sessions() as session, session.begin():
        await current_key(session, now, timedelta(days=deps.settings.signing_key_max_age_days), password)
        return await published_jwks(session, now, deps.jwks_keep, password)


async def get_jwks(_request: GetJwksV1, _ctx: RpcContext, deps: Deps) -> JwksReply:
    return JwksReply(keys=await jwks(deps))
