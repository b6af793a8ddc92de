"""Sensitive identifiers (NIR, CAF/MSA and France Travail numbers): encrypted at rest, matched by a keyed hash.

The blind index is an HMAC of the normalised value: equal values match, and the column alone reveals nothing
without the key. Both keys derive from the service's secret.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from functools import cached_property



def normalise_identifier(value: str) -> str:
    return re.sub(r"[\s.-]", "", value).upper()


class FieldProtection:
    def __init__(self, secret: bytes):
        self._fernet_key = base64.urlsafe_b64encode(hashlib.sha256(b"notebook-fields\0" + secret).digest())
        # Keyed once: each index copies it (an import hashes two or three identifiers per row).
        index_key = hashlib.sha256(b"notebook-blind-index\0" + secret).digest()
        self._index_hmac = hmac.new(index_key, digestmod=hashlib.sha256)

    @cached_property
    def _fernet(self):
        # Made at the first protected field, not at start: cryptography (OpenSSL) is some 8 MB of an idle
        # service's memory (issue 19 item 4).
        from cryptography.fernet import Fernet
        return Fernet(self._fernet_key)

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode() if value else ""

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode() if token else ""

    def index(self, kind: str, value: str) -> str | None:
        """The keyed hash of a normalised identifier (``kind`` separates NIR from CAF numbers), or None if empty."""
        value = normalise_identifier(value)
        if not value:
            return None
        keyed = self._index_hmac.copy()
        keyed.update(f"{kind}:{value}".encode())
        return keyed.hexdigest()
