"""Kafka plumbing: explicit topic creation, producer and consumer factories."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from motcua_kit.events.topics import TOPICS, TopicSpec
from motcua_kit.logs import get_logger
from motcua_kit.settings import KafkaSettings

log = get_logger(__name__)


async def ensure_topics(settings: KafkaSettings, topics: Iterable[TopicSpec] = TOPICS, *, client_id: str) -> None:
    """Creates the topics that are missing, each with its fixed partition count.

    Never rely on broker auto-creation: it picks its own partition count.
    """
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=client_id,
        request_timeout_ms=settings.request_timeout_ms,
    )
    await admin.start()
    try:
        wanted = {settings.topic_prefix + t.name: t.partitions for t in topics}
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(name, num_partitions=wanted[name], replication_factor=1) for name in missing]
                )
            except TopicAlreadyExistsError:
                pass  # another service created it at the same moment
            log.info("topics created", topics=missing)
        described = await admin.describe_topics(list(wanted))
        counts = {d["topic"]: len(d["partitions"]) for d in described}
        for name, partitions in wanted.items():
            if counts.get(name) != partitions:
                log.warning("topic partition count differs", topic=name, expected=partitions, actual=counts.get(name))
    finally:
        await admin.close()


def make_producer(settings: KafkaSettings, *, client_id: str) -> AIOKafkaProducer:
    # No idempotent producer: the local broker refuses InitProducerId. Ordering per key is
    # kept by the relay sending one event of a key at a time; duplicates are removed by the
    # consumers' inbox.
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        request_timeout_ms=settings.request_timeout_ms,
        linger_ms=0,
    )


def make_consumer(settings: KafkaSettings, *, group_id: str, client_id: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        max_poll_records=settings.max_poll_records,
        request_timeout_ms=max(settings.request_timeout_ms, settings.session_timeout_ms + 5_000),
    )


async def wait_for_broker(settings: KafkaSettings, *, client_id: str, timeout: float = 60.0) -> None:
    """Start-up helper: waits until the broker answers metadata requests."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id=client_id)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
