"""The orientation manager's key figures read as French: « dont 1 accompagné », « dont 2 accompagnés » (issue 20)."""
from __future__ import annotations

from contracts.notebook import DashboardTile
from gateway.web.orientation_request_pages import orientation_figures


def portfolio(mine: int, accompanied: int):
    tiles = [DashboardTile(key="mine", label="", count=mine),
             DashboardTile(key="mine_accompanied", label="", count=accompanied)]
    [figure] = [f for f in orientation_figures(tiles) if f.label == "Mon portefeuille"]
    return figure


def test_the_portfolio_figure_agrees_with_its_number():
    assert portfolio(0, 0).detail == "dont 0 accompagné par un référent"
    assert portfolio(1, 1).detail == "dont 1 accompagné par un référent"
    assert portfolio(3, 2).detail == "dont 2 accompagnés par un référent"
