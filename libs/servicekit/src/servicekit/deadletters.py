"""Reading and replaying dead letters: the advisory names the stream and sequence of the original message."""
from __future__ import annotations

import json
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.streams import DEADLETTER


@dataclass(frozen=True)
class DeadLetter:
    dlq_seq: int
    stream: str
    consumer: str
    stream_seq: int
    deliveries: int | None
    reason: str


async def list_dead_letters(js: JetStreamContext, limit: int = 1000) -> list[DeadLetter]:
    info = await js.stream_info(DEADLETTER.name)
    if info.state.messages == 0:
        return []
    subscription = await js.pull_subscribe(
        "", stream=DEADLETTER.name, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=30)
    )
    letters: list[DeadLetter] = []
    try:
        while len(letters) < min(limit, info.state.messages):
            for msg in await subscription.fetch(min(100, limit), timeout=2):
                advisory = json.loads(msg.data)
                letters.append(
                    DeadLetter(
                        dlq_seq=msg.metadata.sequence.stream,
                        stream=advisory["stream"],
                        consumer=advisory["consumer"],
                        stream_seq=advisory["stream_seq"],
                        deliveries=advisory.get("deliveries"),
                        reason="terminated" if "MSG_TERMINATED" in msg.subject else "max_deliveries",
                    )
                )
                await msg.ack()
    finally:
        await subscription.unsubscribe()
    return letters


async def replay(js: JetStreamContext, letter: DeadLetter) -> None:
    """Republishes the original message; a fresh ``Nats-Msg-Id`` lets it past deduplication, the inbox keeps effects single."""
    original = await js.get_msg(letter.stream, letter.stream_seq)
    headers = dict(original.headers or {})
    headers["Nats-Msg-Id"] = f"{headers.get('Nats-Msg-Id', letter.stream_seq)}:replay:{letter.dlq_seq}"
    await js.publish(original.subject, original.data, headers=headers)
