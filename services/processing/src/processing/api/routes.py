"""Agency routes: work queues, the actions on a case's current step, the audit trail."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from motcua_kit.auth import Principal, Role, require_roles
from motcua_kit.web import Runtime
from processing import clock, service

router = APIRouter(tags=["cases"])

AgencyStaff = Annotated[Principal, require_roles(Role.AGENCY_OFFICER, Role.AGENCY_LEADER, Role.AUDITOR)]
AgencyWorker = Annotated[Principal, require_roles(Role.AGENCY_OFFICER, Role.AGENCY_LEADER)]
Text = Annotated[str, StringConstraints(min_length=3, max_length=1000, strip_whitespace=True)]


class StepOut(BaseModel):
    position: int
    agency_code: str
    due_at: datetime
    status: str
    assignee: str | None = None
    result: str | None = None
    completed_at: datetime | None = None


class CaseOut(BaseModel):
    code: str
    status: str
    current_step: int
    procedure: dict[str, object]
    deadline_at: datetime
    steps: list[StepOut]


class QueuePage(BaseModel):
    view: str
    total: int
    items: list[CaseOut]


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


def _out(case: dict[str, Any]) -> CaseOut:
    return CaseOut.model_validate({**case, "code": case["_id"]})


@router.get("/cases/{code}", response_model=CaseOut)
async def get_case(code: str, rt: Runtime, viewer: AgencyStaff) -> CaseOut:
    return _out(await service.get_case(rt.db, code=code, viewer=viewer))


@router.get("/cases/{code}/audit")
async def audit(code: str, rt: Runtime, viewer: AgencyStaff) -> list[dict[str, Any]]:
    """Who did what, when, from which role: the immutable trail of the case."""
    rows = await service.audit_trail(rt.db, code=code, viewer=viewer)
    return [{k: v for k, v in row.items() if k != "_id"} for row in rows]


@router.get("/queues/{view}", response_model=QueuePage)
async def work_queue(
    view: Annotated[str, Path(pattern="^(" + "|".join(service.QUEUES) + ")$", description=", ".join(service.QUEUES))],
    rt: Runtime,
    viewer: AgencyWorker,
    due_within_hours: Annotated[float, Query(gt=0, le=400)] = 8.0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> QueuePage:
    """The agency's queue: new, mine (assigned to me), approval (waiting for the leader), due_soon,
    overdue, paused (waiting for a supplement). Oldest deadline first."""
    total, cases = await service.queue(
        rt.db, viewer=viewer, view=view, due_within_hours=due_within_hours, limit=limit, offset=offset
    )
    return QueuePage(view=view, total=total, items=[_out(c) for c in cases])


async def _act(rt: Any, actor: Principal, code: str, action: str, params: dict[str, Any] | None = None) -> CaseOut:
    return _out(await service.act(rt.uow, actor=actor, code=code, action=action, params=params))


@router.post("/cases/{code}/assign", response_model=CaseOut)
async def assign(code: str, body: AssignIn, rt: Runtime, actor: AgencyWorker) -> CaseOut:
    """The leader assigns the current step to a specialist."""
    return await _act(rt, actor, code, "assign", body.model_dump())


@router.post("/cases/{code}/claim", response_model=CaseOut)
async def claim(code: str, rt: Runtime, actor: AgencyWorker) -> CaseOut:
    """A specialist takes a new step."""
    return await _act(rt, actor, code, "claim")


@router.post("/cases/{code}/work", response_model=CaseOut)
async def record_work(code: str, body: WorkIn, rt: Runtime, actor: AgencyWorker) -> CaseOut:
    """The assignee records work done and, if any, a result document reference."""
    return await _act(rt, actor, code, "record_work", body.model_dump())


@router.post("/cases/{code}/submit", response_model=CaseOut)
async def submit(code: str, rt: Runtime, actor: AgencyWorker) -> CaseOut:
    """The assignee submits the step for the leader's approval."""
    return await _act(rt, actor, code, "submit")


@router.post("/cases/{code}/approve", response_model=CaseOut)
async def approve(code: str, rt: Runtime, actor: AgencyWorker) -> CaseOut:
    return await _act(rt, actor, code, "approve")


@router.post("/cases/{code}/send-back", response_model=CaseOut)
async def send_back(code: str, body: ReasonIn, rt: Runtime, actor: AgencyWorker) -> CaseOut:
    return await _act(rt, actor, code, "send_back", body.model_dump())


@router.post("/cases/{code}/hand-over", response_model=CaseOut)
async def hand_over(code: str, rt: Runtime, actor: AgencyWorker) -> CaseOut:
    """Pass the approved step to the next agency of the chain."""
    return await _act(rt, actor, code, "hand_over")


@router.post("/cases/{code}/resolve", response_model=CaseOut)
async def resolve(code: str, body: ResolveIn, rt: Runtime, actor: AgencyWorker) -> CaseOut:
    """Hand the result of the last approved step back to reception."""
    return await _act(rt, actor, code, "resolve", body.model_dump())


@router.post("/cases/{code}/supplement-request", response_model=CaseOut)
async def request_supplement(code: str, body: ReasonsIn, rt: Runtime, actor: AgencyWorker) -> CaseOut:
    """Ask the citizen for a supplement: the clock pauses until reception records it."""
    return await _act(rt, actor, code, "request_supplement", body.model_dump())


@router.post("/cases/{code}/payment-request", response_model=CaseOut)
async def request_payment(code: str, body: PaymentIn, rt: Runtime, actor: AgencyWorker) -> CaseOut:
    return await _act(rt, actor, code, "request_payment", body.model_dump())


@router.post("/cases/{code}/payment-confirmation", response_model=CaseOut)
async def confirm_payment(code: str, rt: Runtime, actor: AgencyWorker) -> CaseOut:
    return await _act(rt, actor, code, "confirm_payment")


@router.post("/cases/{code}/stop", response_model=CaseOut)
async def stop(code: str, body: ReasonIn, rt: Runtime, actor: AgencyWorker) -> CaseOut:
    return await _act(rt, actor, code, "stop", body.model_dump())


class ApologyIn(_In):
    reason: Text
    new_appointment_at: datetime


class SlipRow(BaseModel):
    from_unit: str
    to_unit: str
    at: datetime
    result: str | None
    note: str | None


AgencyLeader = Annotated[Principal, require_roles(Role.AGENCY_LEADER)]


@router.post("/cases/{code}/apology", response_model=CaseOut)
async def issue_apology(code: str, body: ApologyIn, rt: Runtime, leader: AgencyLeader) -> CaseOut:
    """Mẫu 04: apologise and set a new appointment (once per dossier, at least one working day before
    the deadline); the new appointment becomes the deadline everywhere."""
    case = await clock.issue_apology(
        rt.uow, leader=leader, code=code, reason=body.reason, new_appointment_at=body.new_appointment_at
    )
    return _out(case)


@router.get("/cases/{code}/slip", response_model=list[SlipRow])
async def process_slip(code: str, rt: Runtime, viewer: AgencyStaff) -> list[SlipRow]:
    """Mẫu 05: one row per hand-over between units, with the handing unit's result."""
    case = await service.get_case(rt.db, code=code, viewer=viewer)
    return [SlipRow.model_validate(row) for row in clock.slip_rows(case)]


@router.get("/reports/performance")
async def performance_report(
    rt: Runtime,
    viewer: Annotated[Principal, require_roles(Role.AGENCY_LEADER, Role.AUDITOR)],
    date_from: date,
    date_to: date,
    by: Annotated[str, Query(pattern="^(agency|field|procedure)$")] = "agency",
    fmt: Annotated[str, Query(alias="format", pattern="^(json|csv)$")] = "json",
) -> Any:
    """Per agency, field or procedure: steps handled early / on time / late, average working time per
    step, current backlog and overdue. Leaders see their agency, auditors all."""
    from fastapi.responses import Response

    from motcua_kit.errors import Invalid
    from processing.domain.performance import to_csv

    if date_from > date_to:
        raise Invalid(f"the period starts ({date_from}) after it ends ({date_to})", code="period_reversed")
    if (date_to - date_from).days > 366:
        raise Invalid("the period may cover at most 366 days", code="period_too_long")
    calendar = await service.load_calendar(rt.db)
    start = datetime.combine(date_from, time.min, calendar.zone)
    end = datetime.combine(date_to, time.max, calendar.zone)
    rows = await service.performance(rt.db, viewer=viewer, start=start, end=end, by=by)
    if fmt == "csv":
        return Response(
            to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="hieu-qua-{date_from}-{date_to}.csv"'},
        )
    return {"date_from": date_from, "date_to": date_to, "by": by, "rows": [r.as_dict() for r in rows]}


def _pdf(content: bytes, filename: str) -> Any:
    from fastapi.responses import Response

    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/cases/{code}/apology.pdf", response_class=Response)
async def apology_pdf(code: str, rt: Runtime, viewer: AgencyStaff) -> Any:
    """Mẫu 04, printable A5."""
    return _pdf(await clock.apology_pdf(rt.db, code=code, viewer=viewer), f"mau-04-{_ascii(code)}.pdf")


@router.get("/cases/{code}/slip.pdf", response_class=Response)
async def slip_pdf(code: str, rt: Runtime, viewer: AgencyStaff) -> Any:
    """Mẫu 05, printable A4."""
    return _pdf(await clock.slip_pdf(rt.db, code=code, viewer=viewer), f"mau-05-{_ascii(code)}.pdf")


def _ascii(code: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in ".-") else "_" for c in code)
