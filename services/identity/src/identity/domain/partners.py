"""Partners' API credentials: a client id said in the clear, a secret shown once and kept only as its scrypt hash,
and the territories the credential may act in. Pure functions, no I/O.

The secret carries 256 random bits, so a fast hash would do against guessing; scrypt (memory-hard, salted) is kept
because a credential lives long, and a stolen table of them must not be checked at GPU speed."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable

from contracts.partners import PARTNER_NAME

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
SALT_BYTES = 16
CLIENT_ID_PREFIX = "cdb_"

WRONG_CREDENTIAL = "Identifiants du partenaire refusés : vérifiez l'identifiant client et le secret."
MISSING_CREDENTIAL = ("Authentification requise : envoyez l'identifiant client et le secret du partenaire "
                      "(Authorization: Basic).")
OUT_OF_SCOPE = "Ce partenaire n'est pas habilité sur ce territoire."
UNKNOWN_MANAGER = "Aucun gestionnaire actif de ce territoire n'a cette adresse e-mail."
CREDENTIAL_NOT_FOUND = "Cet identifiant de partenaire n'existe pas."
ALREADY_REVOKED = "Cet identifiant est révoqué : créez-en un nouveau."
BAD_NAME = "Le nom du partenaire s'écrit en minuscules sans accent ni espace (lettres et chiffres, 2 à 31)."
UNKNOWN_TERRITORY = "Ce territoire n'existe pas sur Carnet de bord."


def valid_partner_name(name: str) -> bool:
    return re.fullmatch(PARTNER_NAME, name) is not None


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_hex(12)


def new_partner_secret() -> str:
    return secrets.token_urlsafe(32)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def hash_partner_secret(secret: str) -> str:
    """``scrypt$n$r$p$<salt hex>$<hash hex>``: the parameters travel with the hash, so they can be raised later."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


# Checked when the client id is unknown, so that an unknown id and a wrong secret take the same time.
DECOY_HASH = hash_partner_secret(secrets.token_urlsafe(32))


def secret_matches(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        return hmac.compare_digest(_scrypt(secret, bytes.fromhex(salt), int(n), int(r), int(p)), bytes.fromhex(digest))
    except ValueError:
        return False


def in_scope(deployment_ids: Iterable[str | uuid.UUID], deployment_id: uuid.UUID) -> bool:
    return str(deployment_id) in {str(d) for d in deployment_ids}
