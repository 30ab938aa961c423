"""Notify against the real local broker, database, SMS gateway stand-in and SMTP mailbox."""

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
from motcua_kit.auth import Role, mint_token
from motcua_kit.events import DossierReceived, Envelope, NotificationSent
from motcua_kit.events.topics import NOTIFY_NOTIFICATIONS
from motcua_kit.mongo import Document, connect, ensure_indexes
from motcua_kit.outbox import OUTBOX, OUTBOX_INDEXES, UnitOfWork
from notify import service, store
from notify.clients.email import SmtpEmailClient
from notify.clients.sms import SmsGatewayClient
from notify.main import create_app
from notify.settings import NotifySettings

pytestmark = pytest.mark.integration

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = "000.00.06.H56-261123-0001"
MakeEvent = Callable[..., DossierReceived]


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
async def standins() -> AsyncIterator[RunningStandins]:
    config = StandinsConfig(sms_port=0, carrier_port=0, smtp_port=0, mailbox_http_port=0)
    async with open_standins(config) as running:
        yield running


@pytest.fixture
def settings(service_env: Callable[..., str], standins: RunningStandins) -> NotifySettings:
    service_env(
        "NOTIFY_",
        SMS__URL=standins.sms.url,
        SMTP__PORT=standins.smtp_port,
        SENDER_POLL_SECONDS=0.05,
        SEND_BACKOFF_INITIAL_SECONDS=0.05,
        SEND_BACKOFF_MAX_SECONDS=0.2,
        SEND_MAX_ATTEMPTS=5,
    )
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


def envelope_for(event: DossierReceived) -> Envelope:
    return Envelope(
        event_type=event.event_type,
        schema_version=event.schema_version,
        correlation_id=uuid.uuid4().hex,
        producer="reception",
    )


async def produce(stack: LocalStack, settings: NotifySettings, event: DossierReceived, envelope: Envelope) -> None:
    """Puts the event on reception's topic exactly as reception's relay does (same bytes for a redelivery)."""
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
    return await service.dossier_notifications(db, code)


async def settled(app: FastAPI, n: int, code: str = CODE) -> list[Document]:
    """The dossier's notifications once there are ``n`` and none is waiting or in flight."""
    docs = await notifications(app, code)
    done = len(docs) == n and all(d["status"] not in ("pending", "sending") for d in docs)
    return docs if done else []


def consumed(outcome: str) -> float:
    labels = {"consumer": "notify.dossiers", "event_type": "DossierReceived", "outcome": outcome}
    return REGISTRY.get_sample_value("motcua_events_consumed_total", labels) or 0.0


async def _above(read: Callable[[], float], floor: float) -> bool:
    return read() > floor


# --- tests ---------------------------------------------------------------------------------------


async def test_received_dossier_gets_one_sms_and_one_mail_and_a_sent_event_per_channel(
    app: FastAPI, settings: NotifySettings, standins: RunningStandins, local_stack: LocalStack, received: MakeEvent
) -> None:
    event = received(CODE)
    envelope = envelope_for(event)
    await produce(local_stack, settings, event, envelope)

    docs = await eventually(lambda: settled(app, 2), message="both notifications sent")
    assert {d["channel"]: d["status"] for d in docs} == {"sms": "sent", "email": "sent"}
    assert all(d["attempts"] == 1 and d["trigger_event_id"] == envelope.event_id for d in docs)
    sms_doc = next(d for d in docs if d["channel"] == "sms")
    mail_doc = next(d for d in docs if d["channel"] == "email")

    [sms] = await sms_at_gateway(standins, phone="0912345678")
    assert sms["text"] == (
        "Ho so 000.00.06.H56-261123-0001 da duoc tiep nhan. Ngay hen tra: 01/12/2026. "
        "Tra cuu: https://dichvucong.khanhhoa.gov.vn/tra-cuu"
    )
    assert sms["segments"] == 1 and sms["sender"] == "MOTCUA"
    assert sms["client_ref"] == sms_doc["_id"] and sms["message_id"] == sms_doc["provider_reference"]

    [mail] = await mails_at_mailbox(standins, "dao.nguyen@example.vn")
    assert mail["subject"] == "Hồ sơ 000.00.06.H56-261123-0001 đã được tiếp nhận"
    assert mail["message_id"] == f"<{mail_doc['_id']}@motcua>" == mail_doc["provider_reference"]
    assert mail["mail_from"] == "no-reply@motcua.local"
    assert "Kính gửi Nguyễn Thị Đào" in mail["text"] and "00:30 ngày 01/12/2026" in mail["text"]
    assert (
        "Kính gửi Nguyễn Thị Đào" in mail["html"]
        and 'href="https://dichvucong.khanhhoa.gov.vn/tra-cuu"' in mail["html"]
    )

    async with TopicReader(local_stack, notifications_topic(settings)) as reader:
        records = await eventually(lambda: reader.at_least(2), message="two NotificationSent events")
    assert len(records) == 2
    sent = [NotificationSent.model_validate_json(r.value) for r in records]
    assert {(e.channel, e.notification_id) for e in sent} == {("sms", sms_doc["_id"]), ("email", mail_doc["_id"])}
    assert all(
        r.key == CODE.encode() and Envelope.from_headers(r.headers).event_type == "NotificationSent" for r in records
    )
    assert all(e.trigger_event_type == "DossierReceived" and e.provider_reference for e in sent)


async def test_staff_view_masks_recipients_and_leaves_out_bodies(
    app: FastAPI, settings: NotifySettings, local_stack: LocalStack, received: MakeEvent
) -> None:
    await produce(local_stack, settings, received(CODE), envelope_for(received(CODE)))
    await eventually(lambda: settled(app, 2), message="both notifications sent")
    officer = mint_token(local_stack.keys_dir, role=Role.COUNTER_OFFICER, scope="000.00.06.H56")
    agency = mint_token(local_stack.keys_dir, role=Role.AGENCY_OFFICER, scope="000.00.11.H56")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notify") as client:
        anonymous = await client.get(f"/dossiers/{CODE}/notifications")
        forbidden = await client.get(f"/dossiers/{CODE}/notifications", headers={"Authorization": f"Bearer {agency}"})
        response = await client.get(f"/dossiers/{CODE}/notifications", headers={"Authorization": f"Bearer {officer}"})
    assert anonymous.status_code == 401 and forbidden.status_code == 403
    assert response.status_code == 200
    views = {v["channel"]: v for v in response.json()}
    assert views["sms"]["recipient"] == "*******678" and views["email"]["recipient"] == "d***@e***"
    assert views["sms"]["status"] == views["email"]["status"] == "sent"
    assert [h["status"] for h in views["sms"]["history"]] == ["pending", "sending", "sent"]
    body = response.text
    assert "0912345678" not in body and "dao.nguyen" not in body and "Nguyễn" not in body and "Ho so" not in body


async def test_redelivered_event_changes_nothing(
    app: FastAPI, settings: NotifySettings, standins: RunningStandins, local_stack: LocalStack, received: MakeEvent
) -> None:
    event = received(CODE)
    envelope = envelope_for(event)
    await produce(local_stack, settings, event, envelope)
    first = await eventually(lambda: settled(app, 2), message="both notifications sent")

    duplicates_before = consumed("duplicate")
    await produce(local_stack, settings, event, envelope)  # the very same record again
    await eventually(
        lambda: _above(lambda: consumed("duplicate"), duplicates_before), message="redelivery seen as duplicate"
    )

    assert await notifications(app) == first
    assert len(await sms_at_gateway(standins, phone="0912345678")) == 1
    assert len(await mails_at_mailbox(standins, "dao.nguyen@example.vn")) == 1
    assert await db_of(app)[OUTBOX].count_documents({"topic": NOTIFY_NOTIFICATIONS}) == 2


async def test_crash_between_sending_and_marking_sent_still_sends_one_sms(
    settings: NotifySettings, standins: RunningStandins, received: MakeEvent
) -> None:
    settings = settings.model_copy(update={"sending_lease_seconds": 0.3})
    event = received(CODE, notify_channels=["sms"])
    envelope = envelope_for(event)
    # A sender that records the notification, claims it, sends it... and dies before marking it sent.
    client = connect(settings.mongo)
    db = client[settings.mongo.database]
    sms = SmsGatewayClient(settings.sms)
    try:
        await ensure_indexes(db, [*OUTBOX_INDEXES, *store.INDEXES])
        uow = UnitOfWork(client, db, producer="notify")
        assert await uow.run(lambda tx: service.record_notifications(tx, event, envelope, VN)) == 1
        claimed = await store.claim_due(db, datetime.now(UTC), timedelta(seconds=settings.sending_lease_seconds))
        assert claimed is not None
        reference = await service.deliver(claimed, service.Senders(sms=sms, email=SmtpEmailClient(settings.smtp)))
        [stuck] = await notifications(db)
        assert stuck["status"] == "sending" and stuck["attempts"] == 1
    finally:
        await sms.aclose()
        await client.close()

    # A sender starts again: once the dead one's lease ends, it sends again with the same client_ref.
    async with running(settings) as app:
        [doc] = await eventually(lambda: settled(app, 1), message="notification taken over and sent")
    assert doc["status"] == "sent" and doc["attempts"] == 2
    assert doc["provider_reference"] == reference  # the gateway recognised the client_ref
    [sms_message] = await sms_at_gateway(standins, phone="0912345678")
    assert sms_message["client_ref"] == doc["_id"]


async def test_invalid_phone_fails_at_once_without_retry(
    app: FastAPI, settings: NotifySettings, standins: RunningStandins, local_stack: LocalStack, received: MakeEvent
) -> None:
    event = received(CODE, notify_channels=["sms"], applicant={"phone": "0123 456"})
    await produce(local_stack, settings, event, envelope_for(event))
    [doc] = await eventually(lambda: settled(app, 1), message="notification settled")
    assert doc["status"] == "failed" and doc["attempts"] == 1
    assert doc["last_error"].startswith("invalid_phone")
    assert [h["status"] for h in doc["history"]] == ["pending", "sending", "failed"]
    assert await sms_at_gateway(standins) == []


async def test_gateway_errors_are_retried_until_accepted(
    app: FastAPI, settings: NotifySettings, standins: RunningStandins, local_stack: LocalStack, received: MakeEvent
) -> None:
    await inject_gateway_faults(standins, "error_500", count=2)
    retries_before = REGISTRY.get_sample_value("notify_send_retries_total", {"channel": "sms"}) or 0.0
    event = received(CODE, notify_channels=["sms"])
    await produce(local_stack, settings, event, envelope_for(event))
    [doc] = await eventually(lambda: settled(app, 1), message="notification settled")
    assert doc["status"] == "sent" and doc["attempts"] == 3
    assert [h["status"] for h in doc["history"]] == [
        "pending",
        "sending",
        "pending",
        "sending",
        "pending",
        "sending",
        "sent",
    ]
    assert REGISTRY.get_sample_value("notify_send_retries_total", {"channel": "sms"}) == retries_before + 2
    assert len(await sms_at_gateway(standins, phone="0912345678")) == 1
