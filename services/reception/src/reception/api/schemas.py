"""Request and response shapes of reception's API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

IdNumber = Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
MobilePhone = Annotated[str, StringConstraints(pattern=r"^(0|\+?84)(3|5|7|8|9)\d{8}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class ApplicantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(min_length=2, max_length=200)
    id_number: IdNumber | None = Field(default=None, description="12-digit citizen ID number (CCCD).")
    phone: MobilePhone | None = Field(default=None, description="Vietnamese mobile number, 0xxxxxxxxx or 84xxxxxxxxx.")
    email: Email | None = None
    address: str | None = Field(default=None, max_length=500)


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=500)
    originals: int = Field(default=0, ge=0, le=100)
    copies: int = Field(default=0, ge=0, le=100)


class IntakeRequest(BaseModel):
    """A dossier received at the counter."""

    model_config = ConfigDict(extra="forbid")

    procedure_code: str = Field(min_length=3, max_length=64)
    content: str | None = Field(default=None, max_length=2000, description="What the citizen asks for.")
    applicant: ApplicantIn
    documents: list[DocumentIn] = Field(default_factory=list, max_length=100)
    return_channel: Literal["counter", "post"] = "counter"
    delivery_address: str | None = Field(default=None, max_length=500)
    notify_channels: list[Literal["sms", "email"]] = Field(default_factory=list, max_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> IntakeRequest:
        if self.return_channel == "post" and not (self.delivery_address or self.applicant.address):
            raise ValueError("a result returned by post needs a delivery address")
        if len(set(self.notify_channels)) != len(self.notify_channels):
            raise ValueError("notify_channels lists a channel twice")
        return self


class HistoryEntry(BaseModel):
    status: int
    at: datetime
    by: str
    agency: str
    note: str | None = None


class DossierOut(BaseModel):
    code: str
    centre_code: str
    status: int
    status_name: str
    procedure: dict[str, object]
    applicant: dict[str, object]
    intake_channel: int
    return_channel: str
    notify_channels: list[str]
    received_at: datetime
    appointment_at: datetime
    lookup_url: str
    history: list[HistoryEntry]


class ImportResultOut(BaseModel):
    centres: int
    agencies: int
    procedures: int
    calendar_overrides: int
