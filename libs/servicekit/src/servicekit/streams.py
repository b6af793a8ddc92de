"""Creates (or brings up to date) the JetStream streams declared in contracts, through the broker's JetStream
context (``Bus.stream_context``).

Replicas follow the server: 1 on a single server, 3 in a cluster (DESIGN §2.1), so that a cluster loses a server
without losing a message. Every replica of every service must ask the same, or its create would differ from the
stream and be refused (only the operator may update one): hence the server's own word, whether it is part of a
cluster, rather than how many servers happen to answer at that moment (one may be down while a service starts)."""
from __future__ import annotations

from faststream.nats import RetentionPolicy, StorageType, StreamConfig

from contracts.streams import ALL_STREAMS, StreamSpec

CLUSTER_REPLICAS = 3


def stream_replicas(nc) -> int:
    """The replicas of the streams (and object store buckets) on the server ``nc`` is connected to: 3 when it
    belongs to a cluster (its INFO names one), else 1."""
    return CLUSTER_REPLICAS if nc._server_info.get("cluster") else 1  # nats-py keeps the INFO private


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


async def ensure_streams(js, specs=ALL_STREAMS, replicas: int | None = None) -> None:
    """``replicas`` by default from the server (``stream_replicas``)."""
    if replicas is None:
        replicas = stream_replicas(js._nc)
    for spec in specs:
        config = stream_config(spec, replicas)
        try:
            await js.add_stream(config)
        except Exception:  # exists with another configuration: converge to ours (or fail with the real cause)
            await js.update_stream(config)
