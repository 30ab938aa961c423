"""Shared fixtures and helpers of notify's integration tests: real broker, database and stand-ins."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Self
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from fastapi import FastAPI
from prometheus_client import REGISTRY
from pymongo.asynchronous.database import AsyncDatabase

from motcua_devstack.standins import StandinsConfig, open_standins
from motcua_devstack.standins.runner import RunningStandins
from motcua_devstack.testing import LocalStack, consumers_joined, eventually
from motcua_kit.events import DossierEvent, Envelope
from motcua_kit.events.topics import NOTIFY_NOTIFICATIONS
from motcua_kit.mongo import Document, connect, ensure_indexes
from motcua_kit.outbox import OUTBOX_INDEXES
from motcua_kit.uow import MongoUnitOfWork
from notify import store
from notify.clients.email import SmtpEmailClient
from notify.clients.sms import SmsGatewayClient
from notify.main import create_app
from notify.service.recording import RecordNotifications, record_notifications
from notify.service.sending import Senders, deliver
from notify.settings import NotifySettings

CODE = "000.00.06.H56-261123-0001"


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
async def standins() -> AsyncIterator[RunningStandins]:
    config = StandinsConfig(sms_port=0, carrier_port=0, smtp_port=0, mailbox_http_port=0)
    async with open_standins(config) as running:
        yield running


@pytest.fixture
def settings_with(service_env: Callable[..., str], standins: RunningStandins) -> Callable[..., NotifySettings]:
    """Notify's settings against the stand-ins; keyword arguments add or replace NOTIFY_ settings."""
    return lambda **extra: _settings(service_env, standins, **extra)


@pytest.fixture
def settings(settings_with: Callable[..., NotifySettings]) -> NotifySettings:
    return settings_with()


def _settings(service_env: Callable[..., str], standins: RunningStandins, **extra: Any) -> NotifySettings:
    defaults: dict[str, Any] = {
        "SMS__URL": standins.sms.url,
        "SMTP__PORT": standins.smtp_port,
        "SENDER_POLL_SECONDS": 0.05,
        "SEND_BACKOFF_INITIAL_SECONDS": 0.05,
        "SEND_BACKOFF_MAX_SECONDS": 0.2,
        "SEND_MAX_ATTEMPTS": 5,
        # Tests run at any hour: quiet hours are switched on only by the test about them.
        "QUIET_HOURS__ENABLED": "false",
    }
    service_env("NOTIFY_", **(defaults | extra))
    return NotifySettings()  # type: ignore[call-arg]


@asynccontextmanager
async def running(settings: NotifySettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await eventually(lambda: consumers_joined(app.state.rt), message="notify consumer joined")
        yield app


@pytest.fixture
async def app(settings: NotifySettings) -> AsyncIterator[FastAPI]:
    async with running(settings) as started:
        yield started


# --- helpers -------------------------------------------------------------------------------------


def envelope_for(event: DossierEvent) -> Envelope:
    return Envelope(
        event_type=event.event_type,
        schema_version=event.schema_version,
        correlation_id=uuid.uuid4().hex,
        producer=event.topic.split(".")[0],
    )


async def produce(stack: LocalStack, settings: NotifySettings, event: DossierEvent, envelope: Envelope) -> None:
    """Puts the event on its producer's topic exactly as the producer's relay does (same bytes for a redelivery)."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.kafka.topic_prefix + event.topic,
            event.model_dump_json().encode(),
            key=event.key.encode(),
            headers=envelope.to_headers(),
        )
    finally:
        await producer.stop()


class TopicReader:
    """Reads a topic from the beginning, keeping every record seen so far."""

    def __init__(self, stack: LocalStack, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, group_id=None, enable_auto_commit=False)
        self.topic = topic
        self.records: list[ConsumerRecord] = []

    async def __aenter__(self) -> Self:
        await self.consumer.start()
        tps = [TopicPartition(self.topic, p) for p in self.consumer.partitions_for_topic(self.topic) or ()]
        assert tps, f"topic {self.topic} does not exist"
        self.consumer.assign(tps)
        await self.consumer.seek_to_beginning(*tps)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def read(self) -> list[ConsumerRecord]:
        batch = await self.consumer.getmany(timeout_ms=100)
        for records in batch.values():
            self.records.extend(records)
        return self.records

    async def at_least(self, n: int) -> list[ConsumerRecord]:
        records = await self.read()
        return records if len(records) >= n else []


def notifications_topic(settings: NotifySettings) -> str:
    return settings.kafka.topic_prefix + NOTIFY_NOTIFICATIONS


async def sms_at_gateway(standins: RunningStandins, **query: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=standins.sms.url) as client:
        response = await client.get("/_control/messages", params=query)
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()
        return messages


async def mails_at_mailbox(standins: RunningStandins, to: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=standins.mailbox_http.url) as client:
        response = await client.get("/_control/mails", params={"to": to})
        response.raise_for_status()
        mails: list[dict[str, Any]] = response.json()
        return mails


async def inject_gateway_faults(standins: RunningStandins, mode: str, count: int) -> None:
    async with httpx.AsyncClient(base_url=standins.sms.url) as client:
        response = await client.post("/_control/faults", json={"mode": mode, "count": count})
        response.raise_for_status()


def db_of(app: FastAPI) -> AsyncDatabase[Document]:
    db: AsyncDatabase[Document] = app.state.rt.db
    return db


async def notifications(app_or_db: FastAPI | AsyncDatabase[Document], code: str = CODE) -> list[Document]:
    db = db_of(app_or_db) if isinstance(app_or_db, FastAPI) else app_or_db
    return await store.Repositories(db, None).notifications.documents_for_dossier(code)


async def settled(app: FastAPI, n: int, code: str = CODE) -> list[Document]:
    """The dossier's notifications once there are ``n`` and none is waiting or in flight."""
    docs = await notifications(app, code)
    done = len(docs) == n and all(d["status"] not in ("pending", "sending") for d in docs)
    return docs if done else []


def consumed(outcome: str, event_type: str = "DossierReceived") -> float:
    labels = {"consumer": "notify.dossiers", "event_type": event_type, "outcome": outcome}
    return REGISTRY.get_sample_value("motcua_events_consumed_total", labels) or 0.0


async def above(read: Callable[[], float], floor: float) -> bool:
    return read() > floor


# --- a sender that dies ----------------------------------------------------------------------------


@asynccontextmanager
async def bare_unit_of_work(
    settings: NotifySettings,
) -> AsyncIterator[tuple[AsyncDatabase[Document], MongoUnitOfWork[store.Repositories]]]:
    """Notify's database without the service running: what a process that is about to die had."""
    client = connect(settings.mongo)
    try:
        db = client[settings.mongo.database]
        await ensure_indexes(db, [*OUTBOX_INDEXES, *store.INDEXES])
        yield db, MongoUnitOfWork(client, db, store.Repositories, producer="notify")
    finally:
        await client.close()


async def record_and_die(settings: NotifySettings, event: DossierEvent, envelope: Envelope) -> int:
    """Records what ``event`` owes and dies before sending any of it; returns how many were recorded."""
    async with bare_unit_of_work(settings) as (_, uow):
        return await record_notifications(RecordNotifications.of(event, envelope, ZoneInfo("Asia/Ho_Chi_Minh")), uow)


async def send_and_die(settings: NotifySettings, event: DossierEvent, envelope: Envelope) -> str:
    """Records the one message ``event`` owes, claims it, hands it to the provider and dies before
    marking it sent; returns the provider's reference."""
    async with bare_unit_of_work(settings) as (_, uow):
        tz = ZoneInfo("Asia/Ho_Chi_Minh")
        assert await record_notifications(RecordNotifications.of(event, envelope, tz), uow) == 1
        lease = timedelta(seconds=settings.sending_lease_seconds)
        claimed = await uow.repos.notifications.claim_due(datetime.now(UTC), lease)
        assert claimed is not None
        sms = SmsGatewayClient(settings.sms)
        try:
            reference = await deliver(claimed, Senders(sms=sms, email=SmtpEmailClient(settings.smtp)))
        finally:
            await sms.aclose()
        [stuck] = await uow.repos.notifications.documents_for_dossier(event.dossier_code)
        assert stuck["status"] == "sending" and stuck["attempts"] == 1
        return reference
