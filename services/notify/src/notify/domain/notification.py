"""A notification: one message owed to a citizen, and its status machine.

::

    pending --claim--> sending --accepted--> sent --receipt--> delivered | undelivered
       ^  ^               |----retryable----> pending (later)   or technical_failure (window used up)
       |  |               |----permanent----> failed            (optionally: a fallback on the other channel)
       |  +--deferred-----+  (quiet hours, rate limit: no attempt spent)
       +--lease expired---+  (a sender crashed mid-way: claimed again, the provider de-duplicates)
    pending --opted out--> opted_out        sending --opted out--> opted_out

Each transition checks its rule (:class:`InvalidTransition` otherwise), changes the state, writes a
history entry and returns the events to publish. The id is deterministic
(:func:`notify.domain.messages.notification_id`): it is the SMS ``client_ref`` and the e-mail Message-ID,
so a provider recognises a message sent again after a crash. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from motcua_kit.events import Event, NotificationDelivered, NotificationFailed, NotificationSent
from notify.domain.messages import OutgoingMessage, notification_id
from notify.domain.schedule import retry_at
from notify.domain.templates import Channel

Status = Literal["pending", "sending", "sent", "delivered", "undelivered", "failed", "technical_failure", "opted_out"]
FINAL: tuple[Status, ...] = ("delivered", "undelivered", "failed", "technical_failure", "opted_out")
GivenUp = Literal["failed", "technical_failure"]
OPTED_OUT_NOTE = "the citizen opted out"


@dataclass(frozen=True)
class RetryPolicy:
    """How long a retryable failure is tried again: ``max_attempts`` within ``window_seconds`` of being owed,
    with delays growing from ``initial_seconds`` to ``max_seconds``."""

    max_attempts: int
    initial_seconds: float
    max_seconds: float
    window_seconds: float


class InvalidTransition(Exception):
    """The notification is not in a status this transition starts from."""


@dataclass
class HistoryEntry:
    status: str
    at: datetime
    note: str | None = None


@dataclass(frozen=True)
class Fallback:
    """The same message on the other channel, sent only if this one fails for good."""

    channel: Channel
    recipient: str
    subject: str | None
    text: str
    html: str | None
    segments: int | None
    template_version: int | None

    @classmethod
    def of(cls, message: OutgoingMessage) -> Fallback:
        return cls(
            channel=message.channel,
            recipient=message.recipient,
            subject=message.subject,
            text=message.text,
            html=message.html,
            segments=message.segments,
            template_version=message.template_version,
        )


@dataclass
class Notification:
    id: str
    dossier_code: str
    centre_code: str
    trigger_event_id: str
    trigger_event_type: str
    trigger_occurred_at: datetime
    channel: Channel
    recipient: str
    subject: str | None
    text: str
    html: str | None
    created_at: datetime
    template_key: str | None = None
    template_version: int | None = None
    segments: int | None = None
    status: Status = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    provider: str | None = None
    provider_reference: str | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    undelivered_at: datetime | None = None
    last_error: str | None = None
    last_error_kind: str | None = None
    deferred_reason: str | None = None
    fallback: Fallback | None = None
    fallback_of: str | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    version: int = 0

    # --- being owed -----------------------------------------------------------------------------

    @classmethod
    def owed(
        cls,
        message: OutgoingMessage,
        *,
        dossier_code: str,
        centre_code: str,
        trigger_event_id: str,
        trigger_event_type: str,
        trigger_occurred_at: datetime,
        now: datetime,
        fallback: Fallback | None = None,
        fallback_of: str | None = None,
    ) -> Notification:
        """A new ``pending`` notification, due at once; its id follows from the event, channel and recipient."""
        return cls(
            id=notification_id(trigger_event_id, message.channel, message.recipient),
            dossier_code=dossier_code,
            centre_code=centre_code,
            trigger_event_id=trigger_event_id,
            trigger_event_type=trigger_event_type,
            trigger_occurred_at=trigger_occurred_at,
            channel=message.channel,
            recipient=message.recipient,
            subject=message.subject,
            text=message.text,
            html=message.html,
            template_key=message.template_key,
            template_version=message.template_version,
            segments=message.segments,
            created_at=now,
            next_attempt_at=now,
            fallback=fallback,
            fallback_of=fallback_of,
            history=[HistoryEntry("pending", now, f"on {trigger_event_type}")],
        )

    def fallback_notification(self, now: datetime) -> Notification | None:
        """The same message on the other channel (recorded once: its id is deterministic), if there is one."""
        alt = self.fallback
        if alt is None:
            return None
        message = OutgoingMessage(
            channel=alt.channel,
            recipient=alt.recipient,
            subject=alt.subject,
            text=alt.text,
            html=alt.html,
            segments=alt.segments,
            template_key=self.template_key,
            template_version=alt.template_version,
        )
        return Notification.owed(
            message,
            dossier_code=self.dossier_code,
            centre_code=self.centre_code,
            trigger_event_id=self.trigger_event_id,
            trigger_event_type=self.trigger_event_type,
            trigger_occurred_at=self.trigger_occurred_at,
            now=now,
            fallback_of=self.id,
        )

    # --- sending ------------------------------------------------------------------------------

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    def is_due(self, now: datetime) -> bool:
        """Claimable: pending and due, or left ``sending`` by a sender whose lease expired."""
        if self.status == "pending":
            return self.next_attempt_at is not None and self.next_attempt_at <= now
        return self.status == "sending" and self.lease_until is not None and self.lease_until < now

    def claim(self, now: datetime, lease: timedelta) -> list[Event]:
        """A sender takes it for ``lease``; one attempt is spent. (The store does the same atomically.)"""
        if not self.is_due(now):
            raise InvalidTransition(f"{self.id} is {self.status}, not due")
        self.status = "sending"
        self.lease_until = now + lease
        self.attempts += 1
        self._note("sending", now)
        return []

    def defer(self, *, until: datetime, reason: str, at: datetime) -> list[Event]:
        """Back to ``pending`` untried (quiet hours, rate limit, an interrupted send): no attempt spent."""
        self._require("sending")
        self.status = "pending"
        self.next_attempt_at = until
        self.deferred_reason = reason
        self.lease_until = None
        self.attempts -= 1
        self._note("pending", at, f"deferred: {reason}")
        return []

    def retry_later(
        self, *, provider: str, error: str, kind: str, at: datetime, next_attempt_at: datetime
    ) -> list[Event]:
        """A retryable failure: back to ``pending`` for the next attempt."""
        self._require("sending")
        self.status = "pending"
        self.provider = provider
        self.last_error = error
        self.last_error_kind = kind
        self.lease_until = None
        self.next_attempt_at = next_attempt_at
        self._note("pending", at, error)
        return []

    def mark_sent(self, *, provider: str, provider_reference: str, sent_at: datetime) -> list[Event]:
        """The provider accepted it: ``sent``, and :class:`NotificationSent`."""
        self._require("sending")
        self.status = "sent"
        self.provider = provider
        self.provider_reference = provider_reference
        self.sent_at = sent_at
        self.lease_until = None
        self.last_error = None
        self.deferred_reason = None
        self._note("sent", sent_at, provider)
        return [
            NotificationSent(
                dossier_code=self.dossier_code,
                notification_id=self.id,
                trigger_event_type=self.trigger_event_type,
                channel=self.channel,
                provider=provider,
                provider_reference=provider_reference,
                sent_at=sent_at,
            )
        ]

    def give_up(self, status: GivenUp, *, provider: str, error: str, kind: str, at: datetime) -> list[Event]:
        """``failed`` (permanent) or ``technical_failure`` (retries used up), and :class:`NotificationFailed`."""
        self._require("sending")
        self.status = status
        self.provider = provider
        self.last_error = error
        self.lease_until = None
        self._note(status, at, error)
        return [self._failed(status, kind, at)]

    def attempt_failed(
        self,
        *,
        provider: str,
        error: str,
        kind: str,
        retryable: bool,
        permanent: bool,
        retry_after_seconds: float | None,
        policy: RetryPolicy,
        at: datetime,
    ) -> list[Event]:
        """The provider did not take it. A retryable failure goes back to ``pending`` for a later attempt
        while attempts and the send window last, else ends ``technical_failure``; a permanent one ends
        ``failed`` at once."""
        self._require("sending")
        if retryable and self.attempts < policy.max_attempts:
            next_at = retry_at(
                self.attempts,
                now=at,
                owed_at=self.created_at,
                initial_seconds=policy.initial_seconds,
                max_seconds=policy.max_seconds,
                window_seconds=policy.window_seconds,
                retry_after_seconds=retry_after_seconds,
            )
            if next_at is not None:
                return self.retry_later(provider=provider, error=error, kind=kind, at=at, next_attempt_at=next_at)
        status: GivenUp = "failed" if permanent else "technical_failure"
        return self.give_up(status, provider=provider, error=error, kind=kind, at=at)

    def opt_out(self, at: datetime) -> list[Event]:
        """The citizen opted out: nothing is sent (while owed, or once claimed)."""
        if self.status == "pending":
            self.next_attempt_at = None
        else:
            self._require("sending")
            self.provider = None
            self.last_error = OPTED_OUT_NOTE
            self.lease_until = None
        self.status = "opted_out"
        self._note("opted_out", at, OPTED_OUT_NOTE)
        return []

    # --- what became of it --------------------------------------------------------------------

    @property
    def awaiting_send(self) -> bool:
        """Not recorded as sent yet: a receipt for it comes too early."""
        return self.status in ("pending", "sending")

    def delivered(self, at: datetime) -> list[Event]:
        """The provider confirmed delivery: ``delivered``, and :class:`NotificationDelivered`."""
        self._require("sent")
        self.status = "delivered"
        self.delivered_at = at
        self._note("delivered", at)
        return [
            NotificationDelivered(
                dossier_code=self.dossier_code, notification_id=self.id, channel=self.channel, delivered_at=at
            )
        ]

    def undelivered(self, *, at: datetime, note: str, kind: str) -> list[Event]:
        """It did not reach the citizen (receipt failed, bounce): ``undelivered``, and :class:`NotificationFailed`."""
        self._require("sent")
        self.status = "undelivered"
        self.undelivered_at = at
        self._note("undelivered", at, note)
        return [self._failed("undelivered", kind, at)]

    # --- helpers ------------------------------------------------------------------------------

    def _require(self, status: Status) -> None:
        if self.status != status:
            raise InvalidTransition(f"{self.id} is {self.status}, not {status}")

    def _note(self, status: str, at: datetime, note: str | None = None) -> None:
        self.history.append(HistoryEntry(status, at, note))

    def _failed(self, status: Literal["failed", "technical_failure", "undelivered"], kind: str, at: datetime) -> Event:
        return NotificationFailed(
            dossier_code=self.dossier_code,
            notification_id=self.id,
            trigger_event_type=self.trigger_event_type,
            channel=self.channel,
            status=status,
            reason=kind,
            failed_at=at,
        )
