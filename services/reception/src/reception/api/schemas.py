"""Request and response shapes of reception's API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from motcua_kit.values import PhoneNumber, is_mobile
from reception.domain.dossier import ApplicantInfo, DossierDraft, SubmittedDocument

IdNumber = Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
CentreCode = Annotated[str, StringConstraints(pattern=r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")]
Reason = Annotated[str, StringConstraints(min_length=3, max_length=500, strip_whitespace=True)]
Satisfaction = Literal["very_satisfied", "satisfied", "not_satisfied"]


class ApplicantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(min_length=2, max_length=200)
    id_number: IdNumber | None = Field(default=None, description="12-digit citizen ID number (CCCD).")
    phone: PhoneNumber | None = Field(
        default=None,
        description="Vietnamese phone number (0xxxxxxxxx, 84xxxxxxxxx or +84...); kept in the national form.",
    )
    email: Email | None = None
    address: str | None = Field(default=None, max_length=500)


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=500)
    originals: int = Field(default=0, ge=0, le=100)
    copies: int = Field(default=0, ge=0, le=100)

    def document(self) -> SubmittedDocument:
        return SubmittedDocument(self.name, self.originals, self.copies)


class DossierIn(BaseModel):
    """What every intake channel says about a dossier."""

    model_config = ConfigDict(extra="forbid")

    procedure_code: str = Field(min_length=3, max_length=64)
    content: str | None = Field(default=None, max_length=2000, description="What the citizen asks for.")
    applicant: ApplicantIn
    documents: list[DocumentIn] = Field(default_factory=list, max_length=100)
    return_channel: Literal["counter", "post"] = "counter"
    delivery_address: str | None = Field(default=None, max_length=500)
    notify_channels: list[Literal["sms", "email"]] = Field(default_factory=list, max_length=2)

    def draft(self) -> DossierDraft:
        """The intake command's part that every channel shares."""
        a = self.applicant
        return DossierDraft(
            procedure_code=self.procedure_code,
            applicant=ApplicantInfo(a.full_name, a.id_number, a.phone, a.email, a.address),
            documents=tuple(d.document() for d in self.documents),
            content=self.content,
            return_channel=self.return_channel,
            delivery_address=self.delivery_address,
            notify_channels=tuple(self.notify_channels),
        )

    @model_validator(mode="after")
    def _consistent(self) -> DossierIn:
        if self.return_channel == "post" and not (self.delivery_address or self.applicant.address):
            raise ValueError("a result returned by post needs a delivery address")
        if len(set(self.notify_channels)) != len(self.notify_channels):
            raise ValueError("notify_channels lists a channel twice")
        # Landlines are accepted as contacts, but SMS goes to mobiles only, whatever the outcome or channel.
        if "sms" in self.notify_channels and self.applicant.phone and not is_mobile(self.applicant.phone):
            raise ValueError("notification by sms needs a mobile phone number, not a landline")
        return self


class IntakeRequest(DossierIn):
    """A dossier at the counter, with the officer's decision: receive it, ask for a supplement, refuse it."""

    outcome: Literal["receive", "request_supplement", "refuse"] = "receive"
    reasons: list[Reason] = Field(default_factory=list, max_length=50, description="Required unless receiving.")

    @model_validator(mode="after")
    def _reasons(self) -> IntakeRequest:
        if self.outcome != "receive" and not self.reasons:
            raise ValueError(f"outcome {self.outcome} needs at least one reason")
        return self


class OnlineSubmission(DossierIn):
    """A dossier submitted online by the citizen (status 1 until a counter officer decides)."""

    centre_code: CentreCode = Field(description="The centre that will receive the dossier.")


class ReasonsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reasons: list[Reason] = Field(min_length=1, max_length=50)


class SupplementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[DocumentIn] = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=1000)


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient_name: str | None = Field(default=None, max_length=200, description="When not the applicant.")
    note: str | None = Field(default=None, max_length=1000)


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
    submitted_at: datetime | None = None
    received_at: datetime | None = None
    appointment_at: datetime | None = None
    lookup_url: str
    lookup_code: str | None = None
    supplement_requests: list[dict[str, object]] = []
    refusal_reasons: list[str] = []
    history: list[HistoryEntry]


class DossierSummary(BaseModel):
    code: str
    centre_code: str
    status: int
    status_name: str
    procedure_code: str
    procedure_name: str
    applicant_name: str
    received_at: datetime | None
    appointment_at: datetime | None


class DossierPage(BaseModel):
    total: int
    items: list[DossierSummary]


class ImportResultOut(BaseModel):
    centres: int
    agencies: int
    procedures: int
    calendar_overrides: int


class SecondFactor(BaseModel):
    """The dossier code plus one thing printed on the receipt: never the code alone."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=10, max_length=40)
    phone: str | None = Field(default=None, max_length=20)
    id_number: str | None = Field(default=None, max_length=20)
    lookup_code: str | None = Field(default=None, max_length=20)

    @model_validator(mode="after")
    def _one_factor(self) -> SecondFactor:
        if sum(v is not None for v in (self.phone, self.id_number, self.lookup_code)) != 1:
            raise ValueError("give exactly one of phone, id_number or lookup_code with the dossier code")
        return self


class LookupStep(BaseModel):
    at: datetime
    status: int
    status_name: str
    note: str | None


class LookupOut(BaseModel):
    code: str
    procedure_name: str
    centre_name: str
    status: int
    status_name: str
    received_at: datetime | None
    appointment_at: datetime | None
    steps: list[LookupStep]
    expected_from_citizen: str | None


class RatingIn(SecondFactor):
    overall: Satisfaction
    criteria: dict[Literal["time", "attitude", "visits", "guidance", "online"], Satisfaction] = Field(
        default_factory=dict
    )
