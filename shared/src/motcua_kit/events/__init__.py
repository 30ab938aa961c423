"""Versioned event schemas, one module per producing service, and the registry of them all."""

from __future__ import annotations

from motcua_kit.events.base import Envelope, Event
from motcua_kit.events.notify import NotificationSent
from motcua_kit.events.postal import ResultDeliveryPlanned
from motcua_kit.events.processing import CaseOpened
from motcua_kit.events.reception import DossierReceived
from motcua_kit.events.topics import TOPICS, TopicSpec, dead_letter_topic

ALL_EVENTS: tuple[type[Event], ...] = (DossierReceived, CaseOpened, ResultDeliveryPlanned, NotificationSent)

_REGISTRY: dict[tuple[str, int], type[Event]] = {(e.event_type, e.schema_version): e for e in ALL_EVENTS}


def event_class(event_type: str, schema_version: int) -> type[Event] | None:
    return _REGISTRY.get((event_type, schema_version))


__all__ = [
    "ALL_EVENTS",
    "TOPICS",
    "CaseOpened",
    "DossierReceived",
    "Envelope",
    "Event",
    "NotificationSent",
    "ResultDeliveryPlanned",
    "TopicSpec",
    "dead_letter_topic",
    "event_class",
]
