"""Notify's consumer groups: thin translations from events to use cases."""

from __future__ import annotations

from datetime import tzinfo
from zoneinfo import ZoneInfo

from motcua_kit.events import DossierEvent, Envelope, Event, event_class
from motcua_kit.events.topics import POSTAL_SHIPMENTS, PROCESSING_CASES, RECEPTION_DOSSIERS
from motcua_kit.runtime import ConsumerSpec
from motcua_kit.uow import UnitOfWork
from notify.domain import rules
from notify.service.recording import RecordNotifications, record_notifications
from notify.store import Repositories

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
TOPICS = (RECEPTION_DOSSIERS, PROCESSING_CASES, POSTAL_SHIPMENTS)


def handled_events() -> list[type[Event]]:
    """The event classes notify reads: those the rules name, plus contact and appointment changes."""
    classes = [event_class(event_type, 1) for event_type in rules.handled_event_types()]
    missing = [t for t, cls in zip(rules.handled_event_types(), classes, strict=True) if cls is None]
    if missing:
        raise ValueError(f"rules name unknown event types: {', '.join(missing)}")
    return [cls for cls in classes if cls is not None]


def consumer_specs(tz: tzinfo | None = None) -> list[ConsumerSpec]:
    """``notify.dossiers``: what reception, processing and postal tell about dossiers. ``tz`` dates the messages."""
    zone = tz or ZoneInfo(DEFAULT_TIMEZONE)

    async def on_dossier_event(event: DossierEvent, uow: UnitOfWork[Repositories], envelope: Envelope) -> None:
        await record_notifications(RecordNotifications.of(event, envelope, zone), uow)

    return [
        ConsumerSpec(name="dossiers", topics=list(TOPICS), handlers=dict.fromkeys(handled_events(), on_dossier_event))
    ]
