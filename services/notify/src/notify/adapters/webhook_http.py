"""POSTs a webhook to a partner (httpx, with timeouts, no redirects followed) and says what came of it.

Outside dev mode the partner's name is resolved first and every address it gives must be public: a URL that
was public when the subscription was made cannot be turned into a way into our own network later (SSRF) by
changing its DNS. (A change between this resolution and httpx's own is the residual risk; an egress firewall
refusing private ranges closes it in production.)"""
from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from notify.domain.webhooks import PRIVATE_ADDRESS, public_address


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no answer (unreachable, timeout, refused address)
    error: str | None
    duration_ms: int
    refused: bool = False  # the address was refused before sending: no retry will change that


async def private_addresses(url: str) -> bool:
    parts = urlsplit(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443,
                                                              type=socket.SOCK_STREAM)
    except OSError:
        return False  # unresolvable: httpx fails on it the same way, as a transient error
    return any(not public_address(info[4][0]) for info in infos)


async def post_webhook(url: str, body: bytes, headers: dict[str, str], *, timeout_s: float,
                       dev_mode: bool) -> Answer:
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    import httpx  # at the first webhook, not at start: an idle notify does not carry the HTTP client (issue 19)

    if not dev_mode and await private_addresses(url):
        return Answer(None, PRIVATE_ADDRESS, elapsed(), refused=True)
    try:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, trust_env=False) as client:
            answer = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException as error:
        return Answer(None, f"délai dépassé ({type(error).__name__})", elapsed())
    except httpx.HTTPError as error:
        return Answer(None, f"partenaire injoignable ({type(error).__name__})", elapsed())
    error = None if 200 <= answer.status_code < 300 else f"réponse {answer.status_code} : {answer.text[:200]}"
    return Answer(answer.status_code, error, elapsed())
