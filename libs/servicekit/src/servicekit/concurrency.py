"""Optimistic concurrency at the RPC boundary: a write the database refused because the row changed meanwhile."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from sqlalchemy.orm.exc import StaleDataError

from servicekit.errors import Conflict

log = structlog.get_logger("servicekit.concurrency")
Reply = TypeVar("Reply")

EDITED_MEANWHILE = ("Quelqu'un a modifié cet élément pendant que vous le modifiiez. Rechargez la page pour voir "
                    "la version actuelle, puis refaites vos changements.")


async def once_more_if_stale(handler: Callable[..., Awaitable[Reply]], *args: Any) -> Reply:
    """Runs ``handler``; when its transaction lost the race for a versioned row (``versioned_by``: the UPDATE
    found another version than the one read, nothing was committed), runs it once more, as if the request had
    come just after the winner: the handler reads the saved row again, so where the client sent the version it
    read, the handler's own check answers 409 with the current version; elsewhere the change applies to the
    saved row. Losing twice in a row is answered 409 as well."""
    try:
        return await handler(*args)
    except StaleDataError:
        log.info("stale_write_retried")
    try:
        return await handler(*args)
    except StaleDataError:
        raise Conflict(EDITED_MEANWHILE) from None
