"""Reading and replaying dead letters: the advisory names the consumer, the stream and the sequence of the
original message.

A replay goes to the consumer that gave up, and to it only: republishing on the event's subject would hand the
message again to every other consumer of that subject. The replay is a request on ``dlq.replay.<consumer>``,
answered by a replica of that consumer (its replay subscriber, ``servicekit.bus``), which reads the original
message from its stream and runs its handler once. A letter replayed is marked by a ``deadletter.replayed.<seq>`` message in ``DEADLETTER``,
written before the delivery with "no earlier message on this subject" as a condition: two replays of one letter
cannot both run, and a replay that fails removes its mark so that the letter can be replayed again.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import APIError

from contracts.streams import DEADLETTER

REPLAY_SUBJECT = "dlq.replay.{consumer}"
REPLAYED_SUBJECT = "deadletter.replayed.{dlq_seq}"


class ReplayFailed(Exception):
    """The letter was not replayed (already replayed, no running consumer, or its handler failed again)."""


@dataclass(frozen=True)
class DeadLetter:
    dlq_seq: int
    stream: str
    consumer: str
    stream_seq: int
    deliveries: int | None
    reason: str
    replayed_at: datetime | None = None


async def list_dead_letters(js: JetStreamContext, limit: int = 1000) -> list[DeadLetter]:
    info = await js.stream_info(DEADLETTER.name)
    if info.state.messages == 0:
        return []
    subscription = await js.pull_subscribe(
        "", stream=DEADLETTER.name, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=30)
    )
    letters: list[DeadLetter] = []
    replayed: dict[int, datetime] = {}
    try:
        pending = info.state.messages
        while pending > 0:
            try:
                batch = await subscription.fetch(100, timeout=2)
            except NatsTimeoutError:
                break
            for msg in batch:
                pending = msg.metadata.num_pending
                data = json.loads(msg.data)
                if msg.subject.startswith(REPLAYED_SUBJECT.format(dlq_seq="")):
                    replayed[data["dlq_seq"]] = datetime.fromisoformat(data["replayed_at"])
                else:
                    letters.append(
                        DeadLetter(
                            dlq_seq=msg.metadata.sequence.stream,
                            stream=data["stream"],
                            consumer=data["consumer"],
                            stream_seq=data["stream_seq"],
                            deliveries=data.get("deliveries"),
                            reason="terminated" if "MSG_TERMINATED" in msg.subject else "max_deliveries",
                        )
                    )
                await msg.ack()
    finally:
        await subscription.unsubscribe()
    return [
        DeadLetter(**{**letter.__dict__, "replayed_at": replayed.get(letter.dlq_seq)}) for letter in letters[:limit]
    ]


async def replay(js: JetStreamContext, letter: DeadLetter, timeout_s: float = 30) -> None:
    """Hands the original message to the consumer that gave up on it, once; raises ``ReplayFailed`` otherwise."""
    nc = js._nc  # the request goes on core NATS, over the context's own connection
    marker = json.dumps({"dlq_seq": letter.dlq_seq, "replayed_at": datetime.now(UTC).isoformat()}).encode()
    try:
        mark = await js.publish(REPLAYED_SUBJECT.format(dlq_seq=letter.dlq_seq), marker, stream=DEADLETTER.name,
                                headers={"Nats-Expected-Last-Subject-Sequence": "0"})
    except APIError as exc:  # the condition failed: a mark is already there
        raise ReplayFailed(f"La lettre morte n°{letter.dlq_seq} a déjà été rejouée.") from exc
    request = json.dumps({"stream": letter.stream, "stream_seq": letter.stream_seq}).encode()
    try:
        answer = await nc.request(REPLAY_SUBJECT.format(consumer=letter.consumer), request, timeout=timeout_s)
        error = json.loads(answer.data).get("error")
    except (NoRespondersError, NatsTimeoutError) as exc:
        error = f"aucun consommateur « {letter.consumer} » n'a répondu ({type(exc).__name__})"
    if error:
        await js.delete_msg(DEADLETTER.name, mark.seq)  # not replayed after all: it may be tried again
        raise ReplayFailed(f"La lettre morte n°{letter.dlq_seq} n'a pas été rejouée : {error}")
