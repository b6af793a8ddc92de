"""« Demandes de réorientation à traiter » (issue 20 item 8): the orientation manager's (and manager's) list of the
requests of their territory waiting for a decision, oldest first; each leads to the notebook's orientation section,
where « Réorienter » or « Maintenir l'accompagnement » decides it."""
from __future__ import annotations

from fastapi import APIRouter, Request

from contracts.orientation_requests import ListOpenReorientationRequestsV1
from gateway.web.common import call_or_leave, render, signed_in

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/orientations/demandes")
async def open_requests(request: Request, offset: int = 0):
    visitor = await signed_in(request)
    offset = max(offset, 0)
    found = await call_or_leave(request, visitor, ListOpenReorientationRequestsV1(offset=offset, limit=PAGE))
    return render(request, "orientation_requests.html.j2", {
        "found": found, "offset": offset, "page_size": PAGE}, visitor=visitor)
