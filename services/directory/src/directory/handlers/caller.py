"""Who calls, in which territory, and whether they may: every handler starts here."""
from __future__ import annotations

import uuid

from contracts.identity import Role
from directory.domain.habilitation import Caller, Operation, Scope, may
from directory.handlers.deps import Deps
from servicekit.errors import Forbidden, Invalid
from servicekit.rpc import RpcContext

NOT_ALLOWED = "Vous n'avez pas le droit de faire cette opération sur ce territoire."
DEPLOYMENT_REQUIRED = "Précisez le territoire concerné."


async def caller_of(ctx: RpcContext, deps: Deps) -> Caller:
    principal = await deps.verifier.verify(ctx.bearer_token)
    return Caller(Role(principal.role), principal.deployment_id, frozenset(principal.structure_ids),
                  principal.profile_id)


def require(caller: Caller, operation: Operation, scope: Scope) -> None:
    if not may(caller, operation, scope):
        raise Forbidden(NOT_ALLOWED, details={"operation": operation.value})


def territory_of(caller: Caller, requested: uuid.UUID | None) -> uuid.UUID:
    """The territory a call is about: the caller's own, or the one an admin_cdb names."""
    deployment_id = requested or caller.deployment_id
    if deployment_id is None:
        raise Invalid(DEPLOYMENT_REQUIRED, details={"field": "deployment_id"})
    return deployment_id
