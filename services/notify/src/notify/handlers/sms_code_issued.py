"""SMS login code issued by identity → SMS to the beneficiary's mobile."""
from __future__ import annotations

from contracts.identity import SmsCodeIssuedV1
from contracts.notify import Channel
from notify.handlers.deps import Deps
from notify.handlers.queue_message import Outgoing, queue_once
from notify.rendering import render_sms
from servicekit.consumers import EventMeta

CONSUMER = "notify-sms-codes"
TEMPLATE = "sms_code"


async def on_sms_code_issued(event: SmsCodeIssuedV1, _meta: EventMeta, deps: Deps) -> None:
    minutes = max(1, round((event.expires_at - event.occurred_at).total_seconds() / 60))
    sms = render_sms(TEMPLATE, code=event.code, minutes=minutes)
    await queue_once(deps, CONSUMER, event.event_id, [Outgoing(TEMPLATE, Channel.sms, event.phone, sms, True)])
