"""Request and response shapes of postal's API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from postal.domain.handovers import HandoverMinutes
from postal.domain.shipment import Shipment

Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=9, max_length=20)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
CentreCode = Annotated[str, StringConstraints(pattern=r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")]
FailureKind = Literal["recipient_absent", "address_problem", "refused", "other"]
CarrierStatus = Literal[
    "picked_up", "in_transit", "out_for_delivery", "delivered", "delivery_failed", "returned_to_sender"
]


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    street: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300)] = Field(
        description="House number and street, hamlet or village."
    )
    commune: Place = Field(description="Phường, xã or đặc khu, e.g. 'phường Nha Trang'.")
    province: Place = Field(description="Tỉnh or thành phố, e.g. 'tỉnh Khánh Hòa'.")


class PickupApplicantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: Name
    id_number: Annotated[str, StringConstraints(pattern=r"^\d{12}$")] | None = None
    phone: Phone | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)] | None = None


class PickupIn(BaseModel):
    """A request to collect a dossier at the citizen's home."""

    model_config = ConfigDict(extra="forbid")

    centre_code: CentreCode = Field(description="The centre the dossier goes to.")
    procedure_code: str = Field(min_length=3, max_length=64)
    applicant: PickupApplicantIn
    address: AddressIn = Field(description="Where the postal worker collects the dossier.")
    window_start: datetime
    window_end: datetime
    contact_phone: Phone = Field(description="Who the postal worker calls before coming.")
    return_channel: Literal["counter", "post"] = "post"
    delivery_address: str | None = Field(
        default=None, max_length=500, description="Defaults to the collection address."
    )
    notify_channels: list[Literal["sms", "email"]] = Field(default_factory=lambda: ["sms"], max_length=2)  # type: ignore[arg-type]
    content: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=500, description="For the postal worker.")


class TaskOut(BaseModel):
    kind: str
    due_at: datetime
    attempts: int
    last_error: str | None = None
    stuck: bool = False


class ProblemOut(BaseModel):
    kind: str
    reason: str
    at: datetime | None = None


class HistoryOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: str
    at: datetime
    source: str
    attempt: int | None = None
    reason: str | None = None
    kind: str | None = None


class ShipmentOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    purpose: Literal["delivery", "pickup"]
    dossier_code: str | None = None
    pickup_id: str | None = None
    centre_code: str
    carrier: str
    status: str
    tracking_number: str | None = None
    target_date: str | None = None
    late: bool = False
    failures: int = 0
    next_attempt_after: datetime | None = None
    handover_id: str | None = None
    handed_over_at: datetime | None = None
    problem: ProblemOut | None = None
    task: TaskOut | None = None
    delivered: dict[str, Any] | None = None
    returned: dict[str, Any] | None = None
    pickup: dict[str, Any] | None = Field(default=None, description="The collection request (pickups only).")
    history: list[HistoryOut] = []

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentOut:
        return cls.model_validate(shipment.as_dict())


class RecipientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500)] = Field(
        description="'<house and street>, <commune>, <province>'"
    )
    phone: Phone | None = None
    name: Name | None = None


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=500)
    originals: int = Field(default=0, ge=0, le=100)
    copies: int = Field(default=0, ge=0, le=100)


class PickupItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pickup_id: str = Field(min_length=4, max_length=40)
    documents: list[DocumentIn] = Field(min_length=1, max_length=100, description="The papers counted together.")
    fees_collected_vnd: int = Field(default=0, ge=0)


class HandoverIn(BaseModel):
    """Hand-over minutes prepared by one side, to be confirmed by the other."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["result", "pickup"]
    centre_code: CentreCode | None = Field(default=None, description="Required for the postal partner.")
    tracking_numbers: list[str] = Field(default_factory=list, max_length=500, description="Results handed to the post.")
    pickups: list[PickupItemIn] = Field(
        default_factory=list, max_length=500, description="Collected dossiers handed in."
    )
    signer_name: Name | None = Field(default=None, description="The signer's name as printed on the minutes.")
    note: str | None = Field(default=None, max_length=1000)


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signer_name: Name | None = None


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class HandoverOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    kind: str
    centre_code: str
    status: str
    items: list[dict[str, Any]]
    prepared_by: dict[str, Any]
    prepared_at: datetime
    confirmed_by: dict[str, Any] | None = None
    confirmed_at: datetime | None = None
    reject_reason: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, minutes: HandoverMinutes) -> HandoverOut:
        return cls.model_validate(minutes.as_dict())


class ProofIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient_name: Name
    relation: Literal["self", "authorised"] = "self"
    id_checked: bool
    id_document: Literal["CCCD", "passport", "authorisation"] | None = None


class PartnerReportIn(BaseModel):
    """A step the postal partner reports itself, where the carrier has no webhook."""

    model_config = ConfigDict(extra="forbid")

    report_id: str = Field(min_length=8, max_length=64, description="Unique per report: a repeat changes nothing.")
    status: CarrierStatus
    at: datetime
    attempt: int | None = Field(default=None, ge=1, le=10)
    reason: str | None = Field(default=None, max_length=500)
    failure_kind: FailureKind | None = None
    proof: ProofIn | None = Field(
        default=None, description="Required when delivered: how the recipient was identified."
    )


class OutcomeOut(BaseModel):
    outcome: Literal["accepted", "duplicate", "stale"]


class ManifestOut(BaseModel):
    results_to_take: list[ShipmentOut]
    collections_to_receive: list[ShipmentOut]


class PartnerDayOut(BaseModel):
    date: str
    collections: list[ShipmentOut]
    results_to_take: list[ShipmentOut]
    deliveries: list[ShipmentOut]
