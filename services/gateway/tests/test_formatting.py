"""How pages write amounts, dates and phone numbers for French readers."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.labels import browser
from gateway.web.formatting import PARIS, euros, local_time, phone

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("cents", "shown"), [
    (1250, "12,50\u00a0€"), (1234550, "12\u202f345,50\u00a0€"), (5, "0,05\u00a0€"), (0, "0,00\u00a0€"), (None, "")])
def test_an_amount_reads_with_a_decimal_comma_and_unbreakable_spaces(cents, shown):
    assert euros(cents) == shown


def test_a_phone_number_reads_as_written_in_france():
    assert phone("+33148123456") == "01 48 12 34 56"


@pytest.mark.parametrize(("user_agent", "shown"), [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 "
     "Edg/120.0", "Edge sur Windows"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox sur Linux"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile "
     "Safari/537.36", "Chrome sur Android"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 "
     "Mobile/15E148 Safari/604.1", "Safari sur iPhone"),
    ("python-httpx/0.27.0", "Autre navigateur ou logiciel"), ("", "Inconnu"), (None, "Inconnu")])
def test_a_session_names_its_browser_as_a_person_would(user_agent, shown):
    assert browser(user_agent) == shown


def test_a_value_is_formatted_once_then_read_back():
    """A page shows the same dates and numbers again and again (issue 19): each is formatted once."""
    phone.cache_clear()
    local_time.cache_clear()
    at = datetime(2026, 11, 23, 7, 25, tzinfo=UTC)

    assert [phone("+33148123456") for _ in range(3)] == ["01 48 12 34 56"] * 3
    assert [local_time(at) for _ in range(3)] == ["23/11/2026 08:25"] * 3
    assert local_time(at.astimezone(PARIS)) == "23/11/2026 08:25"  # the same instant, kept once
    assert (phone.cache_info().misses, local_time.cache_info().misses) == (1, 1)
    assert (phone(None), local_time(None)) == ("", "")
