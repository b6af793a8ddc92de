import uuid
from datetime import UTC, datetime, timedelta

import pytest

from identity.domain.access_tokens import Claims, encode_access_token, new_private_key_pem, public_jwk
from identity.domain.secrets import hash_secret, new_secret, normalise_email
from identity.domain.sessions import OneTimeSecretState, Verdict, judge, over_limit
from servicekit.auth import TokenVerifier
from servicekit.errors import Unauthenticated

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


def signed(kid: str, pem: str, now: datetime, ttl=timedelta(minutes=15)) -> str:
    claims = Claims(uuid.uuid4(), "professional", uuid.uuid4(), None, (uuid.uuid4(),))
    return encode_access_token(claims, kid, pem, now, ttl)


async def test_services_verify_tokens_against_the_jwks_and_follow_key_rotation():
    old_pem, new_pem = new_private_key_pem(), new_private_key_pem()
    published = [public_jwk("old", old_pem)]

    async def fetch():
        return list(published)

    verifier = TokenVerifier(fetch, min_refresh_interval_s=0)
    principal = await verifier.verify(signed("old", old_pem, datetime.now(UTC)))
    assert principal.role == "professional" and len(principal.structure_ids) == 1

    published.append(public_jwk("new", new_pem))  # rotation: an unknown kid makes the verifier refetch
    assert (await verifier.verify(signed("new", new_pem, datetime.now(UTC)))).role == "professional"


async def test_expired_forged_or_missing_tokens_are_refused_in_french():
    pem = new_private_key_pem()

    async def fetch():
        return [public_jwk("k", pem)]

    verifier = TokenVerifier(fetch, min_refresh_interval_s=0)
    expired = signed("k", pem, datetime.now(UTC) - timedelta(hours=1))
    forged = signed("k", new_private_key_pem(), datetime.now(UTC))
    for token in (expired, forged, "n'importe quoi", None):
        with pytest.raises(Unauthenticated) as refused:
            await verifier.verify(token)
        assert "connect" in refused.value.message
