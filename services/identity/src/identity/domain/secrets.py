"""One-time secrets and the contact details they are sent to.

Links and refresh tokens carry 256 random bits: a plain SHA-256 suffices, nothing to brute-force.
SMS codes carry 6 digits: their hash is keyed with the service secret (a stolen table reveals nothing
without it), they live 10 minutes and allow 5 tries.
"""
import hashlib
import hmac
import secrets

from servicekit.contact import normalise_email, normalise_phone  # noqa: F401  (re-exported for identity)

SMS_CODE_DIGITS = 6


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_sms_code() -> str:
    return f"{secrets.randbelow(10**SMS_CODE_DIGITS):0{SMS_CODE_DIGITS}d}"


def hash_sms_code(code: str, pepper: str, code_id: str) -> str:
    return hmac.new(pepper.encode(), f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def is_mobile(e164: str) -> bool:
    import phonenumbers  # at the first SMS code, not at start (~1 MB of an idle service, issue 19 item 4)

    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    return kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
