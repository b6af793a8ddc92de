"""What an idle process never needs stays out of it (issue 19 item 4: idle RSS < 90 MB): each library below is
imported by the first request that needs it, never when the process starts. A module-level import added back would
cost every replica its megabytes again, silently; this test names it."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

# In every service: PyJWT and cryptography (OpenSSL, ~11 MB) at the first access token to check or sign, or the first
# protected field or webhook secret; asyncpg (~3.6 MB) only on PostgreSQL (the relay's LISTEN); phonenumbers (~1 MB)
# at the first phone number; the SQLAlchemy instrumentation (~1 MB) only where spans go somewhere; the bus's table
# of permissions (servicekit.bus_access, which imports every service's contracts: 1.8 to 4.7 MB) only in the tools
# that render the servers' configuration, a process reading its inbox and credentials from servicekit.bus_names.
# Never: rich (~4.8 MB with pygments), installed for the CLI, which structlog imports when it can
# (servicekit.entry keeps it out of every process); uvicorn and click (~2 MB), the gateway's server only (a
# service's health port is servicekit.health's).
EVERY_SERVICE = ("jwt", "cryptography", "asyncpg", "phonenumbers", "opentelemetry.instrumentation",
                 "servicekit.bus_access", "rich", "uvicorn", "click")
LOADED_ON_DEMAND = {
    # The gateway has no database: SQLAlchemy (~20 MB) is the services'.
    "gateway.main": ("sqlalchemy", "rich"),
    # ProConnect's client (httpx) at the first ProConnect login.
    "identity.bootstrap": (*EVERY_SERVICE, "httpx"),
    "directory.bootstrap": EVERY_SERVICE,
    # PDFs (CER, bilans, her data), spreadsheets (exports), the France Travail API (only where configured).
    "notebook.bootstrap": (*EVERY_SERVICE, "fpdf", "fontTools", "xlsxwriter", "httpx"),
    # The SMS provider's and the partners' webhooks' HTTP client at the first SMS or webhook, Jinja at the first
    # message, the SMTP client (~1 MB) at the first e-mail.
    "notify.bootstrap": (*EVERY_SERVICE, "httpx", "jinja2", "aiosmtplib"),
    "audit.bootstrap": EVERY_SERVICE,
    # The CAF/MSA flux's XML parser and the spreadsheet reader, at the first such file.
    "data_import.bootstrap": (*EVERY_SERVICE, "lxml", "python_calamine"),
}


@pytest.mark.parametrize("module", sorted(LOADED_ON_DEMAND))
def test_a_starting_process_does_not_load_what_only_some_requests_need(module, tmp_path):
    libraries = LOADED_ON_DEMAND[module]
    # A service is also built (its handlers' dependencies made: field protection, webhook secrets' box), as at start.
    build = f"{module}.build()\n" if module.endswith(".bootstrap") else ""
    # Imported as the process's entry point (``python -m``) imports it.
    entry = f"load({module!r}, http_server={module == 'gateway.main'})"
    probe = (f"import sys\nfrom servicekit.entry import load\n{entry}\nimport {module}\n{build}"
             f"print(' '.join(name for name in {libraries!r} if sys.modules.get(name) is not None))")
    env = {name: value for name, value in os.environ.items()
           if name not in ("CARNET_TRACE_FILE", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")}
    env.update(CARNET_ENV="dev", CARNET_VAR_DIR=str(tmp_path))
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            env=env).stdout.split()
    assert loaded == [], f"{module} imports {loaded} at start: import them where they are used"
