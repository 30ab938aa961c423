"""Events published by reception: dossier life on ``reception.dossiers`` (keyed by dossier code),
catalogue and calendar changes on ``reception.catalogue``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from motcua_kit.events.base import NATIONAL_PORTAL, STATISTICS, DossierEvent, Event
from motcua_kit.events.topics import RECEPTION_CATALOGUE, RECEPTION_DOSSIERS

Channel = Literal[1, 2, 3]
"""Intake channel: 1 counter (trực tiếp), 2 online (trực tuyến), 3 public postal service."""
ReturnChannel = Literal["counter", "post"]
NotifyChannel = Literal["sms", "email"]
Satisfaction = Literal["very_satisfied", "satisfied", "not_satisfied"]


class Applicant(BaseModel):
    full_name: str
    id_number: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None


class ProcedureRef(BaseModel):
    code: str
    name: str
    field: str
    version: int = 1


class ChainStep(BaseModel):
    agency_code: str
    share: float = Field(gt=0, le=1, description="Share of the legal limit given to this step.")
    agency_name: str | None = None


class _DossierFacts(DossierEvent):
    centre_code: str
    centre_name: str
    procedure: ProcedureRef
    intake_channel: Channel
    return_channel: ReturnChannel
    notify_channels: list[NotifyChannel]
    applicant: Applicant
    delivery_address: str | None = None
    lookup_url: str
    pickup_id: str | None = Field(default=None, description="The postal pickup this dossier came from.")


class DossierSubmitted(_DossierFacts):
    """Submitted online or brought by the post (status 1), waiting for a counter officer's decision."""

    event_type: ClassVar[str] = "DossierSubmitted"
    topic: ClassVar[str] = RECEPTION_DOSSIERS

    submitted_at: datetime


class DossierReceived(_DossierFacts):
    """A dossier was received (status 2): receipt issued, the legal clock is running."""

    event_type: ClassVar[str] = "DossierReceived"
    topic: ClassVar[str] = RECEPTION_DOSSIERS

    competent_agency: str
    agency_chain: list[ChainStep]
    received_at: datetime
    clock_started_at: datetime
    appointment_at: datetime
    limit_working_hours: float
    received_by: str
    province_name: str | None = None


class SupplementRequested(DossierEvent):
    """The counter asked the citizen for missing or faulty papers (status 5)."""

    event_type: ClassVar[str] = "SupplementRequested"
    topic: ClassVar[str] = RECEPTION_DOSSIERS

    reasons: list[str]
    requested_at: datetime
    requested_by: str
    clock_paused: bool = Field(description="False when the dossier was not received yet (no clock to pause).")


class SupplementReceived(DossierEvent):
    """The citizen brought the supplement; the clock resumes and the appointment moves by the paused time."""

    event_type: ClassVar[str] = "SupplementReceived"
    topic: ClassVar[str] = RECEPTION_DOSSIERS

    received_at: datetime
    paused_at: datetime | None
    paused_working_hours: float
    appointment_at: datetime | None
    step_position: int | None = Field(default=None, description="The agency step that asked, if an agency did.")
    received_by: str


class DossierRefused(DossierEvent):
    """Refused at intake (status 3), with the reasons printed on Mẫu 03."""

    event_type: ClassVar[str] = "DossierRefused"
    topic: ClassVar[str] = RECEPTION_DOSSIERS

    reasons: list[str]
    refused_at: datetime
    refused_by: str


class DossierWithdrawn(DossierEvent):
    """The citizen withdrew the dossier (status 7)."""

    event_type: ClassVar[str] = "DossierWithdrawn"
    topic: ClassVar[str] = RECEPTION_DOSSIERS

    reason: str
    withdrawn_at: datetime
    recorded_by: str


class ResultReturned(DossierEvent):
    """The result reached the citizen (status 10): at the counter, or delivered by post."""

    event_type: ClassVar[str] = "ResultReturned"
    topic: ClassVar[str] = RECEPTION_DOSSIERS
    outside_readers: ClassVar[tuple[str, ...]] = (NATIONAL_PORTAL,)

    returned_at: datetime
    channel: ReturnChannel
    recorded_by: str


class DossierRated(DossierEvent):
    """The citizen rated the service after the return."""

    event_type: ClassVar[str] = "DossierRated"
    topic: ClassVar[str] = RECEPTION_DOSSIERS
    outside_readers: ClassVar[tuple[str, ...]] = (STATISTICS,)

    overall: Satisfaction
    criteria: dict[str, Satisfaction] = Field(default_factory=dict)
    rated_at: datetime


class ProcedureChanged(Event):
    """A procedure was created, changed or retired; ``version`` grows with every change."""

    event_type: ClassVar[str] = "ProcedureChanged"
    topic: ClassVar[str] = RECEPTION_CATALOGUE

    procedure_code: str
    version: int
    change: Literal["created", "updated", "retired"]
    procedure: dict[str, Any]
    changed_at: datetime

    @property
    def key(self) -> str:
        return self.procedure_code


class CentreChanged(Event):
    """A centre of the province was added or its details changed (name, address, contacts)."""

    event_type: ClassVar[str] = "CentreChanged"
    topic: ClassVar[str] = RECEPTION_CATALOGUE

    centre_code: str
    name: str
    level: Literal["province", "commune"]
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    changed_at: datetime

    @property
    def key(self) -> str:
        return f"centre:{self.centre_code}"


class CalendarChanged(Event):
    """The province's working hours or holiday overrides changed; ``config`` is the whole calendar."""

    event_type: ClassVar[str] = "CalendarChanged"
    topic: ClassVar[str] = RECEPTION_CATALOGUE

    province_code: str
    config: dict[str, Any]
    changed_at: datetime

    @property
    def key(self) -> str:
        return f"calendar:{self.province_code}"
