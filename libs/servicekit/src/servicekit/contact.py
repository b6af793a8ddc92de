"""Contact details as people type them, normalised the same way by every service."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Overseas départements dial their own "0…" numbers (0692 in La Réunion): tried after metropolitan France.
FRENCH_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF")
# A metropolitan number already in E.164 ("+33612345678", as imports and forms store it): its digits are the number.
METROPOLITAN_E164 = re.compile(r"\+33([1-9]\d{8})", re.ASCII)


def normalise_email(email: str) -> str | None:
    """Lower-cased, trimmed address, or None when it cannot be an address."""
    email = email.strip().lower()
    return email if EMAIL_PATTERN.match(email) and len(email) <= 320 else None


@lru_cache(maxsize=4096)
def normalise_phone(phone: str) -> str | None:
    """E.164 form of a French number (metropolitan or overseas), or None when it is not a valid number. Kept for
    the numbers last seen: an imported beneficiary's number is checked by each service it passes through, and by
    some twice (identity reads a batch of events, then applies each), at a tenth of a millisecond each time."""
    import phonenumbers  # at the first number, not at start (~1 MB of an idle service, issue 19 item 4)

    phone = phone.strip()
    if (e164 := METROPOLITAN_E164.fullmatch(phone)) and phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(country_code=33, national_number=int(e164.group(1)))):
        # What parsing it would find, without parsing it: parsing was most of what an imported row cost the
        # notebook (a test compares both ways).
        return phone
    for region in FRENCH_REGIONS:
        try:
            number = phonenumbers.parse(phone, region)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


class _WithoutCombining(dict):
    """``str.translate`` table deleting combining marks (accents once decomposed), filled as characters come: a
    name is translated in C instead of testing its characters one by one in Python (five keys an imported row)."""

    CACHED_BELOW = 0x3000  # Latin, Greek, Cyrillic, Arabic… and their marks; rarer characters are not kept

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        if code < self.CACHED_BELOW:
            self[code] = kept
        return kept


WITHOUT_COMBINING = _WithoutCombining()


def search_key(text: str) -> str:
    """What searches compare: no accents, no case, single spaces ("Élodie  DUPRÉ" → "elodie dupre")."""
    if text.isascii():  # nothing to decompose nor strip
        return " ".join(text.casefold().split())
    return " ".join(unicodedata.normalize("NFKD", text).translate(WITHOUT_COMBINING).casefold().split())
