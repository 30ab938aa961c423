"""Events published by reception on ``reception.dossiers``."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from motcua_kit.events.base import Event
from motcua_kit.events.topics import RECEPTION_DOSSIERS

Channel = Literal[1, 2, 3]
"""Intake channel: 1 counter (trực tiếp), 2 online (trực tuyến), 3 public postal service."""
ReturnChannel = Literal["counter", "post"]
NotifyChannel = Literal["sms", "email"]


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


class DossierReceived(Event):
    """A dossier was received (status 2): receipt issued, the legal clock is running."""

    event_type: ClassVar[str] = "DossierReceived"
    topic: ClassVar[str] = RECEPTION_DOSSIERS

    centre_code: str
    centre_name: str
    procedure: ProcedureRef
    competent_agency: str
    agency_chain: list[ChainStep]
    intake_channel: Channel
    return_channel: ReturnChannel
    notify_channels: list[NotifyChannel]
    applicant: Applicant
    delivery_address: str | None = None
    received_at: datetime
    clock_started_at: datetime
    appointment_at: datetime
    limit_working_hours: float
    lookup_url: str
    received_by: str
