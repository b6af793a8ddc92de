import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from identity.domain.access_tokens import Claims, encode_access_token, load_private_key, new_private_key_pem, public_jwk
from identity.domain.secrets import hash_secret, new_secret, normalise_email
from identity.domain.sessions import OneTimeSecretState, Verdict, judge, over_limit
from servicekit.auth import TokenVerifier
from servicekit.errors import Forbidden, Unauthenticated

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "verdict"),
    [
        (OneTimeSecretState(NOW + timedelta(minutes=1), None), Verdict.usable),
        (OneTimeSecretState(NOW, None), Verdict.expired),
        (OneTimeSecretState(NOW + timedelta(minutes=1), NOW - timedelta(seconds=1)), Verdict.already_used),
        (OneTimeSecretState(NOW + timedelta(minutes=1), None, NOW), Verdict.revoked),
    ],
)
def test_a_one_time_secret_serves_once_before_it_expires(state, verdict):
    assert judge(state, NOW) is verdict


def test_secrets_are_random_and_only_their_hash_is_kept():
    first, second = new_secret(), new_secret()
    assert first != second and len(first) >= 43  # 256 bits, base64url
    assert hash_secret(first) != first and len(hash_secret(first)) == 64


def test_emails_are_normalised_and_garbage_refused():
    assert normalise_email("  Pro@Demo.Carnet.TEST ") == "pro@demo.carnet.test"
    assert normalise_email("pas-une-adresse") is None
    assert normalise_email("a@b") is None


def test_the_limit_counts_earlier_attempts_only():
    assert not over_limit(4, 5)
    assert over_limit(5, 5)


def new_key():
    password = b"test-secret"
    pem = new_private_key_pem(password)
    assert "ENCRYPTED PRIVATE KEY" in pem  # a copy of the database cannot sign tokens
    return load_private_key(pem, password)


def signed(kid: str, key, now: datetime, ttl=timedelta(minutes=15), **claims) -> str:
    values = {"structure_ids": (uuid.uuid4(),), **claims}
    return encode_access_token(Claims(uuid.uuid4(), "professional", uuid.uuid4(), None, **values), kid, key, now, ttl)


def verifier_of(published: list[dict]) -> TokenVerifier:
    """A service's verifier of identity's JWKS ``published`` (changed in place: a key rotated or withdrawn)."""
    async def fetch():
        return list(published)

    return TokenVerifier(fetch, min_refresh_interval_s=0)


async def test_services_verify_tokens_against_the_jwks_and_follow_key_rotation():
    old_pem, new_pem = new_key(), new_key()
    published = [public_jwk("old", old_pem)]
    verifier = verifier_of(published)
    principal = await verifier.verify(signed("old", old_pem, datetime.now(UTC)))
    assert principal.role == "professional" and len(principal.structure_ids) == 1

    published.append(public_jwk("new", new_pem))  # rotation: an unknown kid makes the verifier refetch
    assert (await verifier.verify(signed("new", new_pem, datetime.now(UTC)))).role == "professional"


async def test_expired_forged_or_missing_tokens_are_refused_in_french():
    pem = new_key()
    verifier = verifier_of([public_jwk("k", pem)])
    expired = signed("k", pem, datetime.now(UTC) - timedelta(hours=1))
    forged = signed("k", new_key(), datetime.now(UTC))
    for token in (expired, forged, "n'importe quoi", None):
        with pytest.raises(Unauthenticated) as refused:
            await verifier.verify(token)
        assert "connect" in refused.value.message


async def test_a_token_with_steps_pending_opens_only_the_calls_that_complete_them():
    key = new_key()
    verifier = verifier_of([public_jwk("k", key)])
    token = signed("k", key, datetime.now(UTC), pending_steps=("cgu", "onboarding"))
    with pytest.raises(Forbidden) as refused:
        await verifier.verify(token)
    assert "conditions générales" in refused.value.message
    assert refused.value.details == {"pending_steps": ["cgu", "onboarding"]}
    assert (await verifier.verify(token, allow_pending=True)).pending_steps == ("cgu", "onboarding")


async def test_revoked_sessions_and_accounts_refuse_tokens_issued_before_the_revocation():
    key = new_key()
    verifier = verifier_of([public_jwk("k", key)])
    session_id = uuid.uuid4()
    issued = datetime.now(UTC) - timedelta(minutes=1)
    token = signed("k", key, issued, session_id=session_id)
    principal = await verifier.verify(token)
    verifier.revocations.add(principal.account_id, session_id, issued.timestamp())
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)
    other_session = signed("k", key, issued, session_id=uuid.uuid4())
    other = await verifier.verify(other_session)
    verifier.revocations.add(other.account_id, None, datetime.now(UTC).timestamp())  # the whole account
    with pytest.raises(Unauthenticated):
        await verifier.verify(other_session)


async def test_a_token_seen_again_is_not_checked_again_until_it_expires(monkeypatch):
    import jwt

    key = new_key()
    checked = []
    decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *args, **kwargs: checked.append(True) or decode(*args, **kwargs))
    verifier = verifier_of([public_jwk("k", key)])
    token = signed("k", key, datetime.now(UTC) - timedelta(seconds=59), ttl=timedelta(minutes=1))  # a second left
    first = await verifier.verify(token)
    assert [await verifier.verify(token) for _ in range(5)] == [first] * 5 and len(checked) == 1

    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
    await asyncio.sleep(max(0.0, expiry - time.time()))  # its expiry's second
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


async def test_a_key_withdrawn_takes_the_tokens_it_signed_with_it():
    old, new = new_key(), new_key()
    published = [public_jwk("old", old)]
    verifier = verifier_of(published)
    token = signed("old", old, datetime.now(UTC))
    await verifier.verify(token)
    published[:] = [public_jwk("new", new)]  # the old key withdrawn; a token of the new one makes the verifier refetch
    await verifier.verify(signed("new", new, datetime.now(UTC)))
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


async def test_the_tokens_kept_are_the_most_recent(monkeypatch):
    from servicekit import auth

    key = new_key()
    monkeypatch.setattr(auth, "VERIFIED_KEPT", 3)
    verifier = verifier_of([public_jwk("k", key)])
    tokens = [signed("k", key, datetime.now(UTC)) for _ in range(5)]
    for token in tokens:
        await verifier.verify(token)
    assert list(verifier._verified) == tokens[2:]
