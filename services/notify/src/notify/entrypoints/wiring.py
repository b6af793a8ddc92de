"""Binds notify's RPC subjects and event subscriptions to their use cases."""
from __future__ import annotations

from functools import partial

from contracts.identity import LoginLinkIssuedV1
from contracts.notify import ReadDevMailboxV1
from notify.handlers import login_link_issued
from notify.handlers.deliver import run_sender
from notify.handlers.deps import Deps
from notify.handlers.read_dev_mailbox import read_dev_mailbox
from servicekit.app import Service
from servicekit.consumers import Subscription


def register(service: Service, deps: Deps) -> None:
    service.handle(ReadDevMailboxV1, partial(read_dev_mailbox, deps=deps))
    service.subscribe(
        Subscription(
            durable=login_link_issued.CONSUMER,
            event_type=LoginLinkIssuedV1,
            handler=partial(login_link_issued.on_login_link_issued, deps=deps),
        )
    )
    service.add_task(partial(run_sender, deps), name="notify-sender")
