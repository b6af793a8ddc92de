"""JetStream streams: one per owner service, plus partners, one-time secrets and dead letters."""
from __future__ import annotations

from dataclasses import dataclass

DAY = 24 * 3600


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    max_age_s: int = 30 * DAY
    duplicate_window_s: int = 120


OWNER_STREAMS = tuple(
    StreamSpec(name=owner.upper(), subjects=(f"{owner}.>",))
    for owner in ("identity", "directory", "notebook", "import", "notify")
)
PARTNER = StreamSpec(name="PARTNER", subjects=("partner.>",))
# A one-time secret must not outlive itself anywhere, the bus included: max_age is the longest secret lifetime.
SECRETS = StreamSpec(name="SECRETS", subjects=("secret.>",), max_age_s=15 * 60, duplicate_window_s=60)
DEADLETTER = StreamSpec(
    name="DEADLETTER",
    subjects=(
        "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>",
        "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>",
        "deadletter.replayed.>",  # one mark per letter replayed (servicekit.deadletters)
    ),
)

ALL_STREAMS: tuple[StreamSpec, ...] = (*OWNER_STREAMS, PARTNER, SECRETS, DEADLETTER)


def stream_for_subject(subject: str) -> StreamSpec:
    prefix = subject.split(".", 1)[0]
    for spec in ALL_STREAMS:
        if any(s.split(".", 1)[0] == prefix for s in spec.subjects):
            return spec
    raise KeyError(f"no stream captures {subject!r}")
