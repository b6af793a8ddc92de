"""« Demandes de réorientation à traiter » (issue 20 item 8): the orientation manager's (and manager's) list of the
requests of their territory waiting for a decision, oldest first; each leads to the notebook's orientation section,
where « Réorienter » or « Maintenir l'accompagnement » decides it."""
from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request

from contracts.orientation_requests import ListOpenReorientationRequestsV1
from gateway.web.common import VisitorDep, call_or_leave, render

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/orientations/demandes")
async def open_requests(request: Request, visitor: VisitorDep, offset: int = 0):
    offset = max(offset, 0)
    found = await call_or_leave(request, visitor, ListOpenReorientationRequestsV1(offset=offset, limit=PAGE))
    return render(request, "orientation_requests.html.j2", {
        "found": found, "offset": offset, "page_size": PAGE}, visitor=visitor)


@dataclass(frozen=True)
class Figure:
    label: str
    count: int
    href: str
    detail: str = ""


def orientation_figures(tiles: list) -> list[Figure]:
    """The orientation manager's key figures, in the order of their work: the requests to decide, the territory's
    beneficiaries nobody follows or waiting for a référent, then their own portfolio — each leading to its list
    (in place of nine tiles that split each figure between « mon portefeuille » and « autres »)."""
    counts = {tile.key: tile.count for tile in tiles}

    def territory(status: str) -> int:
        return counts.get(f"mine_{status}", 0) + counts.get(f"others_{status}", 0)

    def of_mine(status: str) -> str:
        return f"dont {counts.get(f'mine_{status}', 0)} dans mon portefeuille"

    accompanied = counts.get("mine_accompanied", 0)
    return [
        Figure("Demandes de réorientation à traiter", territory("reorientation"), "/orientations/demandes",
               of_mine("reorientation")),
        Figure("Bénéficiaires non accompagnés", territory("not_accompanied"),
               "/beneficiaires?support=not_accompanied", of_mine("not_accompanied")),
        Figure("Bénéficiaires en attente d'un référent", territory("waiting"), "/beneficiaires?support=waiting",
               of_mine("waiting")),
        Figure("Mon portefeuille", counts.get("mine", 0), "/beneficiaires?mine=1",
               f"dont {accompanied} accompagné{'s' if accompanied > 1 else ''} par un référent"),
    ]
