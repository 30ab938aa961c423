"""Sending under real conditions: quiet hours, opt-outs, rate limits, a gateway outage with failover,
delivery receipts and bounces, and a restart between recording and sending."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from motcua_devstack import servers
from motcua_devstack.standins import StandinsConfig, open_standins
from motcua_devstack.standins.runner import RunningStandins, start_http_server
from motcua_devstack.standins.sms_gateway import create_sms_gateway_app
from motcua_devstack.testing import LocalStack, consumers_joined, eventually, token
from motcua_kit.events import DossierReceived
from notify.main import create_app
from notify.settings import NotifySettings

from .conftest import (
    CODE,
    TopicReader,
    envelope_for,
    inject_gateway_faults,
    mails_at_mailbox,
    notifications,
    notifications_topic,
    produce,
    record_and_die,
    running,
    send_and_die,
    settled,
    sms_at_gateway,
)

pytestmark = pytest.mark.integration

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MakeEvent = Callable[..., DossierReceived]
PHONE = "0912345678"
EMAIL = "dao.nguyen@example.vn"


@asynccontextmanager
async def served(settings: NotifySettings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Notify on a real port, so gateways can post their receipts to it."""
    app = create_app(settings)
    handle = await start_http_server(app, port=settings.port, name="notify")
    try:
        await eventually(lambda: consumers_joined(app.state.rt), message="notify consumer joined")
        async with httpx.AsyncClient(base_url=handle.url, timeout=10, trust_env=False) as http:
            yield app, http
    finally:
        await handle.stop()


async def events_of(settings: NotifySettings, local_stack: LocalStack, n: int) -> list[tuple[str, dict[str, Any]]]:
    async with TopicReader(local_stack, notifications_topic(settings)) as reader:
        records = await eventually(lambda: reader.at_least(n), message=f"{n} notify events")
    return [(dict(r.headers)["motcua-event-type"].decode(), json.loads(r.value)) for r in records]


async def test_quiet_hours_hold_an_sms_until_morning_but_not_the_email(
    settings_with: Callable[..., NotifySettings],
    standins: RunningStandins,
    local_stack: LocalStack,
    received: MakeEvent,
) -> None:
    now = datetime.now(VN)
    start, end = (now - timedelta(hours=1)).time(), (now + timedelta(hours=2)).time()
    settings = settings_with(
        QUIET_HOURS__ENABLED="true", QUIET_HOURS__START=start.strftime("%H:%M"), QUIET_HOURS__END=end.strftime("%H:%M")
    )
    async with running(settings) as app:
        event = received(CODE)
        await produce(local_stack, settings, event, envelope_for(event))

        async def held() -> list[Any]:
            docs = await notifications(app)
            by = {d["channel"]: d for d in docs}
            ok = (
                by.get("email", {}).get("status") == "sent"
                and by.get("sms", {}).get("deferred_reason") == "quiet_hours"
            )
            return docs if ok else []

        docs = await eventually(held, message="e-mail sent, SMS held")
        sms = next(d for d in docs if d["channel"] == "sms")
        assert sms["status"] == "pending" and sms["attempts"] == 0
        morning = sms["next_attempt_at"].astimezone(VN)
        assert (morning.hour, morning.minute) == (end.hour, end.minute) and morning > now
        assert await sms_at_gateway(standins) == []
        assert len(await mails_at_mailbox(standins, EMAIL)) == 1


async def test_an_opted_out_channel_gets_nothing_and_the_other_still_does(
    settings: NotifySettings, standins: RunningStandins, local_stack: LocalStack, received: MakeEvent
) -> None:
    async with served(settings) as (app, http):
        officer = token(local_stack, "counter_officer", "000.00.06.H56")
        bad = await http.post("/opt-outs", json={"channel": "sms", "recipient": "dao@example.vn"}, headers=officer)
        assert bad.status_code == 422 and "mobile number" in bad.json()["message"]
        r = await http.post("/opt-outs", json={"channel": "sms", "recipient": "+84 912 345 678"}, headers=officer)
        assert r.status_code == 201, r.text
        event = received(CODE)
        await produce(local_stack, settings, event, envelope_for(event))
        docs = await eventually(lambda: settled(app, 2), message="notifications settled")
        assert {d["channel"]: d["status"] for d in docs} == {"sms": "opted_out", "email": "sent"}
        assert await sms_at_gateway(standins) == []

        r = await http.post("/opt-outs/remove", json={"channel": "sms", "recipient": PHONE}, headers=officer)
        assert r.status_code == 200 and r.json()["opted_out"] is False
        again = received("000.00.06.H56-261123-0002")
        await produce(local_stack, settings, again, envelope_for(again))
        await eventually(lambda: settled(app, 2, "000.00.06.H56-261123-0002"), message="second dossier told")
        assert len(await sms_at_gateway(standins, phone=PHONE)) == 1


async def test_a_gateway_outage_is_retried_then_the_backup_takes_over(
    settings_with: Callable[..., NotifySettings],
    standins: RunningStandins,
    local_stack: LocalStack,
    received: MakeEvent,
) -> None:
    backup = await start_http_server(create_sms_gateway_app("backup-key"), port=0, name="sms-backup")
    try:
        settings = settings_with(
            SMS_BACKUP__URL=backup.url,
            SMS_BACKUP__API_KEY="backup-key",
            SMS_BACKUP__NAME="sms_backup",
            FAILOVER_AFTER_FAILURES=2,
        )
        await inject_gateway_faults(standins, "error_500", count=50)
        async with running(settings) as app:
            event = received(CODE, notify_channels=["sms"])
            await produce(local_stack, settings, event, envelope_for(event))
            [doc] = await eventually(lambda: settled(app, 1), message="SMS sent after failover")
            assert doc["status"] == "sent" and doc["provider"] == "sms_backup"
            assert [h["status"] for h in doc["history"]] == [
                "pending",
                "sending",
                "pending",
                "sending",
                "pending",
                "sending",
                "sent",
            ]
            assert await sms_at_gateway(standins) == []
            async with httpx.AsyncClient(base_url=backup.url) as client:
                [sms] = (await client.get("/_control/messages")).json()
            assert sms["client_ref"] == doc["_id"] and sms["text"].startswith("Ho so 000.00.06.H56-261123-0001")
            kinds = await events_of(settings, local_stack, 1)
            assert [(k, e["provider"]) for k, e in kinds] == [("NotificationSent", "sms_backup")]
    finally:
        await backup.stop()


async def test_an_outage_outlasting_the_window_ends_as_a_technical_failure(
    settings_with: Callable[..., NotifySettings],
    standins: RunningStandins,
    local_stack: LocalStack,
    received: MakeEvent,
) -> None:
    settings = settings_with(SEND_WINDOW_SECONDS=1, SEND_MAX_ATTEMPTS=50)
    await inject_gateway_faults(standins, "error_500", count=1000)
    async with running(settings) as app:
        event = received(CODE, notify_channels=["sms"])
        await produce(local_stack, settings, event, envelope_for(event))
        [doc] = await eventually(lambda: settled(app, 1), message="given up")
        assert doc["status"] == "technical_failure" and 1 < doc["attempts"] < 50
        [(kind, failed)] = await events_of(settings, local_stack, 1)
        assert (
            kind == "NotificationFailed"
            and failed["status"] == "technical_failure"
            and failed["reason"] == "server_error"
        )


async def test_a_provider_rate_limit_spreads_the_messages_over_seconds(
    settings_with: Callable[..., NotifySettings],
    standins: RunningStandins,
    local_stack: LocalStack,
    received: MakeEvent,
) -> None:
    settings = settings_with(SMS__MAX_PER_SECOND=1)
    codes = [f"000.00.06.H56-261123-{n:04d}" for n in (11, 12, 13)]
    async with running(settings) as app:
        for code in codes:
            event = received(code, notify_channels=["sms"])
            await produce(local_stack, settings, event, envelope_for(event))
        for code in codes:
            await eventually(lambda c=code: settled(app, 1, c), message=f"{code} sent")
        docs = [d for c in codes for d in await notifications(app, c)]
        assert all(d["status"] == "sent" for d in docs)
        assert any("deferred: rate_limited" in (h.get("note") or "") for d in docs for h in d["history"])
        seconds = {d["sent_at"].replace(microsecond=0) for d in docs}
        assert len(seconds) == 3  # one per second at most
        assert len(await sms_at_gateway(standins, phone=PHONE)) == 3


async def test_delivery_receipts_and_bounces_are_applied_once(
    settings_with: Callable[..., NotifySettings],
    standins: RunningStandins,
    local_stack: LocalStack,
    received: MakeEvent,
) -> None:
    port = servers.free_port()
    settings = settings_with(
        PORT=port, SMS__RECEIPT_URL=f"http://127.0.0.1:{port}/callbacks/sms", FALLBACK_TO_OTHER_CHANNEL="false"
    )
    async with served(settings) as (app, http):
        async with httpx.AsyncClient(base_url=standins.sms.url) as gateway:
            r = await gateway.post(
                "/_control/receipt-outcome",
                json={"phone": "0987654321", "status": "failed", "reason": "absent_subscriber"},
            )
            assert r.status_code == 200
        delivered = received(CODE)
        unreachable = received("000.00.06.H56-261123-0002", applicant={"phone": "0987654321"})
        for event in (delivered, unreachable):
            await produce(local_stack, settings, event, envelope_for(event))

        async def receipted(code: str, status: str) -> list[Any]:
            docs = await notifications(app, code)
            return docs if any(d["channel"] == "sms" and d["status"] == status for d in docs) else []

        [sms] = [
            d
            for d in await eventually(lambda: receipted(CODE, "delivered"), message="receipt applied")
            if d["channel"] == "sms"
        ]
        assert sms["delivered_at"] and [h["status"] for h in sms["history"]][-2:] == ["sent", "delivered"]
        await eventually(
            lambda: receipted("000.00.06.H56-261123-0002", "undelivered"), message="failure receipt applied"
        )

        # The gateway sends the same receipt again: nothing changes. A forged one is refused.
        replay = {"message_id": sms["provider_reference"], "client_ref": sms["_id"], "status": "delivered"}
        assert (await http.post("/callbacks/sms", json=replay)).json() == {"outcome": "duplicate"}
        forged = replay | {"message_id": "someone-else"}
        assert (await http.post("/callbacks/sms", json=forged)).status_code == 404

        # A bounce for the first dossier's e-mail.
        [mail] = [d for d in await notifications(app, CODE) if d["channel"] == "email" and d["status"] == "sent"]
        bounce = {
            "event_id": uuid.uuid4().hex,
            "message_id": mail["provider_reference"],
            "kind": "hard",
            "reason": "550 5.1.1 <x@y>: User unknown",
        }
        assert (await http.post("/callbacks/email-bounces", json=bounce)).json() == {"outcome": "accepted"}
        assert (await http.post("/callbacks/email-bounces", json=bounce)).json() == {"outcome": "duplicate"}
        assert (await http.post("/callbacks/email-bounces", json=bounce | {"kind": "soft"})).json() == {
            "outcome": "ignored"
        }
        assert (
            await http.post("/callbacks/email-bounces", json=bounce | {"message_id": "<nope@motcua>"})
        ).status_code == 404
        bounced = next(d for d in await notifications(app, CODE) if d["channel"] == "email")
        assert bounced["status"] == "undelivered" and "dao.nguyen" not in json.dumps(bounced["history"], default=str)

        events = await events_of(settings, local_stack, 7)
        kinds = [
            (k, e["dossier_code"][-4:], e.get("status") or e.get("reason"))
            for k, e in events
            if k != "NotificationSent"
        ]
        assert sorted(kinds) == sorted(
            [
                ("NotificationDelivered", "0001", None),
                ("NotificationFailed", "0002", "undelivered"),
                ("NotificationFailed", "0001", "undelivered"),
            ]
        )


async def test_a_restart_between_recording_and_sending_sends_each_message_once(
    settings: NotifySettings, standins: RunningStandins, local_stack: LocalStack, received: MakeEvent
) -> None:
    event = received(CODE)
    envelope = envelope_for(event)
    # A first process records what is owed and dies before its sender runs.
    assert await record_and_die(settings, event, envelope) == 2
    async with running(settings) as app:  # the next process sends it, and the event arrives again
        await produce(local_stack, settings, event, envelope)
        docs = await eventually(lambda: settled(app, 2), message="sent after restart")
        assert {d["status"] for d in docs} == {"sent"}
    async with running(settings) as app:  # and a further restart sends nothing more
        assert len(await notifications(app)) == 2
        assert len(await sms_at_gateway(standins, phone=PHONE)) == 1
        assert len(await mails_at_mailbox(standins, EMAIL)) == 1


async def test_a_crash_after_the_relay_took_an_email_sends_it_once(
    settings: NotifySettings, standins: RunningStandins, local_stack: LocalStack, received: MakeEvent
) -> None:
    settings = settings.model_copy(update={"sending_lease_seconds": 0.3})
    event = received(CODE, notify_channels=["email"])
    envelope = envelope_for(event)
    await send_and_die(settings, event, envelope)  # the relay took the e-mail; the sender died before recording it
    async with running(settings) as app:  # the lease ends, the next sender sends it again: same Message-ID
        [doc] = await eventually(lambda: settled(app, 1), message="e-mail taken over and sent")
    assert doc["status"] == "sent" and doc["attempts"] == 2
    [mail] = await mails_at_mailbox(standins, EMAIL)
    assert mail["message_id"] == doc["provider_reference"]


async def test_a_bounce_at_the_mailbox_makes_the_email_undelivered_and_sends_an_sms(
    settings_with: Callable[..., NotifySettings], local_stack: LocalStack, received: MakeEvent
) -> None:
    port = servers.free_port()
    config = StandinsConfig(
        sms_port=0,
        carrier_port=0,
        smtp_port=0,
        mailbox_http_port=0,
        mail_bounce_webhook_url=f"http://127.0.0.1:{port}/callbacks/email-bounces",
    )
    async with open_standins(config) as standins:
        settings = settings_with(
            PORT=port,
            SMS__URL=standins.sms.url,
            SMTP__PORT=standins.smtp_port,
            SMTP__BOUNCE_ADDRESS="bounces@motcua.local",
        )
        async with served(settings) as (app, _):
            event = received(CODE, notify_channels=["email"], applicant={"email": "dao.nguyen@example.invalid"})
            await produce(local_stack, settings, event, envelope_for(event))
            docs = await eventually(lambda: settled(app, 2), message="bounced, then told by SMS")
            by = {d["channel"]: d for d in docs}
            assert by["email"]["status"] == "undelivered" and by["sms"]["status"] == "sent"
            assert by["sms"]["fallback_of"] == by["email"]["_id"]
            [dsn] = await mails_at_mailbox(standins, "bounces@motcua.local")
            assert dsn["subject"] == "Undelivered Mail Returned to Sender"
            [sms] = await sms_at_gateway(standins, phone=PHONE)
            assert sms["text"].startswith("Ho so 000.00.06.H56-261123-0001 da duoc tiep nhan")


async def test_senders_side_by_side_never_send_a_message_twice(
    settings_with: Callable[..., NotifySettings],
    standins: RunningStandins,
    local_stack: LocalStack,
    received: MakeEvent,
) -> None:
    settings = settings_with(SENDER_CONCURRENCY=4)
    codes = [f"000.00.06.H56-261123-{n:04d}" for n in range(21, 27)]
    async with running(settings) as app:
        for code in codes:
            event = received(code)
            await produce(local_stack, settings, event, envelope_for(event))
        for code in codes:
            await eventually(lambda c=code: settled(app, 2, c), message=f"{code} told")
        docs = [d for c in codes for d in await notifications(app, c)]
    assert {d["status"] for d in docs} == {"sent"} and {d["attempts"] for d in docs} == {1}
    sms = await sms_at_gateway(standins, phone=PHONE)
    assert sorted(m["client_ref"] for m in sms) == sorted(d["_id"] for d in docs if d["channel"] == "sms")
    assert len(await mails_at_mailbox(standins, EMAIL)) == len(codes)
