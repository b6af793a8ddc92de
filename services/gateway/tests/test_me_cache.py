"""A page visitor's MeReply held by the gateway per access token (issue 19): asked once per token for a few seconds,
never past the token's expiry, never with a step pending, dropped by identity's events and by the changes made
through the gateway, not kept when an event overtook its fetch, bounded, and keyed by a hash of the token only. The
same against real NATS and identity: tests/e2e/test_me_cache.py."""
from __future__ import annotations

import base64
import json
import uuid
from types import SimpleNamespace

import pytest
from starlette.datastructures import State

from contracts.identity import AcceptedReply, GetMeV1, LogoutV1, MeReply, PendingStep, Role
from gateway import bus
from gateway.auth.me_cache import MeCache

pytestmark = pytest.mark.unit

NOW = 1_800_000_000.0


def token(exp: float = NOW + 900, tag: str = "") -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"sub": tag or str(uuid.uuid4()), "exp": int(exp)}).encode())
    return f"eyJhbGciOiJFZERTQSJ9.{payload.decode().rstrip('=')}.signature{tag}"


def me(account_id: uuid.UUID | None = None, pending: list[PendingStep] | None = None) -> MeReply:
    return MeReply(account_id=account_id or uuid.uuid4(), email="agathe@demo.carnet.test", phone=None,
                   role=Role.manager, deployment_id=uuid.uuid4(), profile_id=uuid.uuid4(),
                   pending_steps=pending or [])


class Identity:
    """The bus client: GetMeV1 answered with ``answers[token]``; ``during`` runs while it answers."""

    def __init__(self) -> None:
        self.answers: dict[str, MeReply] = {}
        self.asked: list[type] = []
        self.during = lambda: None

    async def call(self, message, headers=None, timeout_s=None):
        self.asked.append(type(message))
        self.during()
        if isinstance(message, GetMeV1):
            return self.answers[headers["Authorization"].removeprefix("Bearer ")]
        return AcceptedReply()


class Clocks:
    def __init__(self) -> None:
        self.monotonic, self.wall = 0.0, NOW


def request_with(identity: Identity, cache: MeCache | None):
    state = State()
    state.rpc = identity
    if cache is not None:
        state.me_cache = cache
    return SimpleNamespace(app=SimpleNamespace(state=state), state=SimpleNamespace(request_id="r"))


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


def cache_of(clocks: Clocks, held_s: float = 5, size: int = 100) -> MeCache:
    return MeCache(held_s, size, clock=lambda: clocks.monotonic, wall_clock=lambda: clocks.wall)


async def test_a_token_is_asked_once_for_its_time_then_again(clocks):
    identity, cache = Identity(), cache_of(clocks)
    request, alice, bob = request_with(identity, cache), token(), token()
    identity.answers = {alice: me(), bob: me()}
    assert await bus.me_of(request, alice) == await bus.me_of(request, alice) == identity.answers[alice]
    assert await bus.me_of(request, bob) == identity.answers[bob]
    assert identity.asked == [GetMeV1, GetMeV1]
    clocks.monotonic = 4.9
    await bus.me_of(request, alice)
    assert len(identity.asked) == 2
    clocks.monotonic = 5.0
    await bus.me_of(request, alice)
    assert len(identity.asked) == 3


async def test_never_held_past_the_tokens_expiry(clocks):
    identity, cache = Identity(), cache_of(clocks, held_s=5)
    request, ending, ended, unreadable = request_with(identity, cache), token(NOW + 2), token(NOW - 1), "not.a-jwt"
    identity.answers = {ending: me(), ended: me(), unreadable: me()}
    for each in (ending, ended, unreadable):
        await bus.me_of(request, each)
        await bus.me_of(request, each)
    assert len(identity.asked) == 5  # only the token still valid 2 s was held, and only for those 2 s
    clocks.monotonic = 2.0
    await bus.me_of(request, ending)
    assert len(identity.asked) == 6


async def test_a_reply_with_a_step_pending_is_never_held(clocks):
    """Accepting the CGU says nothing on the bus: a reply still asking for them must not outlive the acceptance."""
    identity, cache = Identity(), cache_of(clocks)
    request = request_with(identity, cache)
    for step in (PendingStep.cgu, PendingStep.onboarding):
        newcomer = token()
        identity.answers = {newcomer: me(pending=[step])}
        await bus.me_of(request, newcomer)
        identity.answers = {newcomer: me()}
        assert (await bus.me_of(request, newcomer)).pending_steps == []
    assert len(identity.asked) == 4 and len(cache) == 2


async def test_an_accounts_event_drops_its_entries_only(clocks):
    identity, cache = Identity(), cache_of(clocks)
    request, laptop, phone, other = request_with(identity, cache), token(), token(), token()
    agathe = uuid.uuid4()
    identity.answers = {laptop: me(agathe), phone: me(agathe), other: me()}
    for each in (laptop, phone, other):
        await bus.me_of(request, each)
    cache.forget_account(agathe)  # her sessions revoked, her account deactivated or her profile changed
    for each in (laptop, phone, other):
        await bus.me_of(request, each)
    assert len(identity.asked) == 5 and len(cache) == 3


async def test_a_fetch_overtaken_by_an_event_is_not_kept(clocks):
    """Identity read the account before its revocation, the event arrived before its answer: asked again."""
    identity, cache = Identity(), cache_of(clocks)
    request, revoked = request_with(identity, cache), token()
    agathe = uuid.uuid4()
    identity.answers = {revoked: me(agathe)}
    identity.during = lambda: cache.forget_account(agathe)
    await bus.me_of(request, revoked)
    identity.during = lambda: None
    await bus.me_of(request, revoked)
    await bus.me_of(request, revoked)
    assert len(identity.asked) == 2


async def test_a_change_through_the_gateway_drops_everything_at_once(clocks):
    """A logout names its refresh token only: whoever it was, nothing held survives it, even before the event."""
    identity, cache = Identity(), cache_of(clocks)
    request, alice = request_with(identity, cache), token()
    identity.answers = {alice: me()}
    await bus.me_of(request, alice)
    await bus.call(request, LogoutV1(refresh_token="r" * 40))
    await bus.me_of(request, alice)
    assert identity.asked == [GetMeV1, LogoutV1, GetMeV1]


async def test_bounded_the_least_recently_used_first(clocks):
    identity, cache = Identity(), cache_of(clocks, size=3)
    request = request_with(identity, cache)
    tokens = [token() for _ in range(4)]
    identity.answers = {each: me() for each in tokens}
    for each in tokens[:3]:
        await bus.me_of(request, each)
    await bus.me_of(request, tokens[0])  # used again: the second is now the oldest
    await bus.me_of(request, tokens[3])
    assert len(cache) == 3 and len(cache._keys_of) == 3
    asked = len(identity.asked)
    for each in (tokens[0], tokens[2], tokens[3]):
        await bus.me_of(request, each)
    assert len(identity.asked) == asked
    await bus.me_of(request, tokens[1])
    assert len(identity.asked) == asked + 1 and len(cache) == 3


async def test_the_tokens_themselves_are_never_kept(clocks):
    identity, cache = Identity(), cache_of(clocks)
    request, alice = request_with(identity, cache), token()
    identity.answers = {alice: me()}
    await bus.me_of(request, alice)
    [key] = cache._held
    assert len(key) == 32 and alice.encode() not in key and alice not in repr(cache.__dict__)


async def test_without_the_cache_or_with_no_time_identity_is_asked_every_time(clocks):
    identity = Identity()
    alice = token()
    identity.answers = {alice: me()}
    for request in (request_with(identity, None), request_with(identity, cache_of(clocks, held_s=0))):
        await bus.me_of(request, alice)
        await bus.me_of(request, alice)
    assert len(identity.asked) == 4
