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


def euros(cents: int | None) -> str:
    """An amount in cents as French readers write it: 1234550 → "12 345,50 €" (the spaces do not break)."""
    if cents is None:
        return ""
    return f"{cents / 100:,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0€"


# Checked in this order: Edge and Opera also say Chrome, Chrome also says Safari; Android also says Linux.
BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
            ("Chromium/", "Chromium"), ("Safari/", "Safari"))
SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
           ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def browser(user_agent: str | None) -> str:
    """A browser's User-Agent as a person recognises it: "Firefox sur Windows", not the header itself."""
    if not user_agent:
        return "Inconnu"
    name = next((label for token, label in BROWSERS if token in user_agent), "")
    system = next((label for token, label in SYSTEMS if token in user_agent), "")
    if name and system:
        return f"{name} sur {system}"
    return name or system or "Autre navigateur ou logiciel"
