"""One-time secrets: 256 random bits shown once, only their SHA-256 kept.

A plain hash suffices (no argon2) because the secret has full entropy: nothing to brute-force.
"""
import hashlib
import re
import secrets

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_email(email: str) -> str | None:
    """Lower-cased, trimmed address, or None when it cannot be an address."""
    email = email.strip().lower()
    return email if EMAIL_PATTERN.match(email) and len(email) <= 320 else None
