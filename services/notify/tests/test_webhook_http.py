"""What a partner's endpoint answers must not hold notify: its answer is read up to a few kilobytes, within one
deadline for the whole exchange; and a name that does not resolve when checked is not posted to (it could
resolve, a moment later, to an address of our own network)."""
from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from notify.adapters import webhook_http
from notify.adapters.webhook_http import post_webhook

pytestmark = pytest.mark.integration


def endpoint(drip_s: float, chunk: bytes):
    """A partner answering 200, then a body that never ends: a chunk every ``drip_s``."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(100_000):
                    self.wfile.write(chunk)
                    time.sleep(drip_s)
            except OSError:
                pass  # notify hung up: what it should do

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(("drip_s", "chunk"), [(0, b"x" * 65536), (0.5, b"x")])
async def test_an_endless_answer_is_cut_short(drip_s, chunk):
    server = endpoint(drip_s, chunk)
    try:
        started = time.monotonic()
        answer = await post_webhook(f"http://127.0.0.1:{server.server_port}/hook", b"{}", {}, timeout_s=2,
                                    dev_mode=True)
        assert time.monotonic() - started < 4
        if drip_s:  # a slow drip: the deadline of the whole exchange
            assert answer.status_code is None and "délai dépassé" in answer.error
        else:  # a flood: its first kilobytes are enough
            assert answer.status_code == 200 and answer.error is None
    finally:
        server.shutdown()


async def test_a_name_that_does_not_resolve_when_checked_is_not_posted_to(monkeypatch):
    async def unresolved(*_args, **_kwargs):
        raise OSError("SERVFAIL")

    def never(*_args, **_kwargs):
        raise AssertionError("posted without its addresses checked")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", unresolved)
    monkeypatch.setattr(httpx.AsyncClient, "stream", never)
    monkeypatch.setattr(httpx.AsyncClient, "post", never)
    answer = await webhook_http.post_webhook("https://partenaire.example/hook", b"{}", {}, timeout_s=2,
                                             dev_mode=False)
    assert answer.status_code is None and not answer.refused and "injoignable" in answer.error
