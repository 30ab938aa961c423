"""Events published by notify on ``notify.notifications``."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from motcua_kit.events.base import Event
from motcua_kit.events.topics import NOTIFY_NOTIFICATIONS


class NotificationSent(Event):
    """A message was accepted by the provider (not yet delivered to the handset or mailbox)."""

    event_type: ClassVar[str] = "NotificationSent"
    topic: ClassVar[str] = NOTIFY_NOTIFICATIONS

    notification_id: str
    trigger_event_type: str
    channel: Literal["sms", "email"]
    provider: str
    provider_reference: str | None = None
    sent_at: datetime
