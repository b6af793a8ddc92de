"""A contract's « Durée du contrat » (spec §3.2): the end date the form's choice gives, and the period as it reads."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader
from starlette.datastructures import FormData

import gateway
from gateway.web.contract_pages import end_date_of, months_after

TEMPLATES = FileSystemLoader(Path(gateway.__file__).parent / "templates")


@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2020, 5, 20), 12, date(2021, 5, 20)), (date(2020, 5, 20), 24, date(2022, 5, 20)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)), (date(2027, 8, 31), 6, date(2028, 2, 29)),
])
def test_months_after_keeps_the_day_or_takes_the_month_s_last(start, months, end):
    assert months_after(start, months) == end


def test_the_duration_chosen_sets_the_end_date_or_none_and_else_the_end_typed_stands():
    typed = {"start_date": "2020-05-20", "end_date": "2020-12-31"}
    assert end_date_of(FormData({**typed, "duree": "12"})) == date(2021, 5, 20)
    assert end_date_of(FormData({**typed, "duree": "indeterminee"})) is None
    assert end_date_of(FormData({**typed, "duree": ""})) == date(2020, 12, 31)
    assert end_date_of(FormData({**typed, "duree": "7"})) == date(2020, 12, 31)  # not offered: the date typed
    assert end_date_of(FormData({"duree": "12", "end_date": ""})) is None  # no start: nothing to count from


@pytest.mark.parametrize(("start", "end", "reads"), [
    (None, None, "Dates à définir"),
    (date(2020, 5, 20), None, "Depuis le 20/05/2020 (durée indéterminée)"),
    (date(2020, 5, 20), date(2021, 5, 20), "Du 20/05/2020 au 20/05/2021 (environ 1 an)"),
    (date(2020, 5, 20), date(2022, 5, 20), "Du 20/05/2020 au 20/05/2022 (environ 2 ans)"),
    (date(2020, 5, 20), date(2020, 11, 20), "Du 20/05/2020 au 20/11/2020 (environ 6 mois)"),
    (date(2020, 5, 20), date(2020, 5, 30), "Du 20/05/2020 au 30/05/2020"),
])
def test_the_period_reads_with_its_length(start, end, reads):
    period = Environment(loader=TEMPLATES).get_template("_contract_period.html.j2").module.period
    assert str(period(start, end)) == reads
