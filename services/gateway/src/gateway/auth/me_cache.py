"""Who a page's visitor is (identity's ``MeReply``), held by the gateway a few seconds per access token.

Every page of a signed-in visitor starts with ``GetMeV1``: an RPC to identity and a database read there, about a
sixth of the HTML notebook page's CPU in the whole system (issue 19). The reply changes rarely, and identity says
when on the bus: ``identity.sessions.revoked.v1`` (logout, « Fermer cette session », a replayed refresh token, a
deactivation), ``identity.account.deactivated.v1`` and ``identity.account.profile_changed.v1`` (onboarding done,
« Mon compte », a new e-mail), which the gateway follows: each drops the account's entries at once. The RPCs through
this gateway that change who someone is (``CHANGES_ME``) drop everything it holds as soon as they are answered,
before their event comes back. A fetch during which such an event arrived is not kept (it may have read the account
before the change).

What is never held: a reply with a step pending (CGU, onboarding), so that completing it can never be hidden (no
event says the CGU were accepted); an entry past the token's own expiry. What is held at most ``held_s`` (a few
seconds) and not dropped by any event: a structure moved in the directory (identity says nothing of it; the access
token's own claims, which the services check, keep it for their 15 minutes anyway) and a new CGU version deployed.

The key is a SHA-256 of the token: the access tokens themselves are never kept. At most ``size`` entries, the least
recently used dropped first.
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from contracts.identity import (
    AcceptCguV1,
    AccountState,
    ChangeAccountV1,
    CompleteOnboardingV1,
    ConfirmEmailChangeV1,
    LogoutV1,
    MeReply,
    RevokeMySessionV1,
    SessionsRevokedV1,
    UpdateMyProfileV1,
)
from gateway.follow import follow_new_events
from servicekit.bus_access import GATEWAY_ACCOUNT_EVENTS

HELD_S = 5.0
SIZE = 10_000
# Answered by identity through this gateway, they change someone's ``MeReply`` or end their tokens: every entry is
# dropped (they are rare; the account is not always known here: a logout names its refresh token only).
CHANGES_ME = (AcceptCguV1, CompleteOnboardingV1, UpdateMyProfileV1, ConfirmEmailChangeV1, LogoutV1,
              RevokeMySessionV1, ChangeAccountV1)


def token_key(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_expiry(token: str) -> float | None:
    """The ``exp`` of a JWT's payload, unverified: read only for a token identity has just accepted (signature
    checked there), to hold nothing past it. None when unreadable: then nothing is held."""
    try:
        payload = token.split(".")[1]
        exp = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]
    except (IndexError, ValueError, KeyError, TypeError):
        return None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


class MeCache:
    def __init__(self, held_s: float = HELD_S, size: int = SIZE, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.held_s, self.size, self.clock, self.wall_clock = held_s, size, clock, wall_clock
        self._held: OrderedDict[bytes, tuple[float, MeReply]] = OrderedDict()  # key → (held until, reply)
        self._keys_of: dict[uuid.UUID, set[bytes]] = {}  # account → its entries' keys
        self.generation = 0  # one more at each drop by an event or a change: a fetch that saw one is not kept

    def __len__(self) -> int:
        return len(self._held)

    def get(self, token: str) -> MeReply | None:
        key = token_key(token)
        held = self._held.get(key)
        if held is None:
            return None
        if self.clock() >= held[0]:
            self._drop(key)
            return None
        self._held.move_to_end(key)
        return held[1]

    def keep(self, token: str, me: MeReply, generation: int) -> None:
        """``generation``: ``self.generation`` read before asking identity for ``me``."""
        if generation != self.generation or me.pending_steps or self.held_s <= 0 or self.size <= 0:
            return
        expiry = token_expiry(token)
        if expiry is None:
            return
        held_s = min(self.held_s, expiry - self.wall_clock())
        if held_s <= 0:
            return
        key = token_key(token)
        self._drop(key)
        self._held[key] = (self.clock() + held_s, me)
        self._keys_of.setdefault(me.account_id, set()).add(key)
        while len(self._held) > self.size:
            self._drop(next(iter(self._held)))

    def forget_account(self, account_id: uuid.UUID) -> None:
        self.generation += 1
        for key in self._keys_of.pop(account_id, set()):
            self._held.pop(key, None)

    def forget_all(self) -> None:
        self.generation += 1
        self._held.clear()
        self._keys_of.clear()

    def _drop(self, key: bytes) -> None:
        held = self._held.pop(key, None)
        if held is not None:
            keys = self._keys_of.get(held[1].account_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys_of[held[1].account_id]


def follow_account_events(broker, cache: MeCache) -> None:
    """Subscribes ``broker`` (before it starts) to identity's events that change or end someone's ``MeReply``, from
    now on (gateway.follow)."""

    async def on_revoked(event: SessionsRevokedV1) -> None:
        cache.forget_account(event.account_id)

    async def on_account(event: AccountState) -> None:
        cache.forget_account(event.account_id)

    follow_new_events(broker, "gateway-accounts", {
        event_type: on_revoked if issubclass(event_type, SessionsRevokedV1) else on_account
        for event_type in GATEWAY_ACCOUNT_EVENTS})
