"""A process's entry point (``python -m notebook``, ``python -m gateway``): imports its module, then runs its ``main``.

Before anything else, it keeps out what the process never uses but a library imports whenever installed: structlog
imports rich (and rich pygments) for pretty tracebacks, installed for the CLI's progress bars: 4.8 MB of every
process's idle memory (issue 19 item 4: < 90 MB per service), for console tracebacks a service never prints (JSON
logs in production, structlog's plain ones in dev). This module imports nothing else, so that it runs before them."""
from __future__ import annotations

import importlib
import sys
from types import ModuleType

CLI_ONLY = ("rich",)
# FastStream imports uvicorn whenever it is installed, for the ASGI applications it can serve; a service serves
# none (its health port is servicekit.health's), only the gateway serves HTTP with uvicorn, whose package imports
# its command line and click with it: ~2 MB of a service's idle memory.
HTTP_SERVER_ONLY = ("uvicorn",)


def load(module: str, *, http_server: bool = False) -> ModuleType:
    """The process's module, imported without the libraries it never uses (an import of one fails, as if it were
    not installed): the CLI's, and uvicorn unless the process serves HTTP with it."""
    for name in CLI_ONLY if http_server else CLI_ONLY + HTTP_SERVER_ONLY:
        sys.modules.setdefault(name, None)
    return importlib.import_module(module)


def run(module: str, *, http_server: bool = False) -> None:
    load(module, http_server=http_server).main()
