"""Real Chromium (Debian's, installed by the Makefile) driven by Playwright."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Where a failed browser test leaves a screenshot of each page still open, for CI to keep as artefacts.
ARTIFACTS = Path(os.environ.get("CARNET_TEST_ARTIFACTS", "var/test-artifacts"))
FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


@pytest.fixture(params=["sqlite"])
def db_backend(request) -> str:
    """Browser tests run on SQLite only: what a page shows and does depends on the services, not on their database,
    and the e2e tests (tests/e2e) run every journey's data on both. Chosen here, before a system starts: a test that
    skipped PostgreSQL in its body had already paid for a system and a browser."""
    return request.param


@pytest.fixture
async def browser(request, tmp_path):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_INFRA") == "1":
            pytest.fail("chromium is missing: `make test` installs it")
        pytest.skip("chromium is not installed")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                   args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        if request.node.stash.get(FAILED, False):
            await screenshot_open_pages(browser, request.node.nodeid)
        await browser.close()


async def screenshot_open_pages(browser, test_id: str) -> None:
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_id)[-150:]
    folder.mkdir(parents=True, exist_ok=True)
    for c, context in enumerate(browser.contexts):
        for p, page in enumerate(context.pages):
            try:
                await page.screenshot(path=folder / f"{c}-{p}.png", full_page=True)
                (folder / f"{c}-{p}.url").write_text(page.url + "\n")
            except Exception:  # a page that crashed or is closing: the others still matter
                continue
