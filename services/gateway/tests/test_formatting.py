"""How pages write amounts, dates and phone numbers for French readers."""
from __future__ import annotations

import pytest

from gateway.web.formatting import euros, phone

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("cents", "shown"), [
    (1250, "12,50\u00a0€"), (1234550, "12\u202f345,50\u00a0€"), (5, "0,05\u00a0€"), (0, "0,00\u00a0€"), (None, "")])
def test_an_amount_reads_with_a_decimal_comma_and_unbreakable_spaces(cents, shown):
    assert euros(cents) == shown


def test_a_phone_number_reads_as_written_in_france():
    assert phone("+33148123456") == "01 48 12 34 56"
