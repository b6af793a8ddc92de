"""Creates (or brings up to date) the JetStream streams declared in contracts, through the broker's JetStream
context (``Bus.stream_context``)."""
from __future__ import annotations

from faststream.nats import RetentionPolicy, StorageType, StreamConfig

from contracts.streams import ALL_STREAMS, StreamSpec


def stream_config(spec: StreamSpec, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        max_age=spec.max_age_s,
        duplicate_window=spec.duplicate_window_s,
        num_replicas=replicas,
    )


async def ensure_streams(js, specs=ALL_STREAMS, replicas: int = 1) -> None:
    for spec in specs:
        config = stream_config(spec, replicas)
        try:
            await js.add_stream(config)
        except Exception:  # exists with another configuration: converge to ours (or fail with the real cause)
            await js.update_stream(config)
