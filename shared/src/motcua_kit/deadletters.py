"""Reading and replaying a service's dead-letter topic (behind ``motcua dlq``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from motcua_kit.consumer import DLQ_HEADER_PREFIX
from motcua_kit.events import dead_letter_topic
from motcua_kit.events.base import Envelope
from motcua_kit.kafka import make_producer
from motcua_kit.settings import KafkaSettings


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    @property
    def ref(self) -> str:
        return f"{self.partition}:{self.offset}"

    def header(self, name: str) -> str:
        return next((v.decode(errors="replace") for k, v in self.headers if k == name), "")

    @property
    def event_id(self) -> str:
        return self.header(Envelope.HEADER_PREFIX + "event-id")

    @property
    def event_type(self) -> str:
        return self.header(Envelope.HEADER_PREFIX + "event-type")

    @property
    def original_topic(self) -> str:
        return self.header(DLQ_HEADER_PREFIX + "original-topic")

    def summary(self) -> dict[str, str]:
        return {
            "ref": self.ref,
            "key": self.key,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "consumer": self.header(DLQ_HEADER_PREFIX + "consumer"),
            "original_topic": self.original_topic,
            "attempts": self.header(DLQ_HEADER_PREFIX + "attempts"),
            "error_type": self.header(DLQ_HEADER_PREFIX + "error-type"),
            "error": self.header(DLQ_HEADER_PREFIX + "error"),
            "failed_at": self.header(DLQ_HEADER_PREFIX + "failed-at"),
        }

    def matches(self, selector: str) -> bool:
        return selector in (self.ref, self.event_id)


async def read_dead_letters(kafka: KafkaSettings, service: str, *, idle_seconds: float = 2.0) -> list[DeadLetter]:
    """Reads the whole dead-letter topic, without a consumer group (nothing is committed)."""
    topic = kafka.topic_prefix + dead_letter_topic(service)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        letters: list[DeadLetter] = []
        loop = asyncio.get_running_loop()
        last_seen = loop.time()
        while loop.time() - last_seen < idle_seconds:
            batch = await consumer.getmany(timeout_ms=200)
            for tp, records in batch.items():
                last_seen = loop.time()
                letters.extend(
                    DeadLetter(tp.partition, r.offset, (r.key or b"").decode(), r.value or b"", tuple(r.headers or ()))
                    for r in records
                )
            if await _caught_up(consumer, tps):
                break
        return sorted(letters, key=lambda d: (d.partition, d.offset))
    finally:
        await consumer.stop()


async def _caught_up(consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> bool:
    for tp in tps:
        highwater = consumer.highwater(tp)
        if highwater is None or await consumer.position(tp) < highwater:
            return False
    return True


async def replay(kafka: KafkaSettings, letters: list[DeadLetter], *, producer: AIOKafkaProducer | None = None) -> int:
    """Publishes each letter again to its original topic with its original headers.

    Every consumer group of that topic sees it again; the ones that handled it already
    skip it through their inbox, the one that failed handles it now.
    """
    own = producer is None
    producer = producer or make_producer(kafka, client_id="motcua-dlq-replay")
    if own:
        await producer.start()
    try:
        for letter in letters:
            headers = [(k, v) for k, v in letter.headers if not k.startswith(DLQ_HEADER_PREFIX)]
            headers.append((DLQ_HEADER_PREFIX + "replayed-from", letter.ref.encode()))
            await producer.send_and_wait(letter.original_topic, letter.value, key=letter.key.encode(), headers=headers)
        return len(letters)
    finally:
        if own:
            await producer.stop()
