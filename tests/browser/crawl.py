"""Follows every link of a signed-in role's pages, breadth first from where the page stands, so that browser checks
(width at 320 px, accessibility) look at every page a person of that role reaches, not a hand-kept list."""
from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urldefrag, urlsplit

from playwright.async_api import Page

DEPTH = 2
PAGES_PER_ROLE = 60
# Roles crawled at once, each in its own browser context: one role's page loads while the other's is checked.
ROLES_AT_ONCE = 2
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+")
# Links that end the session or answer a file, not a page.
SKIPPED = ("/deconnexion", "/logout", ".pdf", ".csv", ".xlsx", "/telecharger", "/report", "/modele", "/api/")


# Query parameters that open a part of a page, shown once asked for (the bulk orientation's form of the list): a kind
# of page of their own.
OPENING = ("orienter",)


def shape(url: str) -> str:
    """A page's kind: its path without identifiers nor query (one notebook or account stands for the others), and
    the parts it opens (``OPENING``)."""
    parts = urlsplit(url)
    opened = [name for name in OPENING if f"{name}=" in parts.query]
    return ID.sub(":id", parts.path) + (f"?{'&'.join(opened)}" if opened else "")


def worth_visiting(base_url: str, href: str) -> str | None:
    url, _fragment = urldefrag(href)
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != base_url or any(s in parts.path for s in SKIPPED):
        return None
    return url


async def crawl(page: Page, base_url: str, on_page: Callable[[str], Awaitable[None]], *, depth: int = DEPTH,
                limit: int = PAGES_PER_ROLE) -> set[str]:
    """Opens each page of one kind once, up to `depth` clicks from the current one, calls `on_page(url)` on each
    HTML page that loaded, and answers the kinds of page visited."""
    start = page.url
    seen, frontier, visited = {shape(start)}, [start], set()
    for _depth in range(depth + 1):
        following = []
        for url in frontier:
            if len(seen) > limit:
                break
            answer = await page.goto(url)
            if answer is None or answer.status >= 400 or "text/html" not in answer.headers.get("content-type", ""):
                continue
            visited.add(shape(url))
            await on_page(url)
            for href in await page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                if (link := worth_visiting(base_url, href)) and shape(link) not in seen:
                    seen.add(shape(link))
                    following.append(link)
        frontier = following
    return visited


async def for_each(items: Iterable, visit: Callable[[object], Awaitable[None]], at_once: int = ROLES_AT_ONCE) -> None:
    """``visit(item)`` for each item, ``at_once`` of them at a time (the crawls of several roles, which only read);
    one that fails cancels the others."""
    turns = asyncio.Semaphore(at_once)

    async def in_turn(item) -> None:
        async with turns:
            await visit(item)

    async with asyncio.TaskGroup() as group:
        for item in items:
            group.create_task(in_turn(item))
