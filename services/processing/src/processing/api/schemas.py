"""The routes' request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from processing.domain.case import Case, Step
from processing.forms import SlipRow

Text = Annotated[str, StringConstraints(min_length=3, max_length=1000, strip_whitespace=True)]


class StepOut(BaseModel):
    position: int
    agency_code: str
    due_at: datetime
    status: str
    assignee: str | None = None
    result: str | None = None
    completed_at: datetime | None = None

    @classmethod
    def of(cls, step: Step) -> StepOut:
        return cls(
            position=step.position,
            agency_code=step.agency_code,
            due_at=step.due_at,
            status=step.status.value,
            assignee=step.assignee,
            result=step.result,
            completed_at=step.completed_at,
        )


class CaseOut(BaseModel):
    code: str
    status: str
    current_step: int
    procedure: dict[str, object]
    deadline_at: datetime
    steps: list[StepOut]

    @classmethod
    def of(cls, case: Case) -> CaseOut:
        return cls(
            code=case.code,
            status=case.status.value,
            current_step=case.current_step,
            procedure=case.procedure,
            deadline_at=case.deadline_at,
            steps=[StepOut.of(s) for s in case.steps],
        )


class QueuePage(BaseModel):
    view: str
    total: int
    items: list[CaseOut]


class SlipRowOut(BaseModel):
    from_unit: str
    to_unit: str
    at: datetime
    result: str | None
    note: str | None

    @classmethod
    def of(cls, row: SlipRow) -> SlipRowOut:
        return cls(from_unit=row.from_unit, to_unit=row.to_unit, at=row.at, result=row.result, note=row.note)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignIn(_In):
    assignee: str = Field(min_length=1, max_length=200, description="The specialist's user id.")


class WorkIn(_In):
    note: Text
    document_ref: str | None = Field(default=None, max_length=500, description="Reference of a result document.")


class ReasonIn(_In):
    reason: Text


class ReasonsIn(_In):
    reasons: list[Text] = Field(min_length=1, max_length=50)


class PaymentIn(_In):
    amount_vnd: int = Field(gt=0, le=10_000_000_000)
    description: Text


class ResolveIn(_In):
    summary: Text


class ApologyIn(_In):
    reason: Text
    new_appointment_at: AwareDatetime = Field(description="With its offset, e.g. 2026-12-20T10:00:00+07:00.")
