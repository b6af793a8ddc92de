"""Who reads the audit trail: a territory's managers their territory's lines, admin_cdb every line; nobody else."""
from __future__ import annotations

import uuid

from contracts.identity import Role


class AllLines:
    """admin_cdb's scope: every territory, and the lines of no territory (national accounts)."""


def scope_of(role: str, deployment_id: uuid.UUID | None) -> uuid.UUID | AllLines | None:
    """The territory whose lines the caller reads, ``AllLines``, or None: refused."""
    if role == Role.admin_cdb:
        return AllLines()
    if role == Role.manager and deployment_id is not None:
        return deployment_id
    return None
