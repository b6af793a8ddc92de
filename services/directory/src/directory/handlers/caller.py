"""Who calls, in which territory, and whether they may: every handler starts here."""
from __future__ import annotations

import uuid

from contracts.identity import Role
from directory.domain.habilitation import Caller, Operation, Scope, may
from directory.handlers.deps import Deps
from servicekit.errors import Forbidden, Invalid, NotFound
from servicekit.rpc import RpcContext

NOT_ALLOWED = "Vous n'avez pas le droit de faire cette opération sur ce territoire."
DEPLOYMENT_REQUIRED = "Précisez le territoire concerné."
DEPLOYMENT_NOT_FOUND = "Ce territoire n'existe pas."


async def caller_of(ctx: RpcContext, deps: Deps) -> Caller:
    principal = await deps.verifier.verify(ctx.bearer_token)
    return Caller(Role(principal.role), principal.deployment_id, frozenset(principal.structure_ids),
                  principal.profile_id)


def require(caller: Caller, operation: Operation, scope: Scope, not_found: str = DEPLOYMENT_NOT_FOUND) -> None:
    """Default deny. What lies in another territory is answered ``not_found``, the words an unknown id gets,
    so that nobody learns what exists elsewhere; within the territory a refusal is a 403."""
    if may(caller, operation, scope):
        return
    if caller.role != Role.admin_cdb and scope.deployment_id not in (None, caller.deployment_id):
        raise NotFound(not_found)
    raise Forbidden(NOT_ALLOWED, details={"operation": operation.value})


def territory_of(caller: Caller, requested: uuid.UUID | None) -> uuid.UUID:
    """The territory a call is about: the caller's own, or the one an admin_cdb names."""
    deployment_id = requested or caller.deployment_id
    if deployment_id is None:
        raise Invalid(DEPLOYMENT_REQUIRED, details={"field": "deployment_id"})
    return deployment_id
