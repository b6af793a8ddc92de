"""Every page's footer links to the legal notice, the accessibility statement, the terms of use and what is done
with personal data; each is readable without signing in, in French, and asks nothing of the services."""
from __future__ import annotations

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.main import create_app
from gateway.web.footer_pages import FOOTER_PAGES

pytestmark = pytest.mark.unit

HEADINGS = {
    "/mentions-legales": "Mentions légales",
    "/accessibilite": "Déclaration d'accessibilité",
    "/conditions": "Conditions générales d'utilisation",
    "/donnees-personnelles": "Vos données personnelles",
}


async def test_the_footer_pages_are_public_and_linked_from_every_page():
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = None  # a call to any service would fail: these pages need none
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        assert set(FOOTER_PAGES) == set(HEADINGS)
        for path, heading in HEADINGS.items():
            page = await client.get(path)
            assert page.status_code == 200, path
            assert f"<h1>{heading}</h1>" in page.text.replace("&#39;", "'")
            for linked in FOOTER_PAGES:  # the footer, on every page
                assert f'href="{linked}"' in page.text
        terms = (await client.get("/conditions")).text
        assert "Vos engagements" in terms and 'name="accept"' not in terms  # read, not accepted, here
