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
    codes = {code for source in (ROOT / "services").glob("*/src/**/*.py")
             for code in re.findall(r'action="([a-z_]+\.[a-z_]+)"', source.read_text(encoding="utf-8"))}
    assert "import.opened" in codes
    assert codes - set(ACTIONS) == set()
