"""Events published by notify on ``notify.notifications``, keyed by dossier code."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from motcua_kit.events.base import DossierEvent
from motcua_kit.events.topics import NOTIFY_NOTIFICATIONS

NotifyChannel = Literal["sms", "email"]


class NotificationSent(DossierEvent):
    """A message was accepted by the provider (not yet delivered to the handset or mailbox)."""

    event_type: ClassVar[str] = "NotificationSent"
    topic: ClassVar[str] = NOTIFY_NOTIFICATIONS

    notification_id: str
    trigger_event_type: str
    channel: NotifyChannel
    provider: str
    provider_reference: str | None = None
    sent_at: datetime


class NotificationDelivered(DossierEvent):
    """The provider confirmed delivery (SMS delivery receipt)."""

    event_type: ClassVar[str] = "NotificationDelivered"
    topic: ClassVar[str] = NOTIFY_NOTIFICATIONS

    notification_id: str
    channel: NotifyChannel
    delivered_at: datetime


class NotificationFailed(DossierEvent):
    """A message could not be sent or delivered."""

    event_type: ClassVar[str] = "NotificationFailed"
    topic: ClassVar[str] = NOTIFY_NOTIFICATIONS

    notification_id: str
    trigger_event_type: str
    channel: NotifyChannel
    status: Literal["failed", "technical_failure", "undelivered"]
    reason: str
    failed_at: datetime
