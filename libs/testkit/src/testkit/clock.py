"""The day as the services count it: in Paris, not on the machine's clock (UTC in CI), which is a day behind between
22:00 or 23:00 UTC and midnight — a test comparing with ``date.today()`` then fails for an hour each night."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def paris_today() -> date:
    return datetime.now(PARIS).date()
