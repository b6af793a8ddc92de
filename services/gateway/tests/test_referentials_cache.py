"""The notebook page's referentials are held by the gateway while the pages name their version (issue 19): asked
once, asked again when a release changes them, asked every time of a service that names no version."""
from __future__ import annotations

import uuid
from datetime import date
from types import SimpleNamespace

import pytest
from starlette.datastructures import State

from contracts.notebook import Access, BeneficiaryView, GetReferentialsV1, NotebookPage, Referentials
from gateway.web import notebook_pages

pytestmark = pytest.mark.unit


def page(version: str) -> NotebookPage:
    return NotebookPage(notebook_id=uuid.uuid4(), deployment_id=uuid.uuid4(), access=Access.full,
                        beneficiary=BeneficiaryView(beneficiary_id=uuid.uuid4(), version=1, firstname="Sophie",
                                                    lastname="Tifour", date_of_birth=date(1990, 4, 12)),
                        referentials_version=version)


def referentials(version: str) -> Referentials:
    return Referentials(themes={"logement": f"Logement {version}"}, focus_themes=["logement"], target_themes={},
                        situations=[], targets=[], actions=[], version=version)


async def test_referentials_are_asked_once_per_version(monkeypatch):
    current, asked = "v1", []

    async def call_or_leave(_request, _visitor, message):
        assert isinstance(message, GetReferentialsV1)
        asked.append(current)
        return referentials(current)

    monkeypatch.setattr(notebook_pages, "call_or_leave", call_or_leave)
    request = SimpleNamespace(app=SimpleNamespace(state=State()))

    first = await notebook_pages.referentials_for(request, None, page("v1"))
    again = await notebook_pages.referentials_for(request, None, page("v1"))
    current = "v2"
    changed = await notebook_pages.referentials_for(request, None, page("v2"))

    assert asked == ["v1", "v2"]
    assert first.themes == again.themes == {"logement": "Logement v1"}
    assert changed.themes == {"logement": "Logement v2"}


async def test_a_page_naming_no_version_has_its_referentials_asked_each_time(monkeypatch):
    asked = []

    async def call_or_leave(_request, _visitor, _message):
        asked.append(1)
        return referentials("")

    monkeypatch.setattr(notebook_pages, "call_or_leave", call_or_leave)
    request = SimpleNamespace(app=SimpleNamespace(state=State()))

    for _ in range(2):
        await notebook_pages.referentials_for(request, None, page(""))

    assert len(asked) == 2
