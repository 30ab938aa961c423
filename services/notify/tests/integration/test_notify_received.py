"""Notify against the real local broker, database, SMS gateway stand-in and SMTP mailbox."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from motcua_devstack.standins.runner import RunningStandins
from motcua_devstack.testing import LocalStack, eventually
from motcua_kit.auth import Role, mint_token
from motcua_kit.events import DossierReceived, Envelope, NotificationSent
from motcua_kit.events.topics import NOTIFY_NOTIFICATIONS
from motcua_kit.outbox import OUTBOX
from notify.settings import NotifySettings

from .conftest import (
    CODE,
    TopicReader,
    above,
    consumed,
    db_of,
    envelope_for,
    inject_gateway_faults,
    mails_at_mailbox,
    notifications,
    notifications_topic,
    produce,
    running,
    send_and_die,
    settled,
    sms_at_gateway,
)

pytestmark = pytest.mark.integration

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MakeEvent = Callable[..., DossierReceived]


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
        lambda: above(lambda: consumed("duplicate"), duplicates_before), message="redelivery seen as duplicate"
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
    reference = await send_and_die(settings, event, envelope)

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
    # The SMS fails for good at once; the citizen gave an e-mail address too, so the message goes there.
    docs = await eventually(lambda: settled(app, 2), message="notifications settled")
    doc, fallback = sorted(docs, key=lambda d: d["channel"] != "sms")
    assert doc["status"] == "failed" and doc["attempts"] == 1
    assert doc["last_error"].startswith("invalid_phone")
    assert [h["status"] for h in doc["history"]] == ["pending", "sending", "failed"]
    assert await sms_at_gateway(standins) == []
    assert fallback["channel"] == "email" and fallback["status"] == "sent" and fallback["fallback_of"] == doc["_id"]
    [mail] = await mails_at_mailbox(standins, "dao.nguyen@example.vn")
    assert "đã được tiếp nhận" in mail["subject"]


async def test_no_fallback_when_the_citizen_has_no_other_channel(
    app: FastAPI, settings: NotifySettings, standins: RunningStandins, local_stack: LocalStack, received: MakeEvent
) -> None:
    event = received(CODE, notify_channels=["sms"], applicant={"phone": "0123 456", "email": None})
    await produce(local_stack, settings, event, envelope_for(event))
    [doc] = await eventually(lambda: settled(app, 1), message="notification settled")
    assert doc["status"] == "failed" and doc["fallback"] is None


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
