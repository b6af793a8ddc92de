"""One-time secrets and the contact details they are sent to.

Links and refresh tokens carry 256 random bits: a plain SHA-256 suffices, nothing to brute-force.
SMS codes carry 6 digits: their hash is keyed with the service secret (a stolen table reveals nothing
without it), they live 10 minutes and allow 5 tries.
"""
import hashlib
import hmac
import re
import secrets

import phonenumbers

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SMS_CODE_DIGITS = 6


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_sms_code() -> str:
    return f"{secrets.randbelow(10**SMS_CODE_DIGITS):0{SMS_CODE_DIGITS}d}"


def hash_sms_code(code: str, pepper: str, code_id: str) -> str:
    return hmac.new(pepper.encode(), f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def normalise_email(email: str) -> str | None:
    """Lower-cased, trimmed address, or None when it cannot be an address."""
    email = email.strip().lower()
    return email if EMAIL_PATTERN.match(email) and len(email) <= 320 else None


# Overseas départements dial their own "0…" numbers (0692 in La Réunion): tried after metropolitan France.
FRENCH_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF")


def normalise_phone(phone: str) -> str | None:
    """E.164 form of a French number (metropolitan or overseas), or None when it is not a valid number."""
    for region in FRENCH_REGIONS:
        try:
            number = phonenumbers.parse(phone.strip(), region)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def is_mobile(e164: str) -> bool:
    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    return kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
