"""Creates (or brings up to date) the JetStream streams declared in contracts."""
from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

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


async def ensure_streams(js: JetStreamContext, specs=ALL_STREAMS, replicas: int = 1) -> None:
    for spec in specs:
        config = stream_config(spec, replicas)
        try:
            await js.add_stream(config)
        except BadRequestError:  # exists with another configuration: converge to ours
            await js.update_stream(config)
