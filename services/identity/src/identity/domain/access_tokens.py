"""Access tokens: EdDSA JWTs signed with the current key, named by ``kid`` so verifiers follow rotation.

PyJWT and cryptography (OpenSSL) are imported by the functions that use them, at the first login or key rotation:
some 11 MB of an idle identity's memory (issue 19 item 4)."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from servicekit.auth import ALGORITHM, AUDIENCE, ISSUER

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class Claims:
    account_id: uuid.UUID
    role: str
    deployment_id: uuid.UUID | None
    profile_id: uuid.UUID | None
    structure_ids: tuple[uuid.UUID, ...] = ()
    session_id: uuid.UUID | None = None  # the refresh family: revoking it from "Mon compte" ends this token too
    pending_steps: tuple[str, ...] = ()


def new_private_key_pem(password: bytes) -> str:
    """Private keys are stored encrypted with the service secret: a copy of the database cannot sign tokens."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                       serialization.BestAvailableEncryption(password))
        .decode()
    )


def load_private_key(private_key_pem: str, password: bytes) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(private_key_pem.encode(), password=password)


def public_jwk(kid: str, private_key: Ed25519PrivateKey) -> dict:
    from jwt.algorithms import OKPAlgorithm

    jwk = json.loads(OKPAlgorithm.to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def encode_access_token(claims: Claims, kid: str, private_key: Ed25519PrivateKey, now: datetime,
                        ttl: timedelta) -> str:
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(claims.account_id),
        "role": claims.role,
        "deployment_id": str(claims.deployment_id) if claims.deployment_id else None,
        "profile_id": str(claims.profile_id) if claims.profile_id else None,
        "structure_ids": [str(s) for s in claims.structure_ids],
        "sid": str(claims.session_id) if claims.session_id else None,
        "pending": list(claims.pending_steps),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    import jwt

    return jwt.encode(payload, private_key, algorithm=ALGORITHM, headers={"kid": kid})
