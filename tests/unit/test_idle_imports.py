"""What an idle process never needs stays out of it (issue 19 item 4: idle RSS < 90 MB): each library below is
imported by the first request that needs it, never when the process starts. A module-level import added back would
cost every replica its megabytes again, silently; this test names it."""
from __future__ import annotations

import subprocess
import sys

import pytest

LOADED_ON_DEMAND = {
    # The gateway has no database: SQLAlchemy (~20 MB) is the services'.
    "gateway.main": ("sqlalchemy",),
    # PDFs (CER, bilans, her data), spreadsheets (exports), the France Travail API (only where configured).
    "notebook.bootstrap": ("fpdf", "fontTools", "xlsxwriter", "httpx"),
    # The CAF/MSA flux's XML parser and the spreadsheet reader, at the first such file.
    "data_import.bootstrap": ("lxml", "python_calamine"),
}


@pytest.mark.parametrize("module", sorted(LOADED_ON_DEMAND))
def test_a_starting_process_does_not_load_what_only_some_requests_need(module):
    libraries = LOADED_ON_DEMAND[module]
    probe = (f"import sys, {module}\n"
             f"print(' '.join(name for name in {libraries!r} if name in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == [], f"{module} imports {loaded} at start: import them where they are used"
