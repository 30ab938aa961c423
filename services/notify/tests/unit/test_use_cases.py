"""Notify's use cases on the fake unit of work and in-memory repositories: no servers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Conflict, NotFound
from motcua_kit.events import (
    DossierReceived,
    DossierWithdrawn,
    Envelope,
    NotificationDelivered,
    NotificationFailed,
    NotificationSent,
)
from motcua_kit.testing import FakeUnitOfWork
from notify.clients.errors import PermanentSendError
from notify.domain.messages import notification_id
from notify.domain.notification import Notification
from notify.service.preferences import OptIn, OptOut, opt_in, opt_out
from notify.service.receipts import ApplyBounce, ApplySmsReceipt, apply_bounce, apply_sms_receipt
from notify.service.recording import RecordNotifications, record_notifications
from notify.service.sending import Senders, send_claimed
from notify.service.views import TotalsQuery, notification_totals
from notify.settings import NotifySettings

from .fakes import FakeRepositories, fake_repositories

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = "000.00.06.H56-261123-0001"
PHONE = "0912345678"
EMAIL = "dao.nguyen@example.vn"
LEASE = timedelta(seconds=30)
Make = Callable[..., DossierReceived]


def envelope_of(event: Any) -> Envelope:
    return Envelope(
        event_type=event.event_type, schema_version=event.schema_version, correlation_id="c", producer="reception"
    )


def recording(event: Any, envelope: Envelope | None = None) -> RecordNotifications:
    return RecordNotifications.of(event, envelope or envelope_of(event), VN)


def new_uow(repos: FakeRepositories | None = None) -> FakeUnitOfWork[Any]:
    return FakeUnitOfWork(repos or fake_repositories(), producer="notify")


def settings(**extra: Any) -> NotifySettings:
    return NotifySettings.model_validate(
        {"auth": {"jwks_file": "unused.json"}, "quiet_hours": {"enabled": False}, **extra}
    )


class RecordingSms:
    name = "sms_gateway"

    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.error = error

    async def send(self, phone: str, text: str, client_ref: str) -> str:
        if self.error:
            raise self.error
        self.sent.append((phone, text, client_ref))
        return f"gw-{len(self.sent)}"


class RecordingMail:
    name = "smtp"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, *, notification_id: str, recipient: str, subject: str, text: str, html: str | None) -> str:
        self.sent.append(recipient)
        return f"<{notification_id}@motcua>"


async def recorded(received: Make, uow: FakeUnitOfWork[Any], **changes: Any) -> list[Notification]:
    event = received(CODE, **changes)
    await record_notifications(recording(event), uow)
    return uow.repos.notifications.all()


async def sent_sms(uow: FakeUnitOfWork[Any], received: Make) -> Notification:
    """A recorded SMS, claimed and accepted by the gateway."""
    await recorded(received, uow, notify_channels=["sms"])
    claimed = await uow.repos.notifications.claim_due(datetime.now(UTC), LEASE)
    assert claimed is not None
    sms = RecordingSms()
    outcome = await send_claimed(claimed, uow, Senders(sms=sms, email=RecordingMail()), settings(), datetime.now(UTC))
    assert outcome == "sent"
    [n] = uow.repos.notifications.all()
    return n


# --- recording ----------------------------------------------------------------------------------------


async def test_a_received_dossier_is_recorded_once_even_when_redelivered(received: Make) -> None:
    uow = new_uow()
    event = received(CODE)
    envelope = envelope_of(event)
    assert await record_notifications(recording(event, envelope), uow) == 2
    assert await record_notifications(recording(event, envelope), uow) == 0  # the same event again
    stored = sorted(uow.repos.notifications.all(), key=lambda n: n.channel)
    assert [(n.channel, n.recipient, n.status) for n in stored] == [
        ("email", EMAIL, "pending"),
        ("sms", PHONE, "pending"),
    ]
    assert {n.id for n in stored} == {
        notification_id(envelope.event_id, "sms", PHONE),
        notification_id(envelope.event_id, "email", EMAIL),
    }
    assert all(n.trigger_event_id == envelope.event_id and n.dossier_code == CODE for n in stored)
    assert "tiep nhan" in next(n.text for n in stored if n.channel == "sms")
    contacts = await uow.repos.dossiers.get(CODE)
    assert contacts is not None and contacts.phone == PHONE and contacts.centre_code == "000.00.06.H56"
    assert uow.committed == 2 and uow.events == []  # recording publishes nothing: the sender does


async def test_a_conflicting_commit_runs_the_recording_again_and_keeps_it_once(received: Make) -> None:
    uow = new_uow()
    uow.fail_commits(1)
    assert await record_notifications(recording(received(CODE)), uow) == 2
    assert uow.rolled_back == 1 and uow.committed == 1 and len(uow.repos.notifications.all()) == 2


async def test_the_other_channel_is_kept_as_a_fallback_when_not_chosen(received: Make) -> None:
    [sms] = await recorded(received, new_uow(), notify_channels=["sms"])
    assert sms.fallback is not None and sms.fallback.channel == "email" and sms.fallback.recipient == EMAIL


async def test_an_event_for_an_unknown_dossier_is_recorded_as_skipped() -> None:
    uow = new_uow()
    event = DossierWithdrawn(
        dossier_code=CODE, reason="Không còn nhu cầu", withdrawn_at=datetime.now(UTC), recorded_by="o"
    )
    envelope = envelope_of(event)
    assert await record_notifications(recording(event, envelope), uow) == 0
    assert uow.repos.notifications.all() == []
    skipped = uow.repos.skipped_events.skipped[envelope.event_id]
    assert skipped["reason"] == "unknown_dossier" and skipped["dossier_code"] == CODE
    assert skipped["event_type"] == "DossierWithdrawn" and uow.committed == 1


async def test_a_later_event_for_a_known_dossier_is_told(received: Make) -> None:
    uow = new_uow()
    await recorded(received, uow)
    event = DossierWithdrawn(
        dossier_code=CODE, reason="Không còn nhu cầu", withdrawn_at=datetime.now(UTC), recorded_by="o"
    )
    assert await record_notifications(recording(event), uow) == 2
    assert {n.template_key for n in uow.repos.notifications.all()} == {"received", "withdrawn"}


# --- sending ------------------------------------------------------------------------------------------------


async def test_a_claimed_sms_is_sent_with_its_id_as_client_ref_and_says_so(received: Make) -> None:
    uow = new_uow()
    await recorded(received, uow, notify_channels=["sms"])
    claimed = await uow.repos.notifications.claim_due(datetime.now(UTC), LEASE)
    assert claimed is not None and claimed.status == "sending"
    sms = RecordingSms()
    outcome = await send_claimed(claimed, uow, Senders(sms=sms, email=RecordingMail()), settings(), datetime.now(UTC))
    assert outcome == "sent"
    assert sms.sent == [(PHONE, claimed.text, claimed.id)]
    [n] = uow.repos.notifications.all()
    assert n.status == "sent" and n.provider_reference == "gw-1" and n.attempts == 1
    [event] = uow.events_of(NotificationSent)
    assert event.notification_id == n.id and event.provider == "sms_gateway"


async def test_a_send_recorded_again_after_a_conflict_is_counted_and_published_once(received: Make) -> None:
    uow = new_uow()
    await recorded(received, uow, notify_channels=["sms"])
    claimed = await uow.repos.notifications.claim_due(datetime.now(UTC), LEASE)
    assert claimed is not None
    labels = {"channel": "sms", "provider": "sms_gateway", "status": "sent"}
    before = REGISTRY.get_sample_value("notify_messages_total", labels) or 0.0
    uow.fail_commits(1)  # the first commit of "sent" loses a write conflict: the use case runs again
    sms = RecordingSms()
    outcome = await send_claimed(claimed, uow, Senders(sms=sms, email=RecordingMail()), settings(), datetime.now(UTC))
    assert outcome == "sent" and len(sms.sent) == 1 and uow.rolled_back == 1
    assert len(uow.events_of(NotificationSent)) == 1
    assert REGISTRY.get_sample_value("notify_messages_total", labels) == before + 1


async def test_a_permanent_failure_fails_and_falls_back_to_e_mail(received: Make) -> None:
    uow = new_uow()
    await recorded(received, uow, notify_channels=["sms"])
    claimed = await uow.repos.notifications.claim_due(datetime.now(UTC), LEASE)
    assert claimed is not None
    sms = RecordingSms(PermanentSendError("invalid_phone", "not a mobile number"))
    outcome = await send_claimed(claimed, uow, Senders(sms=sms, email=RecordingMail()), settings(), datetime.now(UTC))
    assert outcome == "failed"
    by_channel = {n.channel: n for n in uow.repos.notifications.all()}
    assert by_channel["sms"].status == "failed" and by_channel["sms"].last_error == "invalid_phone: not a mobile number"
    assert by_channel["email"].status == "pending" and by_channel["email"].fallback_of == claimed.id
    [failed] = uow.events_of(NotificationFailed)
    assert failed.status == "failed" and failed.reason == "invalid_phone"


# --- receipts -----------------------------------------------------------------------------------------------


async def test_a_receipt_makes_a_sent_sms_delivered_and_publishes_it_once(received: Make) -> None:
    uow = new_uow()
    sms = await sent_sms(uow, received)
    at = datetime.now(UTC)
    receipt = ApplySmsReceipt(client_ref=sms.id, message_id="gw-1", delivered=True, at=at)
    assert await apply_sms_receipt(receipt, uow) == "accepted"
    assert await apply_sms_receipt(receipt, uow) == "duplicate"
    [n] = uow.repos.notifications.all()
    assert n.status == "delivered" and n.delivered_at == at
    [event] = uow.events_of(NotificationDelivered)
    assert (event.notification_id, event.dossier_code, event.channel, event.delivered_at) == (sms.id, CODE, "sms", at)


async def test_a_receipt_for_another_message_or_too_early_is_refused(received: Make) -> None:
    uow = new_uow()
    [pending] = await recorded(received, uow, notify_channels=["sms"])
    early = ApplySmsReceipt(client_ref=pending.id, message_id="gw-1", delivered=True, at=datetime.now(UTC))
    with pytest.raises(Conflict):
        await apply_sms_receipt(early, uow)
    with pytest.raises(NotFound):
        await apply_sms_receipt(ApplySmsReceipt("sms-unknown", "gw-1", True, datetime.now(UTC)), uow)
    assert uow.events == [] and uow.repos.notifications.all()[0].status == "pending"


async def test_a_bounce_makes_the_e_mail_undelivered_and_sends_the_sms(received: Make) -> None:
    uow = new_uow()
    await recorded(received, uow, notify_channels=["email"])
    claimed = await uow.repos.notifications.claim_due(datetime.now(UTC), LEASE)
    assert claimed is not None
    mail = RecordingMail()
    await send_claimed(claimed, uow, Senders(sms=RecordingSms(), email=mail), settings(), datetime.now(UTC))
    bounce = ApplyBounce(
        message_id=f"<{claimed.id}@motcua>", at=datetime.now(UTC), reason="550 5.1.1 user unknown", fallback=True
    )
    assert await apply_bounce(bounce, uow) == "accepted"
    by_channel = {n.channel: n for n in uow.repos.notifications.all()}
    assert by_channel["email"].status == "undelivered"
    assert by_channel["sms"].status == "pending" and by_channel["sms"].fallback_of == claimed.id
    [failed] = uow.events_of(NotificationFailed)
    assert failed.status == "undelivered" and failed.reason == "recipient_unknown"


# --- opt-outs -----------------------------------------------------------------------------------------------


async def test_an_opted_out_phone_is_recorded_opted_out_and_never_sent(received: Make) -> None:
    uow = new_uow()
    stored = await opt_out(OptOut("sms", "+84 912 345 678", by="officer"), uow)
    assert stored == PHONE  # compared in the national form
    notifications = await recorded(received, uow)
    by_channel = {n.channel: n for n in notifications}
    assert by_channel["sms"].status == "opted_out" and by_channel["sms"].next_attempt_at is None
    assert by_channel["email"].status == "pending"
    assert await uow.repos.notifications.claim_due(datetime.now(UTC), LEASE) is not None  # the e-mail only
    assert await uow.repos.notifications.claim_due(datetime.now(UTC), LEASE) is None


async def test_opting_out_after_the_message_was_owed_stops_it_at_the_sender(received: Make) -> None:
    uow = new_uow()
    await recorded(received, uow, notify_channels=["sms"])
    await opt_out(OptOut("sms", PHONE, by="officer"), uow)
    claimed = await uow.repos.notifications.claim_due(datetime.now(UTC), LEASE)
    assert claimed is not None
    sms = RecordingSms()
    outcome = await send_claimed(claimed, uow, Senders(sms=sms, email=RecordingMail()), settings(), datetime.now(UTC))
    assert outcome == "opted_out" and sms.sent == []
    [n] = uow.repos.notifications.all()
    assert n.status == "opted_out" and uow.events == []


async def test_opting_in_again_removes_the_opt_out_once() -> None:
    uow = new_uow()
    await opt_out(OptOut("email", "Dao.Nguyen@Example.vn ", by="officer"), uow)
    assert await uow.repos.opt_outs.contains("email", EMAIL)
    assert await opt_in(OptIn("email", EMAIL), uow) is True
    assert await opt_in(OptIn("email", EMAIL), uow) is False
    assert not await uow.repos.opt_outs.contains("email", EMAIL)


# --- the totals report ----------------------------------------------------------------------------------------


async def test_the_totals_report_counts_the_period_as_it_streams_it(received: Make) -> None:
    uow = new_uow()
    await recorded(received, uow)
    other_centre = received("000.00.07.H56-261123-0001", centre_code="000.00.07.H56")
    await record_notifications(recording(other_centre), uow)
    today = datetime.now(VN).date()
    auditor = Principal(subject="a", role=Role.AUDITOR, scope="province")
    query = TotalsQuery(viewer=auditor, date_from=today, date_to=today, zone=VN, centre_code="000.00.06.H56")
    totals = await notification_totals(query, uow)
    assert totals.total == 2 and totals.by(1) == {"email": 1, "sms": 1} and totals.by(2) == {"pending": 2}
    everywhere = await notification_totals(replace(query, centre_code=None), uow)
    assert everywhere.total == 4
    yesterday = today - timedelta(days=1)
    assert (await notification_totals(replace(query, date_from=yesterday, date_to=yesterday), uow)).total == 0
