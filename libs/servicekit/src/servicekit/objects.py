"""Files on the bus: the JetStream object store bucket ``uploads`` (imported files, reports, templates).

nats-py's ``ObjectStore.put`` reads from a synchronous reader and ``get`` gathers the object in memory or in a
file: an upload arriving over HTTP is neither, and a report sent back should not be held whole either. These two
functions stream both ways with the object store's own layout (chunks on ``$O.<bucket>.C.<nuid>``, then one rolled
up meta message on ``$O.<bucket>.M.<name>`` carrying size and SHA-256), so that nats-py and ``nats object`` read
what they write and the other way round.
"""
from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from hashlib import sha256

from nats.js import api
from nats.js.errors import NotFoundError
from nats.js.object_store import (OBJ_CHUNKS_PRE_TEMPLATE, OBJ_DIGEST_TEMPLATE, OBJ_DIGEST_TYPE, OBJ_META_PRE_TEMPLATE,
                                  OBJ_NO_PENDING, ObjectStore)

from contracts.base import ErrorCode
from contracts.imports import UPLOADS_BUCKET
from servicekit.errors import ServiceError
from servicekit.streams import stream_replicas

CHUNK_BYTES = 128 * 1024
# Uploaded files and reports live a week: long enough to review an import and download its report, not more.
UPLOADS_TTL_S = 7 * 24 * 3600


class TooLarge(ServiceError):
    code = ErrorCode.too_large


async def uploads(js) -> ObjectStore:
    """The ``uploads`` bucket, created on first use."""
    return await bucket(js, UPLOADS_BUCKET)


async def bucket(js, name: str) -> ObjectStore:
    """A bucket whose objects live a week (uploads, reports, exports), created on first use."""
    try:
        return await js.object_store(name)
    except NotFoundError:
        return await js.create_object_store(name, api.ObjectStoreConfig(
            bucket=name, ttl=UPLOADS_TTL_S, storage=api.StorageType.FILE, replicas=stream_replicas(js._nc)))


async def put_stream(store: ObjectStore, name: str, chunks: AsyncIterable[bytes], *, max_bytes: int,
                     too_large_message: str = "Le fichier est trop volumineux.") -> api.ObjectInfo:
    """Stores what ``chunks`` yields under ``name``, holding at most one chunk in memory. Over ``max_bytes`` it
    stops, removes what it wrote and raises ``TooLarge``; on any error nothing is left under ``name``."""
    js = store._js
    nuid = js._nc._nuid.next().decode()
    chunk_subject = OBJ_CHUNKS_PRE_TEMPLATE.format(bucket=store._name, obj=nuid)
    digest, size, count = sha256(), 0, 0
    pending = bytearray()
    try:
        async for data in chunks:
            size += len(data)
            if size > max_bytes:
                raise TooLarge(too_large_message, details={"max_bytes": max_bytes})
            pending += data
            while len(pending) >= CHUNK_BYTES:
                piece = bytes(pending[:CHUNK_BYTES])
                del pending[:CHUNK_BYTES]
                digest.update(piece)
                await js.publish(chunk_subject, piece)
                count += 1
        if pending:
            digest.update(pending)
            await js.publish(chunk_subject, bytes(pending))
            count += 1
        info = api.ObjectInfo(
            name=name, bucket=store._name, nuid=nuid, size=size, chunks=count,
            mtime=datetime.now(UTC).isoformat(),
            options=api.ObjectMetaOptions(max_chunk_size=CHUNK_BYTES),
            digest=OBJ_DIGEST_TEMPLATE.format(digest=base64.urlsafe_b64encode(digest.digest()).decode()))
        meta_subject = OBJ_META_PRE_TEMPLATE.format(
            bucket=store._name, obj=base64.urlsafe_b64encode(name.encode()).decode())
        await js.publish(meta_subject, json.dumps(info.as_dict()).encode(),
                         headers={api.Header.ROLLUP: "sub"})
    except BaseException:
        await js.purge_stream(store._stream, subject=chunk_subject)
        raise
    return info


async def read_stream(store: ObjectStore, name: str) -> AsyncIterator[bytes]:
    """The object's chunks, in order, checked against its digest at the end (``NotFoundError`` if absent)."""
    info = await store.get_info(name)
    if not info.size:
        return
    # The stream named: nats-py would otherwise ask JetStream which stream holds the subject (STREAM.NAMES).
    subscription = await store._js.subscribe(
        OBJ_CHUNKS_PRE_TEMPLATE.format(bucket=store._name, obj=info.nuid), stream=store._stream,
        ordered_consumer=True)
    digest = sha256()
    try:
        async for message in subscription._message_iterator:
            digest.update(message.data)
            yield message.data
            if message._get_metadata_fields(message.reply)[8] == OBJ_NO_PENDING:
                break
    finally:
        await subscription.unsubscribe()
    expected = base64.urlsafe_b64decode(info.digest.removeprefix(OBJ_DIGEST_TYPE))
    if digest.digest() != expected:
        raise ValueError(f"object {name!r} does not match its digest")
