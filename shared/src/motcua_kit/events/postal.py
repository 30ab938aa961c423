"""Events published by postal on ``postal.shipments``.

Result deliveries are keyed by dossier code. A home collection happens before the dossier
exists, so its events are keyed by the pickup id; reception's DossierReceived carries that id back.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from motcua_kit.events.base import NATIONAL_PORTAL, STATISTICS, DossierEvent, Event
from motcua_kit.events.reception import Applicant, NotifyChannel, ReturnChannel
from motcua_kit.events.topics import POSTAL_SHIPMENTS

ShipmentStatus = Literal[
    "created", "picked_up", "in_transit", "out_for_delivery", "delivered", "delivery_failed", "returned_to_sender"
]
FailureKind = Literal["recipient_absent", "address_problem", "refused", "other"]
"""Why a delivery attempt failed: an address problem or a refusal is recorded as such, with its reason."""


class PickupEvent(Event):
    pickup_id: str

    @property
    def key(self) -> str:
        return self.pickup_id


class HandedOverDocument(BaseModel):
    name: str
    originals: int = 0
    copies: int = 0


class PickupRequested(PickupEvent):
    """A citizen or an officer asked the post to collect a dossier at home."""

    event_type: ClassVar[str] = "PickupRequested"
    topic: ClassVar[str] = POSTAL_SHIPMENTS
    outside_readers: ClassVar[tuple[str, ...]] = (NATIONAL_PORTAL,)

    centre_code: str
    procedure_code: str
    requested_at: datetime
    window_start: datetime
    window_end: datetime


class PickupCollected(PickupEvent):
    """The postal worker collected and sealed the dossier at the citizen's home."""

    event_type: ClassVar[str] = "PickupCollected"
    topic: ClassVar[str] = POSTAL_SHIPMENTS
    outside_readers: ClassVar[tuple[str, ...]] = (NATIONAL_PORTAL,)

    collected_at: datetime
    tracking_number: str | None = None


class PickupHandedOver(PickupEvent):
    """Both sides signed the hand-over minutes at the centre: reception registers the dossier now."""

    event_type: ClassVar[str] = "PickupHandedOver"
    topic: ClassVar[str] = POSTAL_SHIPMENTS

    centre_code: str
    procedure_code: str
    applicant: Applicant
    documents: list[HandedOverDocument]
    return_channel: ReturnChannel
    delivery_address: str | None = None
    notify_channels: list[NotifyChannel] = Field(default_factory=list)
    content: str | None = None
    handed_over_at: datetime
    officer: str
    postal_worker: str
    fees_collected_vnd: int = 0


class ResultDeliveryPlanned(DossierEvent):
    """The citizen asked for the result by post: postal will ship it once the dossier is resolved."""

    event_type: ClassVar[str] = "ResultDeliveryPlanned"
    topic: ClassVar[str] = POSTAL_SHIPMENTS

    centre_code: str
    destination: str
    planned_at: datetime


class ShipmentCreated(DossierEvent):
    """The carrier accepted the order for the dossier's result."""

    event_type: ClassVar[str] = "ShipmentCreated"
    topic: ClassVar[str] = POSTAL_SHIPMENTS
    outside_readers: ClassVar[tuple[str, ...]] = (NATIONAL_PORTAL,)

    tracking_number: str
    carrier: str
    target_date: date
    created_at: datetime


class ResultHandedToPost(DossierEvent):
    """The centre handed the result to the postal worker; both signed."""

    event_type: ClassVar[str] = "ResultHandedToPost"
    topic: ClassVar[str] = POSTAL_SHIPMENTS

    tracking_number: str
    handed_over_at: datetime
    target_date: date


class ShipmentStatusChanged(DossierEvent):
    """The carrier reported a step of the shipment's life."""

    event_type: ClassVar[str] = "ShipmentStatusChanged"
    topic: ClassVar[str] = POSTAL_SHIPMENTS

    tracking_number: str
    status: ShipmentStatus
    at: datetime
    attempt: int | None = None
    reason: str | None = None
    source: Literal["webhook", "poll", "partner"] = "webhook"


class DeliveryAttemptFailed(DossierEvent):
    """A delivery attempt failed; the next one is at least two working days later."""

    event_type: ClassVar[str] = "DeliveryAttemptFailed"
    topic: ClassVar[str] = POSTAL_SHIPMENTS

    tracking_number: str
    attempt: int
    reason: str
    failed_at: datetime
    next_attempt_after: datetime | None = Field(description="None when no attempt is left: the result goes back.")
    kind: FailureKind = "other"


class ResultDelivered(DossierEvent):
    """The result reached the citizen; the recipient's identity was checked."""

    event_type: ClassVar[str] = "ResultDelivered"
    topic: ClassVar[str] = POSTAL_SHIPMENTS

    tracking_number: str
    delivered_at: datetime
    recipient_checked: bool
    recipient_relation: Literal["self", "authorised"] = "self"
    late: bool = Field(default=False, description="Delivered after the shipment's transit target date.")


class ShipmentReturned(DossierEvent):
    """Undeliverable after the attempts: the result is back at the centre."""

    event_type: ClassVar[str] = "ShipmentReturned"
    topic: ClassVar[str] = POSTAL_SHIPMENTS

    tracking_number: str
    returned_at: datetime
    reason: str
    attempts: int


class ShipmentLate(DossierEvent):
    """The shipment missed its transit target date (J+n) and is not delivered yet."""

    event_type: ClassVar[str] = "ShipmentLate"
    topic: ClassVar[str] = POSTAL_SHIPMENTS
    outside_readers: ClassVar[tuple[str, ...]] = (STATISTICS,)

    tracking_number: str
    target_date: date
    flagged_at: datetime
