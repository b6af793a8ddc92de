"""Publishes outbox rows to JetStream, then marks them published.

Exactly once on the stream even if the relay dies between publish and mark, or two relays run:
each message carries ``Nats-Msg-Id = event_id`` and JetStream drops duplicates within its window.
On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets replicas share rows instead of racing on them.

One-time secrets (``secret.*`` subjects: login links, SMS codes) do not stay at rest: once JetStream
acknowledged them, their rows are deleted in the step that marks the others published.

Each publish is a PRODUCER span, child of the span of the transaction that wrote the row (its ``traceparent`` is
stored with it), and the published message carries that span's context: one trace goes from the request to the
consumers. After each round the relay measures the backlog (count and age of the oldest unpublished row) into
Prometheus gauges.

What wakes it: a commit of this process that wrote outbox rows (``Outbox.committed``); on PostgreSQL the commit of
any replica of the service (its ``NOTIFY``, heard on a connection of the relay's own that ``LISTEN``s); otherwise
its poll, every ``poll_interval_s``. A commit during a round starts another round at once.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog
from nats.js import JetStreamContext
from opentelemetry import trace
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.streams import SECRETS
from servicekit import telemetry
from servicekit.db import is_sqlite, one_of, utcnow
from servicekit.messaging import outbox_table
from servicekit.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISHED
from servicekit.outbox import WAKE_CHANNEL, Outbox

log = structlog.get_logger("servicekit.relay")
SECRET_PREFIX = SECRETS.subjects[0].removesuffix(">")  # "secret."
MEASURE_EVERY_S = 1.0  # backlog gauges
MARK_ON_STOP_S = 5.0  # a relay stopping lets the mark under way end
# A batch not acknowledged by then stays unpublished, to be sent again (JetStream drops what it already holds).
PUBLISH_TIMEOUT_S = 5.0


def is_secret(subject: str) -> bool:
    return subject.startswith(SECRET_PREFIX)


class OutboxRelay:
    def __init__(
        self,
        service: str,
        sessions: async_sessionmaker[AsyncSession],
        js: JetStreamContext,
        outbox: Outbox,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        after_publish: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.js = js
        self.outbox = outbox
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self._after_publish = after_publish  # test seam: simulates a crash before the mark
        self._measured_at = float("-inf")
        self.is_sqlite = is_sqlite(sessions.kw["bind"])
        self.rounds = 0  # rounds done, each until nothing was left to publish
        self.listening = asyncio.Event()  # PostgreSQL: other replicas' commits are heard
        self._marking: asyncio.Task | None = None  # the last round's mark, under way while the next one publishes
        self._unmarked: set = set()  # SQLite: the event ids of rows published whose mark is under way

    async def publish_pending(self) -> int:
        """Publishes one batch and marks it; returns how many rows it published."""
        published, marking = await self._publish_batch()
        if marking is not None:
            await marking
        return published

    async def _publish_batch(self) -> tuple[int, asyncio.Task | None]:
        """Reads and publishes one batch: how many rows, and the task that marks them, under way. The relay's
        next round reads and publishes while that mark waits for the database: waiting for it first (on SQLite
        behind the service's writers, for the write lock), every event committed meanwhile waited too, the tail
        of event propagation (issue 19 item 3)."""
        if self.is_sqlite:
            # SQLite has one write lock for the whole database: the batch is read without it and marked in a short
            # write transaction once JetStream acknowledged it, so that a slow or absent NATS never holds every
            # writer of the service. Another process's relay may publish the same rows meanwhile: JetStream
            # drops the duplicates by Nats-Msg-Id. Rows published whose mark is under way are not read again.
            async with self.sessions() as session:
                rows = (await session.execute(self._pending(excluding=self._unmarked))).all()
            if not rows:
                return 0, None
            await self._publish(rows)
            mark = self._mark_apart(rows)
        else:
            # PostgreSQL: replicas share the rows, each locking its batch (SKIP LOCKED) until it is marked; the
            # next round skips them too.
            session = self.sessions()
            try:
                await session.begin()
                rows = (await session.execute(self._pending().with_for_update(skip_locked=True))).all()
                if rows:
                    await self._publish(rows)
            except BaseException:
                await session.close()
                raise
            if not rows:
                await session.close()
                return 0, None
            mark = self._mark_and_commit(session, rows)
        OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))
        self.outbox.mark_published(row.event_id for row in rows)  # on the stream: a reply waiting for it may go
        event_ids = {row.event_id for row in rows}
        self._unmarked |= event_ids
        return len(rows), asyncio.create_task(self._marked(mark, event_ids), name=f"{self.service}-relay-mark")

    async def _mark_apart(self, rows) -> None:
        async with self.sessions.begin() as session:
            await self._mark_published(session, rows)

    async def _mark_and_commit(self, session: AsyncSession, rows) -> None:
        try:
            await self._mark_published(session, rows)
            await session.commit()
        finally:
            await session.close()

    async def _marked(self, mark, event_ids: set) -> None:
        try:
            await mark
        finally:  # marked, or left pending (published again, JetStream drops the duplicates): readable again
            self._unmarked -= event_ids

    def _pending(self, excluding: set | None = None):
        query = (
            select(outbox_table.c.seq, outbox_table.c.event_id, outbox_table.c.subject,
                   outbox_table.c.payload, outbox_table.c.headers)
            .where(outbox_table.c.published_at.is_(None))
            .order_by(outbox_table.c.seq)
            .limit(self.batch_size)
        )
        return query.where(outbox_table.c.event_id.not_in(excluding)) if excluding else query

    async def measure_backlog(self) -> None:
        """Sets the backlog gauges: how many rows wait, and for how long the oldest has."""
        async with self.sessions() as session:
            count, oldest = (await session.execute(
                select(func.count(), func.min(outbox_table.c.created_at)).where(outbox_table.c.published_at.is_(None))
            )).one()
        OUTBOX_BACKLOG.labels(self.service).set(count)
        OUTBOX_OLDEST_AGE.labels(self.service).set((utcnow() - oldest).total_seconds() if oldest else 0)

    async def _publish(self, rows) -> None:
        spans = [self._span_of(row) for row in rows]
        acks: list[asyncio.Future] = []
        try:
            # Every message sent at once, then every acknowledgement awaited together, each answered on the
            # client's one reply subscription. A request per message (``js.publish`` in a task each, with its
            # future and its timer) was a third of what the notebook's relay spent on an import's events.
            for row, span in zip(rows, spans, strict=True):
                acks.append(await self.js.publish_async(row.subject, row.payload, headers={
                    **row.headers,
                    **telemetry.inject_headers(trace.set_span_in_context(span)),
                    "Nats-Msg-Id": str(row.event_id),
                }))
            await asyncio.wait_for(asyncio.gather(*acks), PUBLISH_TIMEOUT_S)
        except Exception as exc:
            for span in spans:
                span.record_exception(exc)
                span.set_status(trace.StatusCode.ERROR)
            raise
        finally:
            for ack in acks:  # those not answered (a refusal, a timeout, a cancel) leave the client's table
                ack.cancel()  # of pending publishes; cancelling one answered does nothing
            for span in spans:
                span.end()
        if self._after_publish is not None:
            await self._after_publish(len(rows))

    @staticmethod
    def _span_of(row) -> trace.Span:
        return telemetry.tracer().start_span(
            f"{row.subject} publish",
            context=telemetry.extract_context(row.headers),
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation": "publish",
                "messaging.destination.name": row.subject,
                "messaging.message.id": str(row.event_id),
            },
        )

    async def _mark_published(self, session: AsyncSession, rows) -> None:
        # A one-time secret leaves the database once JetStream holds it; other rows stay, marked. Rows are named by
        # their event id, never by ``seq``: on SQLite another replica's relay may have marked these rows first, and
        # once it deleted the last secret, SQLite gives the next row written the same seq (a rowid is reused):
        # marked by seq, a row nobody published would be deleted or marked published, an event lost.
        secrets = [row.event_id for row in rows if is_secret(row.subject)]
        others = [row.event_id for row in rows if not is_secret(row.subject)]
        if secrets:
            await session.execute(delete(outbox_table).where(
                one_of(outbox_table.c.event_id, secrets, sqlite=self.is_sqlite)))
        if others:
            await session.execute(update(outbox_table).where(
                one_of(outbox_table.c.event_id, others, sqlite=self.is_sqlite)).values(published_at=utcnow()))

    async def _measure_quietly(self) -> None:
        # Every commit wakes the relay: a count per round would add a query to every write of the service. The
        # gauges are scraped every few seconds, so once a second is enough.
        if time.monotonic() - self._measured_at < MEASURE_EVERY_S:
            return
        self._measured_at = time.monotonic()
        try:
            await self.measure_backlog()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database is away: the gauges keep their last values
            log.debug("relay_backlog_unmeasured", error=str(exc))

    async def run_forever(self) -> None:
        listener = None if self.is_sqlite else asyncio.create_task(self._listen(), name=f"{self.service}-relay-listen")
        try:
            await self._relay()
        finally:
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
            if self._marking is not None:  # a short transaction: let it end, rather than publish its rows again
                await asyncio.wait([self._marking], timeout=MARK_ON_STOP_S)
                self._marking.cancel()
                await asyncio.gather(self._marking, return_exceptions=True)

    async def _relay(self) -> None:
        failures = 0
        while True:
            # Cleared before the round, not after: a commit while it publishes sets it again, for one more round at
            # once (cleared after, that commit's event waited for the next commit or the poll: the tail of event
            # propagation).
            self.outbox.committed.clear()
            try:
                while True:
                    published, marking = await self._publish_batch()
                    # The mark of the round before, under way while this one published, awaited now: one mark at
                    # most is left behind, and its failure is this round's (retried with backoff).
                    previous, self._marking = self._marking, marking
                    if previous is not None:
                        await previous
                    if published < self.batch_size:
                        break
                failures = 0
                self.rounds += 1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS or the database is away: retry with backoff, rows stay pending
                failures += 1
                log.warning("relay_publish_failed", error=str(exc), attempt=failures)
                await self._measure_quietly()
                await asyncio.sleep(min(0.2 * 2**failures, 10))
                continue
            await self._measure_quietly()
            try:
                await asyncio.wait_for(self.outbox.committed.wait(), timeout=self.poll_interval_s)
            except TimeoutError:
                pass

    async def _listen(self) -> None:
        """PostgreSQL: ``LISTEN`` on a connection of its own, each notification waking the relay; connects again
        after a loss (the poll covers the meantime, and a round follows every new connection)."""
        import asyncpg  # PostgreSQL only: a service on SQLite never loads the driver (3.6 MB, issue 19 item 4)

        url = self.sessions.kw["bind"].url.set(drivername="postgresql")
        failures = 0
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(url.render_as_string(hide_password=False))
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _connection: lost.set())
                await connection.add_listener(WAKE_CHANNEL, self._notified)
                self.listening.set()
                self.outbox.committed.set()  # what was committed while nobody listened
                failures = 0
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: the poll publishes meanwhile
                failures += 1
                log.warning("relay_listen_failed", error=str(exc), attempt=failures)
            finally:
                self.listening.clear()
                if connection is not None:
                    connection.terminate()
            await asyncio.sleep(min(0.2 * 2**failures, 10))

    def _notified(self, _connection, _pid, _channel, sender: str) -> None:
        if sender != self.outbox.token:  # this process's commits woke the relay already
            self.outbox.committed.set()
