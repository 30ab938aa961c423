"""The Notification aggregate's status machine, with no servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from motcua_kit.events import NotificationDelivered, NotificationFailed, NotificationSent
from notify.domain.messages import OutgoingMessage, notification_id
from notify.domain.notification import Fallback, InvalidTransition, Notification, RetryPolicy

T0 = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
LEASE = timedelta(seconds=30)
POLICY = RetryPolicy(max_attempts=3, initial_seconds=2, max_seconds=60, window_seconds=3600)
SMS = OutgoingMessage("sms", "0912345678", None, "Ho so C-1 da duoc tiep nhan", None, "received", 1, 1)
MAIL = OutgoingMessage("email", "dao@example.vn", "Hồ sơ C-1", "Kính gửi", "<p>Kính gửi</p>", "received", 1)


def owed(message: OutgoingMessage = SMS, **kwargs: object) -> Notification:
    return Notification.owed(
        message,
        dossier_code="C-1",
        centre_code="000.00.06.H56",
        trigger_event_id="event-1",
        trigger_event_type="DossierReceived",
        trigger_occurred_at=T0 - timedelta(seconds=5),
        now=T0,
        **kwargs,  # type: ignore[arg-type]
    )


def claimed(message: OutgoingMessage = SMS, **kwargs: object) -> Notification:
    n = owed(message, **kwargs)
    n.claim(T0, LEASE)
    return n


def statuses(n: Notification) -> list[str]:
    return [h.status for h in n.history]


def test_a_new_notification_is_pending_due_at_once_with_the_deterministic_id() -> None:
    n = owed()
    assert n.id == notification_id("event-1", "sms", "0912345678")
    assert n.status == "pending" and n.attempts == 0 and n.next_attempt_at == T0
    assert n.is_due(T0) and not n.is_due(T0 - timedelta(seconds=1))
    assert [(h.status, h.note) for h in n.history] == [("pending", "on DossierReceived")]


def test_a_claim_takes_a_lease_and_spends_an_attempt() -> None:
    n = owed()
    assert n.claim(T0, LEASE) == []
    assert n.status == "sending" and n.attempts == 1 and n.lease_until == T0 + LEASE
    with pytest.raises(InvalidTransition):  # nobody else takes it while the lease runs
        n.claim(T0 + timedelta(seconds=10), LEASE)


def test_an_expired_lease_lets_another_sender_claim_it_again() -> None:
    n = claimed()
    later = T0 + LEASE + timedelta(seconds=1)
    assert n.is_due(later)
    n.claim(later, LEASE)
    assert n.status == "sending" and n.attempts == 2 and n.lease_until == later + LEASE
    assert statuses(n) == ["pending", "sending", "sending"]


def test_accepted_by_the_provider_it_is_sent_and_says_so() -> None:
    n = claimed()
    sent_at = T0 + timedelta(seconds=1)
    [event] = n.mark_sent(provider="sms_gateway", provider_reference="gw-1", sent_at=sent_at)
    assert isinstance(event, NotificationSent)
    assert (event.notification_id, event.provider, event.provider_reference, event.sent_at) == (
        n.id,
        "sms_gateway",
        "gw-1",
        sent_at,
    )
    assert event.dossier_code == "C-1" and event.trigger_event_type == "DossierReceived" and event.channel == "sms"
    assert n.status == "sent" and n.lease_until is None and n.provider_reference == "gw-1"
    assert statuses(n) == ["pending", "sending", "sent"]


def test_only_a_claimed_notification_can_be_sent() -> None:
    with pytest.raises(InvalidTransition):
        owed().mark_sent(provider="p", provider_reference="r", sent_at=T0)
    n = claimed()
    n.mark_sent(provider="p", provider_reference="r", sent_at=T0)
    with pytest.raises(InvalidTransition):  # the slower of two senders finds it sent already
        n.mark_sent(provider="p", provider_reference="r", sent_at=T0)


def test_deferred_it_goes_back_untried_without_spending_an_attempt() -> None:
    n = claimed()
    until = T0 + timedelta(hours=8)
    assert n.defer(until=until, reason="quiet_hours", at=T0) == []
    assert n.status == "pending" and n.attempts == 0 and n.next_attempt_at == until
    assert n.deferred_reason == "quiet_hours" and n.lease_until is None
    assert n.history[-1].note == "deferred: quiet_hours"
    assert not n.is_due(T0) and n.is_due(until)


def test_a_retryable_failure_is_tried_again_later() -> None:
    n = claimed()
    events = n.attempt_failed(
        provider="sms_gateway",
        error="server_error: 500",
        kind="server_error",
        retryable=True,
        permanent=False,
        retry_after_seconds=None,
        policy=POLICY,
        at=T0,
    )
    assert events == []
    assert n.status == "pending" and n.next_attempt_at == T0 + timedelta(seconds=2)
    assert (n.provider, n.last_error, n.last_error_kind) == ("sms_gateway", "server_error: 500", "server_error")


def test_retries_used_up_end_as_a_technical_failure() -> None:
    n = claimed()
    for _ in range(2):
        n.attempt_failed(
            provider="p", error="e", kind="timeout", retryable=True, permanent=False,
            retry_after_seconds=None, policy=POLICY, at=T0,
        )  # fmt: skip
        n.claim(n.next_attempt_at or T0, LEASE)
    assert n.attempts == 3
    [event] = n.attempt_failed(
        provider="p", error="e", kind="timeout", retryable=True, permanent=False,
        retry_after_seconds=None, policy=POLICY, at=T0,
    )  # fmt: skip
    assert n.status == "technical_failure" and n.is_final
    assert isinstance(event, NotificationFailed) and event.status == "technical_failure" and event.reason == "timeout"


def test_a_retry_outside_the_send_window_is_a_technical_failure() -> None:
    n = claimed()
    late = T0 + timedelta(seconds=POLICY.window_seconds)
    [event] = n.attempt_failed(
        provider="p", error="e", kind="unavailable", retryable=True, permanent=False,
        retry_after_seconds=None, policy=POLICY, at=late,
    )  # fmt: skip
    assert n.status == "technical_failure" and isinstance(event, NotificationFailed)


def test_a_permanent_failure_fails_at_once_and_offers_the_fallback() -> None:
    n = claimed(fallback=Fallback.of(MAIL))
    [event] = n.attempt_failed(
        provider="sms_gateway", error="invalid_phone: 0123", kind="invalid_phone", retryable=False,
        permanent=True, retry_after_seconds=None, policy=POLICY, at=T0,
    )  # fmt: skip
    assert n.status == "failed" and n.attempts == 1 and n.last_error == "invalid_phone: 0123"
    assert isinstance(event, NotificationFailed) and event.status == "failed" and event.reason == "invalid_phone"
    other = n.fallback_notification(T0)
    assert other is not None
    assert other.id == notification_id("event-1", "email", "dao@example.vn")
    assert (other.channel, other.recipient, other.status, other.fallback_of) == (
        "email",
        "dao@example.vn",
        "pending",
        n.id,
    )
    assert other.fallback is None and other.template_key == "received"


def test_no_fallback_without_another_channel() -> None:
    assert claimed().fallback_notification(T0) is None


def test_opted_out_while_owed_or_once_claimed_nothing_is_sent() -> None:
    n = owed()
    assert n.opt_out(T0) == []
    assert n.status == "opted_out" and n.next_attempt_at is None and not n.is_due(T0 + timedelta(days=1))
    c = claimed()
    c.opt_out(T0)
    assert c.status == "opted_out" and c.last_error == "the citizen opted out" and c.provider is None
    with pytest.raises(InvalidTransition):
        c.opt_out(T0)


def test_a_receipt_makes_a_sent_message_delivered_once() -> None:
    n = claimed()
    n.mark_sent(provider="p", provider_reference="r", sent_at=T0)
    at = T0 + timedelta(minutes=1)
    [event] = n.delivered(at)
    assert isinstance(event, NotificationDelivered)
    assert (event.notification_id, event.channel, event.delivered_at) == (n.id, "sms", at)
    assert n.status == "delivered" and n.delivered_at == at and n.is_final
    with pytest.raises(InvalidTransition):
        n.delivered(at)


def test_a_bounce_makes_a_sent_message_undelivered() -> None:
    n = claimed(MAIL)
    n.mark_sent(provider="smtp", provider_reference="<id@motcua>", sent_at=T0)
    [event] = n.undelivered(at=T0, note="550 user unknown", kind="recipient_unknown")
    assert isinstance(event, NotificationFailed) and event.status == "undelivered"
    assert n.status == "undelivered" and n.undelivered_at == T0 and n.history[-1].note == "550 user unknown"


def test_a_receipt_before_it_was_sent_is_refused() -> None:
    n = claimed()
    assert n.awaiting_send
    with pytest.raises(InvalidTransition):
        n.delivered(T0)
