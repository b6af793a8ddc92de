"""How pages show dates and phone numbers to French users."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers

PARIS = ZoneInfo("Europe/Paris")
# A page shows the same dates and numbers again and again (a notebook's history, its reader's own number): each
# value is formatted once, then read from here. Formatting a phone number cost some 100 µs, a date some 10 µs, and
# the notebook page shows some 40 of them (issue 19).
FORMATTED_KEPT = 4096


@lru_cache(maxsize=FORMATTED_KEPT)
def local_time(value: datetime | None) -> str:
    """Stored in UTC, shown in French legal time: "23/11/2026 08:25"."""
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if value else ""


@lru_cache(maxsize=FORMATTED_KEPT)
def phone(value: str | None) -> str:
    """E.164 as a French reader writes it: "+33148123456" → "01 48 12 34 56"."""
    if not value:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(value), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return value


def euros(cents: int | None) -> str:
    """An amount in cents as French readers write it: 1234550 → "12 345,50 €" (the spaces do not break)."""
    if cents is None:
        return ""
    return f"{cents / 100:,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0€"
