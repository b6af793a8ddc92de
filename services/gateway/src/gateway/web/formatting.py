"""How pages show dates and phone numbers to French users."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers

PARIS = ZoneInfo("Europe/Paris")


def local_time(value: datetime | None) -> str:
    """Stored in UTC, shown in French legal time: "23/11/2026 08:25"."""
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if value else ""


def phone(value: str | None) -> str:
    """E.164 as a French reader writes it: "+33148123456" → "01 48 12 34 56"."""
    if not value:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(value), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return value
