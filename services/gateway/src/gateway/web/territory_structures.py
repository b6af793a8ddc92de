"""Every structure of a territory, for the forms that offer them all (a person's structures, the orientation
form's): the annuaire answers a hundred at most, and a département has more. A form offering only the first
hundred by name left a person of the others unable to be invited there, and her page saved without her structure."""
from __future__ import annotations

import uuid

from fastapi import Request

from contracts.directory import SearchStructuresV1, StructureView
from gateway.web.common import Visitor, call_or_leave

PAGE = 100  # the annuaire's largest page


async def every_structure(request: Request, visitor: Visitor,
                          deployment_id: uuid.UUID | None = None) -> list[StructureView]:
    """The territory's active structures by name (the visitor's territory when ``deployment_id`` is None)."""
    structures: list[StructureView] = []
    while True:
        page = await call_or_leave(request, visitor, SearchStructuresV1(
            deployment_id=deployment_id, offset=len(structures), limit=PAGE))
        structures += page.structures
        if not page.structures or len(structures) >= page.total:
            return structures
