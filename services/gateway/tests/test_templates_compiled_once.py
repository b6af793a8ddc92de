"""The pages' templates are compiled once and never looked for on disk again (issue 19): the notebook page stat'ed
its twenty included and imported templates on every view. Escaping stays on for every one of them."""
from __future__ import annotations

import os.path

import pytest

from gateway.web.common import templates

pytestmark = pytest.mark.unit


def test_a_template_once_compiled_is_not_checked_on_disk_again(monkeypatch):
    first = templates.env.get_template("_notebook_history.html.j2")

    def no_disk(*args):
        raise AssertionError("a compiled template was looked for on disk")

    monkeypatch.setattr(os.path, "getmtime", no_disk)
    monkeypatch.setattr(os, "stat", no_disk)
    assert templates.env.get_template("_notebook_history.html.j2") is first
    assert templates.env.autoescape is True
