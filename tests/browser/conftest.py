"""Real Chromium (Debian's, installed by the Makefile) driven by Playwright."""
from __future__ import annotations

import os
import shutil

import pytest
from playwright.async_api import async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
async def browser(tmp_path):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_INFRA") == "1":
            pytest.fail("chromium is missing: `make test` installs it")
        pytest.skip("chromium is not installed")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                   args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        await browser.close()
