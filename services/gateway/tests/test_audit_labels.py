"""The audit journal names every action in French: each action code a service writes literally (import, partners)
has its label on « Journal d'audit », never the raw code (« import.opened »)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.web.audit_pages import ACTIONS

pytestmark = pytest.mark.unit
ROOT = Path(__file__).parents[3]


def test_every_literal_action_code_of_the_services_has_a_french_label():
    sources = [source.read_text(encoding="utf-8") for source in (ROOT / "services").glob("*/src/**/*.py")]
    codes = {code for text in sources for code in re.findall(r'action="([a-z_]+\.[a-z_]+)"', text)}
    # ...and the codes given to an owner's audit_trail.line("…", …), the first argument.
    codes |= {code for text in sources
              for first in re.findall(r'audit_trail\.line\(\s*("[a-z_.]+"(?:\s+if\s+\w+\s+else\s+"[a-z_.]+")?)', text)
              for code in re.findall(r'"([a-z_]+\.[a-z_]+)"', first)}
    assert {"import.opened", "account.administrator_created", "export.requested"} <= codes
    assert codes - set(ACTIONS) == set()


def test_the_details_written_by_the_owners_have_french_names():
    """The details the owners write today (notebook: rpc, list, format; identity: success, partner, client_id, route,
    result; import service: kind, structure, signature, partner, subject, outcome) are named in French."""
    from gateway.web.audit_pages import DETAILS, ROLES

    written = {"rpc", "list", "format", "success", "partner", "client_id", "route", "result", "kind", "structure",
               "signature", "subject", "outcome"}
    assert written - set(DETAILS) == set()
    assert ROLES["operator"] == "Exploitant"  # carnet admin create's lines
