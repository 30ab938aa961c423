"""Consuming events: thin dispatch, inbox de-duplication, bounded retries, dead letters.

For each message, in partition order:
1. the envelope is read from the headers and the body validated into the shared schema
   (a message that cannot be read is dead-lettered at once: retrying will not help);
2. in one unit of work (one MongoDB transaction) the inbox is checked for (consumer, event id),
   the handler runs with that unit of work (state changes plus outbox events: the use case's own
   ``async with uow`` joins it), and the inbox entry is written; a redelivered event therefore
   changes nothing; a transient conflict runs the whole attempt again;
3. a failing handler is retried with growing delays up to ``max_attempts``, then the
   message goes to ``<service>.deadletter`` with the original headers, the error and
   the attempt count;
4. offsets are committed only after the message was handled or dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord
from asgi_correlation_id import correlation_id
from pydantic import ValidationError
from pymongo import ASCENDING, IndexModel

from motcua_kit import metrics
from motcua_kit.errors import AppError
from motcua_kit.events import dead_letter_topic, event_class
from motcua_kit.events.base import Envelope, Event
from motcua_kit.kafka import make_consumer
from motcua_kit.logs import get_logger
from motcua_kit.mongo import Indexes
from motcua_kit.settings import ConsumerSettings, KafkaSettings
from motcua_kit.uow import INBOX, UnitOfWork, retry_transient

log = get_logger(__name__)

INBOX_INDEXES = (
    Indexes(
        INBOX,
        (
            IndexModel([("consumer", ASCENDING), ("event_id", ASCENDING)], name="consumer_event", unique=True),
            IndexModel([("handled_at", ASCENDING)], name="handled_ttl", expireAfterSeconds=90 * 24 * 3600),
        ),
    ),
)

DLQ_HEADER_PREFIX = "dlq-"

Handler = Callable[[Any, UnitOfWork[Any], Envelope], Awaitable[None]]
"""``async def on_x(event: X, uow: UnitOfWork[Repositories], envelope: Envelope) -> None``: calls one use case."""


def describe_error(exc: BaseException) -> str:
    """An error for logs and dead-letter headers. Validation errors are described without the values
    that failed: those are phone numbers, ID numbers and addresses."""
    if isinstance(exc, ValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False)]
        return f"{exc.error_count()} validation error(s) for {exc.title}: " + "; ".join(parts)
    return repr(exc)


class PermanentError(Exception):
    """Raised by a handler when retrying cannot succeed: the event goes straight to the dead letters."""


class _Unreadable(Exception):
    pass


class _Listener(ConsumerRebalanceListener):
    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        for tp in revoked:
            metrics.forget_lag(self.owner.group_id, tp.topic, tp.partition)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.owner.joined = True
        log.info("partitions assigned", consumer=self.owner.group_id, partitions=sorted(str(tp) for tp in assigned))


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        name: str,
        topics: Sequence[str],
        handlers: Mapping[type[Event], Handler],
        uow: Callable[[], UnitOfWork[Any]],
        kafka: KafkaSettings,
        settings: ConsumerSettings,
        dlq_producer: AIOKafkaProducer,
    ) -> None:
        self.service = service
        self.group_id = f"{service}.{name}"
        self.topics = [kafka.topic_prefix + t for t in topics]
        self.handlers = {(cls.event_type, cls.schema_version): (cls, fn) for cls, fn in handlers.items()}
        self.uow = uow
        self.kafka = kafka
        self.settings = settings
        self.dlq_producer = dlq_producer
        self.dlq_topic = kafka.topic_prefix + dead_letter_topic(service)
        self.joined = False
        self._consumer: AIOKafkaConsumer | None = None

    async def run(self) -> None:
        # The topic prefix also isolates the group (one prefix per test run); logs and metrics keep the plain name.
        kafka_group = self.kafka.topic_prefix + self.group_id
        consumer = make_consumer(self.kafka, group_id=kafka_group, client_id=self.group_id)
        consumer.subscribe(self.topics, listener=_Listener(self))
        self._consumer = consumer
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                if batch:
                    await self._handle_batch(consumer, batch)
                await self._record_lag(consumer)
        finally:
            self.joined = False
            with contextlib.suppress(Exception):
                await consumer.stop()

    async def _handle_batch(
        self, consumer: AIOKafkaConsumer, batch: dict[TopicPartition, list[ConsumerRecord]]
    ) -> None:
        results = await asyncio.gather(*(self._handle_partition(tp, msgs) for tp, msgs in batch.items()))
        offsets = {tp: offset for tp, offset in results if offset is not None}
        if offsets:
            try:
                await consumer.commit(offsets)
            except (CommitFailedError, KafkaError) as exc:  # rebalanced meanwhile: the inbox absorbs the redelivery
                log.warning("offset commit failed", consumer=self.group_id, error=repr(exc))
        for tp, offset in results:
            last = batch[tp][-1].offset + 1
            if offset is None or offset < last:  # stopped early: read again from the first unfinished message
                consumer.seek(tp, offset if offset is not None else batch[tp][0].offset)

    async def _handle_partition(
        self, tp: TopicPartition, messages: list[ConsumerRecord]
    ) -> tuple[TopicPartition, int | None]:
        done: int | None = None
        for msg in messages:
            try:
                await self.handle_message(msg)
            except Exception as exc:  # dead-letter publication failed: do not commit past this message
                log.error(
                    "message left unfinished",
                    consumer=self.group_id,
                    topic=msg.topic,
                    partition=msg.partition,
                    offset=msg.offset,
                    error=repr(exc),
                )
                await asyncio.sleep(self.settings.backoff_max_seconds)
                return tp, done
            done = msg.offset + 1
        return tp, done

    async def handle_message(self, msg: ConsumerRecord) -> str:
        """Handles one record; returns the outcome: handled, duplicate, ignored or dead_lettered."""
        started = time.perf_counter()
        try:
            envelope, event = self._read(msg)
        except _Unreadable as exc:
            await self._dead_letter(msg, "unreadable", str(exc), attempts=1)
            return "dead_lettered"
        if event is None:
            return "ignored"
        token = correlation_id.set(envelope.correlation_id)
        with structlog.contextvars.bound_contextvars(
            consumer=self.group_id, event_id=envelope.event_id, event_type=envelope.event_type, dossier_code=event.key
        ):
            try:
                outcome = await self._handle_with_retries(msg, envelope, event)
            finally:
                correlation_id.reset(token)
        if outcome in ("handled", "duplicate"):
            metrics.record_consumed(self.group_id, envelope.event_type, outcome, time.perf_counter() - started)
        return outcome

    def _read(self, msg: ConsumerRecord) -> tuple[Envelope, Event | None]:
        try:
            envelope = Envelope.from_headers(msg.headers)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError too
            raise _Unreadable(f"bad envelope headers: {exc}") from exc
        entry = self.handlers.get((envelope.event_type, envelope.schema_version))
        if entry is None:
            if event_class(envelope.event_type, envelope.schema_version) is None:
                log.warning(
                    "unknown event type ignored", event_type=envelope.event_type, version=envelope.schema_version
                )
            return envelope, None
        cls, _ = entry
        try:
            return envelope, cls.model_validate_json(msg.value)
        except ValidationError as exc:
            raise _Unreadable(
                f"body does not match {cls.__name__} v{cls.schema_version}: "
                f"{exc.errors(include_url=False, include_input=False)}"
            ) from exc

    async def _handle_with_retries(self, msg: ConsumerRecord, envelope: Envelope, event: Event) -> str:
        _, handler = self.handlers[(envelope.event_type, envelope.schema_version)]
        delay = self.settings.backoff_initial_seconds
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                return await self._handle_once(handler, event, envelope)
            except (PermanentError, AppError, ValidationError) as exc:
                # A model the handler builds from the event fails the same way every time.
                metrics.record_failed(self.group_id, envelope.event_type)
                log.error("handler refused the event", error=describe_error(exc))
                await self._dead_letter(msg, type(exc).__name__, describe_error(exc), attempts=attempt)
                return "dead_lettered"
            except Exception as exc:
                metrics.record_failed(self.group_id, envelope.event_type)
                if attempt == self.settings.max_attempts:
                    log.error("handler failed, dead-lettering", attempts=attempt, error=describe_error(exc))
                    await self._dead_letter(msg, type(exc).__name__, describe_error(exc), attempts=attempt)
                    return "dead_lettered"
                log.warning(
                    "handler failed, retrying", attempt=attempt, retry_in_seconds=delay, error=describe_error(exc)
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.backoff_max_seconds)
        raise AssertionError("unreachable")

    async def _handle_once(self, handler: Handler, event: Event, envelope: Envelope) -> str:
        uow = self.uow()

        async def attempt() -> str:
            async with uow:
                if await uow.inbox.seen(self.group_id, envelope.event_id):
                    return "duplicate"
                await handler(event, uow, envelope)
                await uow.inbox.record(self.group_id, envelope, event.key)
                await uow.commit()
            return "handled"

        return await retry_transient(attempt, uow)

    async def _dead_letter(self, msg: ConsumerRecord, error_type: str, error: str, *, attempts: int) -> None:
        event_type = dict(msg.headers or ()).get(Envelope.HEADER_PREFIX + "event-type", b"?").decode(errors="replace")
        headers = [
            *[(k, v) for k, v in (msg.headers or ()) if not k.startswith(DLQ_HEADER_PREFIX)],
            (DLQ_HEADER_PREFIX + "consumer", self.group_id.encode()),
            (DLQ_HEADER_PREFIX + "original-topic", msg.topic.encode()),
            (DLQ_HEADER_PREFIX + "original-partition", str(msg.partition).encode()),
            (DLQ_HEADER_PREFIX + "original-offset", str(msg.offset).encode()),
            (DLQ_HEADER_PREFIX + "error-type", error_type.encode()),
            (DLQ_HEADER_PREFIX + "error", error[:2000].encode()),
            (DLQ_HEADER_PREFIX + "attempts", str(attempts).encode()),
            (DLQ_HEADER_PREFIX + "failed-at", datetime.now(UTC).isoformat().encode()),
        ]
        await self.dlq_producer.send_and_wait(self.dlq_topic, msg.value, key=msg.key, headers=headers)
        metrics.record_dead_lettered(self.group_id, event_type)
        log.error(
            "event dead-lettered",
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            error_type=error_type,
            attempts=attempts,
        )

    async def _record_lag(self, consumer: AIOKafkaConsumer) -> None:
        # The high-water mark comes from the last fetch response (the local broker's
        # ListOffsets answer is wrong, so end_offsets() is not used). A partition with a
        # high-water mark has been fetched, so its position is known without a request.
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            with contextlib.suppress(KafkaError, AssertionError):
                position = await consumer.position(tp)
                metrics.record_lag(self.group_id, tp.topic, tp.partition, max(0, highwater - position))
