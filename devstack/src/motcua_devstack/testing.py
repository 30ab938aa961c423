"""Pytest plugin shared by every test tier: real local servers, started once per test session.

Enable with ``pytest_plugins = ["motcua_devstack.testing"]`` in a ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from motcua_devstack import servers

T = TypeVar("T")


@dataclass
class LocalStack:
    kafka: servers.LocalServer
    mongo: servers.LocalServer
    keys_dir: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka.port}"

    @property
    def mongo_url(self) -> str:
        return servers.mongo_url(self.mongo.port)

    def env(self, prefix: str, database: str, topic_prefix: str = "", **extra: Any) -> dict[str, str]:
        """Environment variables for one service against this stack, with test-friendly timings."""
        env = {
            f"{prefix}KAFKA__TOPIC_PREFIX": topic_prefix,
            f"{prefix}MONGO__URL": self.mongo_url,
            f"{prefix}MONGO__DATABASE": database,
            f"{prefix}KAFKA__BOOTSTRAP_SERVERS": self.bootstrap,
            # The local broker answers JoinGroup after session_timeout/2: keep it short in tests.
            f"{prefix}KAFKA__SESSION_TIMEOUT_MS": "2000",
            f"{prefix}KAFKA__HEARTBEAT_INTERVAL_MS": "300",
            f"{prefix}AUTH__JWKS_FILE": str(self.keys_dir / "jwks.json"),
            f"{prefix}AUTH__ISSUER": "motcua-local",
            f"{prefix}CONSUMER__BACKOFF_INITIAL_SECONDS": "0.05",
            f"{prefix}CONSUMER__BACKOFF_MAX_SECONDS": "0.2",
            f"{prefix}RELAY__IDLE_POLL_SECONDS": "0.05",
            f"{prefix}RELAY__BACKOFF_MAX_SECONDS": "0.5",
        }
        env.update({f"{prefix}{k.upper()}": str(v) for k, v in extra.items()})
        return env


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Fresh Tansu and SecantusDB for each test module (they start in under a second).

    One pair for a whole session slows down as it goes: the broker's group joins grow slow with
    thousands of per-test topics, and SecantusDB's writes slow as they accumulate.
    """
    from motcua_kit.auth import create_dev_keys

    root = tmp_path_factory.mktemp("local-stack")
    kafka = servers.tansu(servers.free_port(), root / "tansu.log")
    mongo = servers.secantus(servers.free_port(), root / "mongo", root / "secantus.log")
    kafka.start()
    mongo.start()
    try:
        servers.wait_for_mongo(servers.mongo_url(mongo.port))
        keys = root / "keys"
        create_dev_keys(keys)
        yield LocalStack(kafka=kafka, mongo=mongo, keys_dir=keys)
    finally:
        kafka.stop()
        mongo.stop()


@pytest.fixture
def unique_name() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def service_env(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, unique_name: str) -> Callable[..., str]:
    """Points a service's settings at the local stack with a fresh database; returns the database name."""

    def apply(prefix: str, **extra: Any) -> str:
        database = f"{prefix.lower().strip('_')}_{unique_name}"
        for key, value in local_stack.env(prefix, database, f"t{unique_name}.", **extra).items():
            monkeypatch.setenv(key, value)
        return database

    return apply


async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    timeout: float = 20.0,
    interval: float = 0.1,
    message: str = "condition not met",
) -> T:
    """Polls ``check`` until it returns a truthy value, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{message} within {timeout} s (last value: {last!r})")


def ci() -> bool:
    return os.environ.get("CI") == "true"


async def consumers_joined(rt: Any) -> bool:
    """Whether every consumer of a started ``ServiceRuntime`` has joined its group."""
    return all(c.joined for c in rt.event_consumers)


@asynccontextmanager
async def running_app(app: Any, base_url: str = "http://test") -> AsyncIterator[httpx.AsyncClient]:
    """Runs a service app's lifespan (its runtime, relay and consumers), waits until its consumers
    have joined their groups, and yields an HTTP client to it."""
    async with app.router.lifespan_context(app):
        await eventually(lambda: consumers_joined(app.state.rt), message="consumers joined their groups")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30) as client:
            yield client


async def read_topic(bootstrap: str, topic: str, *, idle_seconds: float = 1.0) -> list[Any]:
    """Every record of a topic so far, read without a consumer group."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        loop = asyncio.get_running_loop()
        last = loop.time()
        while loop.time() - last < idle_seconds:
            batch = await consumer.getmany(timeout_ms=100)
            for recs in batch.values():
                records.extend(recs)
                last = loop.time()
        return records
    finally:
        await consumer.stop()


def token(stack: LocalStack, role: str, scope: str, subject: str | None = None) -> dict[str, str]:
    """An Authorization header for a staff member, signed with the stack's local key."""
    from motcua_kit.auth import Role, mint_token

    return {"Authorization": "Bearer " + mint_token(stack.keys_dir, role=Role(role), scope=scope, subject=subject)}


def seed_catalogue() -> dict[str, Any]:
    import json
    from importlib.resources import files

    return json.loads(files("motcua_devstack").joinpath("seed/demo_province.json").read_text(encoding="utf-8"))


async def produce_event(bootstrap: str, topic_prefix: str, event: Any, envelope: Any = None) -> Any:
    """Publishes one event as the producing service's relay would (envelope in headers, dossier key).

    Returns the envelope, so a test can publish the same record again to simulate redelivery.
    """
    from aiokafka import AIOKafkaProducer

    from motcua_kit.events import Envelope

    envelope = envelope or Envelope(
        event_type=event.event_type,
        schema_version=event.schema_version,
        correlation_id=uuid.uuid4().hex,
        producer="test",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topic_prefix + event.topic,
            event.model_dump_json().encode(),
            key=event.key.encode(),
            headers=envelope.to_headers(),
        )
    finally:
        await producer.stop()
    return envelope


def sample_dossier_received(**overrides: Any) -> Any:
    """A realistic DossierReceived: a two-agency land procedure, returned by post, SMS and e-mail."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from motcua_kit.events import DossierReceived

    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    data: dict[str, Any] = {
        "dossier_code": f"000.00.06.H56-261123-{uuid.uuid4().int % 9000 + 1000:04d}",
        "centre_code": "000.00.06.H56",
        "centre_name": "Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa",
        "procedure": {
            "code": "1.012753.000.00.00.H56",
            "name": "Đăng ký đất đai, tài sản gắn liền với đất",
            "field": "Đất đai",
            "version": 1,
        },
        "competent_agency": "000.00.13.H56",
        "agency_chain": [
            {"agency_code": "000.00.13.H56", "share": 0.75},
            {"agency_code": "000.00.45.H56", "share": 0.25},
        ],
        "intake_channel": 1,
        "return_channel": "post",
        "notify_channels": ["sms", "email"],
        "applicant": {
            "full_name": "Nguyễn Thị Hoa",
            "id_number": "056190001234",
            "phone": "0905123456",
            "email": "hoa.nguyen@example.vn",
            "address": "12 Trần Phú, phường Nha Trang, tỉnh Khánh Hòa",
        },
        "delivery_address": "12 Trần Phú, phường Nha Trang, tỉnh Khánh Hòa",
        "received_at": datetime(2026, 11, 23, 9, 32, tzinfo=vn),
        "clock_started_at": datetime(2026, 11, 23, 9, 32, tzinfo=vn),
        "appointment_at": datetime(2026, 12, 21, 9, 32, tzinfo=vn),
        "limit_working_hours": 160,
        "lookup_url": "http://127.0.0.1:8001/lookup?code=000.00.06.H56-261123-0001",
        "received_by": "officer-1",
    }
    data.update(overrides)
    return DossierReceived.model_validate(data)
