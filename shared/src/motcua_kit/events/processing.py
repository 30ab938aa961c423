"""Events published by processing on ``processing.cases``, keyed by dossier code."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel

from motcua_kit.events.base import NATIONAL_PORTAL, STATISTICS, DossierEvent
from motcua_kit.events.topics import PROCESSING_CASES

StepResult = Literal["early", "on_time", "late"]


class CaseStep(BaseModel):
    position: int
    agency_code: str
    due_at: datetime


class CaseOpened(DossierEvent):
    """Processing opened a case for the dossier, one step per agency of the chain."""

    event_type: ClassVar[str] = "CaseOpened"
    topic: ClassVar[str] = PROCESSING_CASES

    steps: list[CaseStep]
    deadline_at: datetime


class StepAssigned(DossierEvent):
    """A leader assigned the step, or a specialist claimed it."""

    event_type: ClassVar[str] = "StepAssigned"
    topic: ClassVar[str] = PROCESSING_CASES

    position: int
    agency_code: str
    assignee: str
    assigned_by: str
    assigned_at: datetime


class StepCompleted(DossierEvent):
    """An agency finished its step (approved by its leader)."""

    event_type: ClassVar[str] = "StepCompleted"
    topic: ClassVar[str] = PROCESSING_CASES

    position: int
    agency_code: str
    completed_at: datetime
    completed_by: str
    result: StepResult


class CaseHandedOver(DossierEvent):
    """The dossier passed from one agency of the chain to the next (a row of Mẫu 05)."""

    event_type: ClassVar[str] = "CaseHandedOver"
    topic: ClassVar[str] = PROCESSING_CASES

    from_position: int
    from_agency: str
    to_position: int
    to_agency: str
    handed_over_at: datetime
    handed_over_by: str


class AgencySupplementRequested(DossierEvent):
    """An agency asked for a supplement: the clock pauses until the citizen brings it."""

    event_type: ClassVar[str] = "AgencySupplementRequested"
    topic: ClassVar[str] = PROCESSING_CASES

    position: int
    agency_code: str
    reasons: list[str]
    requested_at: datetime
    requested_by: str


class PaymentRequested(DossierEvent):
    """Fees or taxes to be paid (status 6)."""

    event_type: ClassVar[str] = "PaymentRequested"
    topic: ClassVar[str] = PROCESSING_CASES

    agency_code: str
    amount_vnd: int
    description: str
    requested_at: datetime


class PaymentConfirmed(DossierEvent):
    """The payment arrived; processing resumes."""

    event_type: ClassVar[str] = "PaymentConfirmed"
    topic: ClassVar[str] = PROCESSING_CASES

    agency_code: str
    confirmed_at: datetime


class ApologyIssued(DossierEvent):
    """Mẫu 04: the agency will be late; the new appointment becomes the deadline everywhere."""

    event_type: ClassVar[str] = "ApologyIssued"
    topic: ClassVar[str] = PROCESSING_CASES

    agency_code: str
    previous_appointment_at: datetime
    new_appointment_at: datetime
    reason: str
    issued_at: datetime
    issued_by: str


class DeadlineApproaching(DossierEvent):
    """A step or the dossier will be late within the configured working time."""

    event_type: ClassVar[str] = "DeadlineApproaching"
    topic: ClassVar[str] = PROCESSING_CASES
    outside_readers: ClassVar[tuple[str, ...]] = (NATIONAL_PORTAL,)

    position: int | None
    agency_code: str
    due_at: datetime


class StepOverdue(DossierEvent):
    """A step passed its deadline unfinished."""

    event_type: ClassVar[str] = "StepOverdue"
    topic: ClassVar[str] = PROCESSING_CASES
    outside_readers: ClassVar[tuple[str, ...]] = (NATIONAL_PORTAL, STATISTICS)

    position: int
    agency_code: str
    due_at: datetime


class ProcessingStopped(DossierEvent):
    """Processing stopped (status 8), with the reason."""

    event_type: ClassVar[str] = "ProcessingStopped"
    topic: ClassVar[str] = PROCESSING_CASES

    agency_code: str
    reason: str
    stopped_at: datetime
    stopped_by: str


class DossierResolved(DossierEvent):
    """The last agency handed the result back to reception (status 9)."""

    event_type: ClassVar[str] = "DossierResolved"
    topic: ClassVar[str] = PROCESSING_CASES

    agency_code: str
    resolved_at: datetime
    resolved_by: str
    result_summary: str
    result_document_ref: str | None = None
