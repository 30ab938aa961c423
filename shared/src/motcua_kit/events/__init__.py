"""Versioned event schemas, one module per producing service, and the registry of them all."""

from __future__ import annotations

from motcua_kit.events.base import NATIONAL_PORTAL, STATISTICS, DossierEvent, Envelope, Event
from motcua_kit.events.notify import NotificationDelivered, NotificationFailed, NotificationSent
from motcua_kit.events.postal import (
    DeliveryAttemptFailed,
    PickupCollected,
    PickupHandedOver,
    PickupRequested,
    ResultDelivered,
    ResultDeliveryPlanned,
    ResultHandedToPost,
    ShipmentCreated,
    ShipmentLate,
    ShipmentReturned,
    ShipmentStatusChanged,
)
from motcua_kit.events.processing import (
    AgencySupplementRequested,
    ApologyIssued,
    CaseHandedOver,
    CaseOpened,
    DeadlineApproaching,
    DossierResolved,
    PaymentConfirmed,
    PaymentRequested,
    ProcessingStopped,
    StepAssigned,
    StepCompleted,
    StepOverdue,
)
from motcua_kit.events.reception import (
    CalendarChanged,
    CentreChanged,
    DossierRated,
    DossierReceived,
    DossierRefused,
    DossierSubmitted,
    DossierWithdrawn,
    ProcedureChanged,
    ResultReturned,
    SupplementReceived,
    SupplementRequested,
)
from motcua_kit.events.topics import TOPICS, TopicSpec, dead_letter_topic

ALL_EVENTS: tuple[type[Event], ...] = (
    # reception
    DossierSubmitted,
    DossierReceived,
    SupplementRequested,
    SupplementReceived,
    DossierRefused,
    DossierWithdrawn,
    ResultReturned,
    DossierRated,
    ProcedureChanged,
    CentreChanged,
    CalendarChanged,
    # processing
    CaseOpened,
    StepAssigned,
    StepCompleted,
    CaseHandedOver,
    AgencySupplementRequested,
    PaymentRequested,
    PaymentConfirmed,
    ApologyIssued,
    DeadlineApproaching,
    StepOverdue,
    ProcessingStopped,
    DossierResolved,
    # postal
    PickupRequested,
    PickupCollected,
    PickupHandedOver,
    ResultDeliveryPlanned,
    ShipmentCreated,
    ResultHandedToPost,
    ShipmentStatusChanged,
    DeliveryAttemptFailed,
    ResultDelivered,
    ShipmentReturned,
    ShipmentLate,
    # notify
    NotificationSent,
    NotificationDelivered,
    NotificationFailed,
)

_REGISTRY: dict[tuple[str, int], type[Event]] = {(e.event_type, e.schema_version): e for e in ALL_EVENTS}


def event_class(event_type: str, schema_version: int) -> type[Event] | None:
    return _REGISTRY.get((event_type, schema_version))


__all__ = [
    "ALL_EVENTS",
    "NATIONAL_PORTAL",
    "STATISTICS",
    "TOPICS",
    "AgencySupplementRequested",
    "ApologyIssued",
    "CalendarChanged",
    "CaseHandedOver",
    "CaseOpened",
    "CentreChanged",
    "DeadlineApproaching",
    "DeliveryAttemptFailed",
    "DossierEvent",
    "DossierRated",
    "DossierReceived",
    "DossierRefused",
    "DossierResolved",
    "DossierSubmitted",
    "DossierWithdrawn",
    "Envelope",
    "Event",
    "NotificationDelivered",
    "NotificationFailed",
    "NotificationSent",
    "PaymentConfirmed",
    "PaymentRequested",
    "PickupCollected",
    "PickupHandedOver",
    "PickupRequested",
    "ProcedureChanged",
    "ProcessingStopped",
    "ResultDelivered",
    "ResultDeliveryPlanned",
    "ResultHandedToPost",
    "ResultReturned",
    "ShipmentCreated",
    "ShipmentLate",
    "ShipmentReturned",
    "ShipmentStatusChanged",
    "StepAssigned",
    "StepCompleted",
    "StepOverdue",
    "SupplementReceived",
    "SupplementRequested",
    "TopicSpec",
    "dead_letter_topic",
    "event_class",
]
