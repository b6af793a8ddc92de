"""htmx (issue 20 item 1) is vendored and served from our origin, under our CSP: every page loads the pinned file
(deferred, no inline script) and configures it through a <meta> to inject no style, evaluate nothing, run no
script of a response and ask our origin only. The file's sha256 is pinned here: a changed vendored file is noticed."""
from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

import httpx
import pytest

import gateway
from gateway.config import GatewaySettings
from gateway.main import create_app

pytestmark = pytest.mark.unit

HTMX = "/static/vendor/htmx-2.0.11.min.js"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"  # npm htmx.org@2.0.11, dist/htmx.min.js
STATIC = Path(gateway.__file__).parent / "static"


async def test_every_page_loads_the_vendored_htmx_configured_for_the_csp():
    app = create_app(GatewaySettings(env="test"))
    app.state.rpc = None  # a call to any service would fail: these pages need none
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        page = await client.get("/mentions-legales")
        script = await client.get(HTMX)
        licence = await client.get(HTMX.replace(".min.js", ".LICENSE"))

    assert page.status_code == 200
    assert f'<script src="{HTMX}" defer></script>' in page.text
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", page.text)), "an inline script"
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page.text)
    assert meta, "htmx is configured by a <meta>"
    assert json.loads(html.unescape(meta.group(1))) == {
        "includeIndicatorStyles": False, "allowEval": False, "allowScriptTags": False, "selfRequestsOnly": True,
        "historyCacheSize": 0}
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp

    assert script.status_code == 200
    assert hashlib.sha256(script.content).hexdigest() == HTMX_SHA256, "the vendored htmx changed"
    assert "script-src" not in script.headers["content-security-policy"]  # default-src 'self': same origin only
    assert licence.status_code == 200 and "Zero-Clause BSD" in licence.text


def test_the_vendored_file_is_the_pinned_one_and_the_only_htmx():
    vendored = sorted(p.name for p in (STATIC / "vendor").glob("htmx-*"))
    assert vendored == ["htmx-2.0.11.LICENSE", "htmx-2.0.11.min.js"]
    assert hashlib.sha256((STATIC / "vendor" / "htmx-2.0.11.min.js").read_bytes()).hexdigest() == HTMX_SHA256
