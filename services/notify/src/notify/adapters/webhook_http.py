"""POSTs a webhook to a partner (httpx, with timeouts, no redirects followed) and says what came of it.

Outside dev mode the partner's name is resolved first and every address it gives must be public: a URL that
was public when the subscription was made cannot be turned into a way into our own network later (SSRF) by
changing its DNS; a name that does not resolve then is not posted to. (A change between this resolution and
httpx's own is the residual risk; an egress firewall refusing private ranges closes it in production.) The
answer is read up to ``ANSWER_KEPT_BYTES``, within one deadline for the whole exchange."""
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


# What is kept of a partner's answer (its first characters go to the delivery's error): an endpoint answering
# without end must not fill notify's memory.
ANSWER_KEPT_BYTES = 4096
UNRESOLVED = "partenaire injoignable (son nom ne se résout pas)"


async def private_addresses(url: str) -> bool:
    """Whether the URL's name resolves to an address of a private range; OSError when it does not resolve."""
    parts = urlsplit(url)
    infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    return any(not public_address(info[4][0]) for info in infos)


async def first_bytes(answer, limit: int) -> bytes:
    kept = b""
    async for chunk in answer.aiter_bytes():
        kept += chunk[:limit - len(kept)]
        if len(kept) >= limit:
            break  # the rest is not read: leaving the stream closes the connection
    return kept


async def post_webhook(url: str, body: bytes, headers: dict[str, str], *, timeout_s: float,
                       dev_mode: bool) -> Answer:
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    import httpx  # at the first webhook, not at start: an idle notify does not carry the HTTP client (issue 19)

    if not dev_mode:
        try:
            if await private_addresses(url):
                return Answer(None, PRIVATE_ADDRESS, elapsed(), refused=True)
        except OSError:  # not checked, not sent: the name could resolve, a moment later, to a private address
            return Answer(None, UNRESOLVED, elapsed())
    try:
        # One deadline for the whole exchange: httpx's timeout is per read, and an answer dripping a byte at a
        # time would hold the sender (and every partner's deliveries behind it) for ever.
        async with asyncio.timeout(timeout_s):
            async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, trust_env=False) as client:
                async with client.stream("POST", url, content=body, headers=headers) as answer:
                    kept = await first_bytes(answer, ANSWER_KEPT_BYTES)
    except (httpx.TimeoutException, TimeoutError) as error:
        return Answer(None, f"délai dépassé ({type(error).__name__})", elapsed())
    except httpx.HTTPError as error:
        return Answer(None, f"partenaire injoignable ({type(error).__name__})", elapsed())
    text = kept.decode(answer.encoding or "utf-8", "replace")
    error = None if 200 <= answer.status_code < 300 else f"réponse {answer.status_code} : {text[:200]}"
    return Answer(answer.status_code, error, elapsed())
