"""A page whose service call is refused because a step is pending (a session opened before the step was done)
leads to that step with the reason, not to a 403 page."""
from __future__ import annotations

import pytest
from starlette.requests import Request

from gateway.web.common import error_page
from servicekit.auth import STEPS_PENDING
from servicekit.errors import Forbidden

pytestmark = pytest.mark.unit


def test_a_pending_step_refusal_becomes_the_way_to_the_step():
    request = Request({"type": "http", "method": "GET", "path": "/beneficiaires", "headers": [], "query_string": b""})
    refused = Forbidden(STEPS_PENDING["onboarding"], details={"pending_steps": ["onboarding"]})
    answer = error_page(request, refused)
    assert answer.status_code == 303 and answer.headers["location"] == "/bienvenue?etape=requise"
    refused = Forbidden(STEPS_PENDING["cgu"], details={"pending_steps": ["cgu", "onboarding"]})
    assert error_page(request, refused).headers["location"] == "/cgu?etape=requise"
