"""Every message notify can send has a French name on the pages that list sent messages (/envois)."""
from __future__ import annotations

from pathlib import Path

import pytest

from gateway.web.labels import MESSAGE_KINDS

pytestmark = pytest.mark.unit
NOTIFY_TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "notify" / "src" / "notify" / "templates"


def test_every_notify_template_has_a_french_name():
    names = {path.name.split(".")[0] for path in NOTIFY_TEMPLATES.glob("*.j2")} - {"_layout"}
    assert names and names <= set(MESSAGE_KINDS), sorted(names - set(MESSAGE_KINDS))
