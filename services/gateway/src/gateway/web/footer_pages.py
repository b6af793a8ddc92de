"""The pages every footer links to, readable without signing in: legal notice, accessibility statement, terms of
use and what is done with personal data (docs/donnees-personnelles.md says the same to the département)."""
from __future__ import annotations

from fastapi import APIRouter, Request

from gateway.web.common import render

router = APIRouter(include_in_schema=False)

FOOTER_PAGES = {  # base.html.j2's footer links to each
    "/mentions-legales": "mentions_legales.html.j2",
    "/accessibilite": "accessibilite.html.j2",
    "/conditions": "conditions.html.j2",
    "/donnees-personnelles": "donnees_personnelles.html.j2",
}


def footer_page(template: str):
    async def page(request: Request):
        return render(request, template)
    return page


for path, template in FOOTER_PAGES.items():
    router.add_api_route(path, footer_page(template), methods=["GET"])
