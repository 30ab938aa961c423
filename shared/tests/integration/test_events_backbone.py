"""The backbone against the real local broker and database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY

from motcua_devstack.testing import LocalStack, consumers_joined, eventually
from motcua_kit.deadletters import read_dead_letters, replay
from motcua_kit.events import CaseOpened, Envelope
from motcua_kit.events.processing import CaseStep
from motcua_kit.events.topics import PROCESSING_CASES
from motcua_kit.mongo import Document
from motcua_kit.outbox import OUTBOX
from motcua_kit.runtime import ConsumerSpec, ServiceRuntime
from motcua_kit.settings import ServiceSettings, service_config
from motcua_kit.uow import UnitOfWork

pytestmark = pytest.mark.integration

SERVICE = "processing"  # the dead-letter topic belongs to a real service
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class KitSettings(ServiceSettings):
    model_config = service_config("KITTEST_")
    port: int = 0


def case_opened(code: str, n: int = 0) -> CaseOpened:
    return CaseOpened(
        dossier_code=code, steps=[CaseStep(position=n, agency_code="000.00.11.H56", due_at=NOW)], deadline_at=NOW
    )


class Seen:
    """The test's one repository: what the handler saw."""

    def __init__(self, db: Any, session: Any) -> None:
        self.collection, self.session = db.seen, session

    async def add(self, doc: Document) -> None:
        await self.collection.insert_one(doc, session=self.session)


class Recorder:
    """A handler that writes what it saw into the database, inside the handler's transaction."""

    def __init__(self) -> None:
        self.fail_codes: set[str] = set()
        self.calls = 0

    async def __call__(self, event: CaseOpened, uow: UnitOfWork[Seen], envelope: Envelope) -> None:
        self.calls += 1
        if event.dossier_code in self.fail_codes:
            raise RuntimeError(f"cannot handle {event.dossier_code}")
        async with uow:
            await uow.repos.add(
                {
                    "code": event.dossier_code,
                    "n": event.steps[0].position,
                    "event_id": envelope.event_id,
                    "correlation_id": envelope.correlation_id,
                }
            )
            await uow.commit()


@pytest.fixture
def settings(service_env: Callable[..., str]) -> KitSettings:
    service_env("KITTEST_", CONSUMER__MAX_ATTEMPTS=3, KAFKA__REQUEST_TIMEOUT_MS=2000)
    return KitSettings()


def runtime(settings: KitSettings, recorder: Recorder, name: str = "recorder") -> ServiceRuntime[Seen]:
    return ServiceRuntime(
        service=SERVICE,
        settings=settings,
        repositories=Seen,
        consumers=[ConsumerSpec(name, [PROCESSING_CASES], {CaseOpened: recorder})],
    )


@pytest.fixture
async def rt(settings: KitSettings, unique_name: str) -> AsyncIterator[tuple[ServiceRuntime[Seen], Recorder]]:
    recorder = Recorder()
    async with runtime(settings, recorder, f"recorder-{unique_name}") as started:
        await eventually(lambda: consumers_joined(started), message="consumer joined")
        yield started, recorder


async def publish(rt: ServiceRuntime[Seen], *events: CaseOpened) -> None:
    async with rt.uow() as uow:
        uow.publish(*events)
        await uow.commit()


async def seen(rt: ServiceRuntime[Seen], **query: Any) -> list[dict[str, Any]]:
    return await rt.db.seen.find(query).sort("n", 1).to_list(None)


def consumed(group: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "motcua_events_consumed_total", {"consumer": group, "event_type": "CaseOpened", "outcome": outcome}
        )
        or 0.0
    )


async def raw_records(stack: LocalStack, topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        for _ in range(10):
            batch = await consumer.getmany(timeout_ms=300)
            for recs in batch.values():
                records.extend(recs)
        return records
    finally:
        await consumer.stop()


async def test_event_is_published_with_envelope_in_headers_and_dossier_key(
    rt: tuple[ServiceRuntime[Seen], Recorder], local_stack: LocalStack, settings: KitSettings
) -> None:
    runtime_, _ = rt
    await publish(runtime_, case_opened("000.00.06.H56-261123-0001"))
    await eventually(lambda: seen(runtime_), message="event handled")
    records = await raw_records(local_stack, settings.kafka.topic_prefix + PROCESSING_CASES)
    assert len(records) == 1
    record = records[0]
    assert record.key == b"000.00.06.H56-261123-0001"
    envelope = Envelope.from_headers(record.headers)
    assert envelope.event_type == "CaseOpened" and envelope.schema_version == 1 and envelope.producer == SERVICE
    assert CaseOpened.model_validate_json(record.value).dossier_code == "000.00.06.H56-261123-0001"
    assert await runtime_.db[OUTBOX].count_documents({"sent": False}) == 0


async def test_redelivered_event_changes_nothing(
    rt: tuple[ServiceRuntime[Seen], Recorder], local_stack: LocalStack, settings: KitSettings
) -> None:
    runtime_, _ = rt
    group = runtime_.event_consumers[0].group_id
    code = "000.00.06.H56-261123-0002"
    await publish(runtime_, case_opened(code))
    await eventually(lambda: seen(runtime_, code=code), message="first delivery handled")
    # Deliver the very same record again, as a broker or a replaying relay would.
    topic = settings.kafka.topic_prefix + PROCESSING_CASES
    original = (await raw_records(local_stack, topic))[0]
    producer = AIOKafkaProducer(bootstrap_servers=local_stack.bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(topic, original.value, key=original.key, headers=list(original.headers))
    finally:
        await producer.stop()
    await eventually(lambda: _gt(consumed(group, "duplicate"), 0), message="redelivery seen as duplicate")
    assert len(await seen(runtime_, code=code)) == 1
    assert consumed(group, "handled") == 1


async def _gt(value: float, floor: float) -> bool:
    return value > floor


async def test_poison_event_is_dead_lettered_and_consumer_goes_on(
    rt: tuple[ServiceRuntime[Seen], Recorder], local_stack: LocalStack, settings: KitSettings
) -> None:
    runtime_, recorder = rt
    group = runtime_.event_consumers[0].group_id
    topic = settings.kafka.topic_prefix + PROCESSING_CASES
    recorder.fail_codes.add("000.00.06.H56-261123-0666")
    # 1. a handler that always fails, 2. a body that does not match the schema, 3. a good event after both.
    await publish(runtime_, case_opened("000.00.06.H56-261123-0666"))
    producer = AIOKafkaProducer(bootstrap_servers=local_stack.bootstrap, enable_idempotence=False)
    await producer.start()
    bad = Envelope(event_type="CaseOpened", schema_version=1, correlation_id="c-bad", producer="processing")
    try:
        await producer.send_and_wait(
            topic,
            b'{"dossier_code": "000.00.06.H56-261123-0667", "steps": "oops"}',
            key=b"000.00.06.H56-261123-0667",
            headers=bad.to_headers(),
        )
    finally:
        await producer.stop()
    await publish(runtime_, case_opened("000.00.06.H56-261123-0668"))
    await eventually(lambda: seen(runtime_, code="000.00.06.H56-261123-0668"), message="good event after poison")

    async def our_letters() -> list[Any]:
        letters = [
            d
            for d in await read_dead_letters(settings.kafka, SERVICE, idle_seconds=0.5)
            if d.summary()["consumer"] == group
        ]
        return letters if len(letters) >= 2 else []

    letters = await eventually(our_letters, message="two dead letters")
    by_key = {d.key: d.summary() for d in letters}
    assert set(by_key) == {"000.00.06.H56-261123-0666", "000.00.06.H56-261123-0667"}
    failing = by_key["000.00.06.H56-261123-0666"]
    assert failing["attempts"] == "3" and failing["error_type"] == "RuntimeError"
    assert "cannot handle" in failing["error"] and failing["original_topic"] == topic
    unreadable = by_key["000.00.06.H56-261123-0667"]
    assert unreadable["attempts"] == "1" and unreadable["error_type"] == "unreadable"
    assert "steps" in unreadable["error"]
    assert recorder.calls >= 4  # three attempts of the failing one, one good
    listed = await motcua_cli(
        "dlq",
        "list",
        "--service",
        SERVICE,
        "--bootstrap",
        local_stack.bootstrap,
        "--topic-prefix",
        settings.kafka.topic_prefix,
    )
    assert "000.00.06.H56-261123-0666" in listed and "attempts=3" in listed and "RuntimeError" in listed
    shown = await motcua_cli(
        "dlq",
        "show",
        by_key["000.00.06.H56-261123-0667"]["ref"],
        "--service",
        SERVICE,
        "--bootstrap",
        local_stack.bootstrap,
        "--topic-prefix",
        settings.kafka.topic_prefix,
    )
    assert '"error_type": "unreadable"' in shown and '"steps": "oops"' in shown
    # Once the cause is fixed, a replay is handled; the good event is not handled twice.
    recorder.fail_codes.clear()
    failing_letter = next(d for d in letters if d.key == "000.00.06.H56-261123-0666")
    assert failing_letter.event_id  # original headers travel with the letter
    assert await replay(settings.kafka, [failing_letter]) == 1
    await eventually(lambda: seen(runtime_, code="000.00.06.H56-261123-0666"), message="replayed event handled")
    assert len(await seen(runtime_, code="000.00.06.H56-261123-0668")) == 1


async def motcua_cli(*args: str) -> str:
    """Runs the real ``motcua`` command, as an operator would."""
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "motcua"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    return out.decode()


async def test_relay_catches_up_after_broker_pause_without_loss_or_reordering(
    rt: tuple[ServiceRuntime[Seen], Recorder], local_stack: LocalStack
) -> None:
    runtime_, _ = rt
    codes = [f"000.00.06.H56-261123-09{i:02d}" for i in range(3)]
    await publish(runtime_, case_opened(codes[0], 0))
    await eventually(lambda: seen(runtime_, code=codes[0]), message="warm-up event")
    local_stack.kafka.pause()
    try:
        for n in range(1, 11):  # ten transactions while the broker is frozen, three dossiers each
            await publish(runtime_, *(case_opened(code, n) for code in codes))
        await eventually(lambda: _backlog_at_least(runtime_, 25), timeout=10, message="outbox holds events")
    finally:
        local_stack.kafka.resume()
    for code in codes:
        await eventually(
            lambda c=code: _count(runtime_, c, 11 if c == codes[0] else 10),
            timeout=60,
            message=f"all events of {code} after resume",
        )
        order = [d["n"] for d in await runtime_.db.seen.find({"code": code}).sort("_id", 1).to_list(None)]
        expected = list(range(0, 11)) if code == codes[0] else list(range(1, 11))
        assert order == expected, f"{code} handled out of order: {order}"
    assert await runtime_.db[OUTBOX].count_documents({"sent": False}) == 0


async def _backlog_at_least(rt: ServiceRuntime[Seen], n: int) -> bool:
    return await rt.db[OUTBOX].count_documents({"sent": False}) >= n


async def _count(rt: ServiceRuntime[Seen], code: str, n: int) -> bool:
    return await rt.db.seen.count_documents({"code": code}) == n


async def test_restarted_consumer_resumes_from_committed_offset(settings: KitSettings, unique_name: str) -> None:
    first, second = Recorder(), Recorder()
    async with runtime(settings, first, f"resume-{unique_name}") as rt1:
        await eventually(lambda: consumers_joined(rt1), message="first consumer joined")
        group = rt1.event_consumers[0].group_id
        await publish(rt1, *(case_opened(f"000.00.06.H56-261123-10{i:02d}", i) for i in range(5)))
        await eventually(lambda: _total(rt1, 5), message="first five handled")
    handled_before = consumed(group, "handled")
    duplicates_before = consumed(group, "duplicate")
    async with runtime(settings, second, f"resume-{unique_name}") as rt2:
        await publish(rt2, *(case_opened(f"000.00.06.H56-261123-10{i:02d}", i) for i in range(5, 8)))
        await eventually(lambda: _total(rt2, 8), message="next three handled")
        await asyncio.sleep(0)  # let the metric land
    assert second.calls == 3, "the restarted consumer must not read the committed events again"
    assert consumed(group, "handled") - handled_before == 3
    assert consumed(group, "duplicate") == duplicates_before


async def _total(rt: ServiceRuntime[Seen], n: int) -> bool:
    return await rt.db.seen.count_documents({}) == n
