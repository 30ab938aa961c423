"""Agency routes: work queues, the actions on a case's current step, the audit trail, the forms, the report."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from motcua_kit.values import ReportPeriod
from processing.api.deps import AgencyLeader, AgencyStaff, AgencyWorker, Reporter, UoW, actor
from processing.api.schemas import (
    ApologyIn,
    AssignIn,
    CaseOut,
    PaymentIn,
    QueuePage,
    ReasonIn,
    ReasonsIn,
    ResolveIn,
    SlipRowOut,
    WorkIn,
)
from processing.domain.performance import to_csv
from processing.service import actions, apology, reports, views
from processing.service.views import QUEUES

router = APIRouter(tags=["cases"])


@router.get("/cases/{code}", response_model=CaseOut)
async def get_case(code: str, uow: UoW, viewer: AgencyStaff) -> CaseOut:
    return CaseOut.of(await views.get_case(uow, code=code, viewer=actor(viewer)))


@router.get("/cases/{code}/audit")
async def audit(code: str, uow: UoW, viewer: AgencyStaff) -> list[dict[str, Any]]:
    """Who did what, when, from which role: the immutable trail of the case."""
    rows = await views.audit_trail(uow, code=code, viewer=actor(viewer))
    return [
        {
            "case": r.case,
            "action": r.action,
            "by": r.by,
            "role": r.role,
            "agency": r.agency,
            "at": r.at,
            "details": r.details,
        }
        for r in rows
    ]


@router.get("/queues/{view}", response_model=QueuePage)
async def work_queue(
    view: Annotated[str, Path(pattern="^(" + "|".join(QUEUES) + ")$", description=", ".join(QUEUES))],
    uow: UoW,
    viewer: AgencyWorker,
    due_within_hours: Annotated[float, Query(gt=0, le=400)] = 8.0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> QueuePage:
    """The agency's queue: new, mine (assigned to me), approval (waiting for the leader), due_soon,
    overdue, paused (waiting for a supplement). Oldest deadline first."""
    query = views.QueueQuery(
        viewer=actor(viewer), view=view, due_within_hours=due_within_hours, limit=limit, offset=offset
    )
    total, cases = await views.work_queue(query, uow)
    return QueuePage(view=view, total=total, items=[CaseOut.of(c) for c in cases])


@router.post("/cases/{code}/assign", response_model=CaseOut)
async def assign(code: str, body: AssignIn, uow: UoW, who: AgencyWorker) -> CaseOut:
    """The leader assigns the current step to a specialist."""
    cmd = actions.AssignStep(code=code, actor=actor(who), assignee=body.assignee)
    return CaseOut.of(await actions.assign_step(cmd, uow))


@router.post("/cases/{code}/claim", response_model=CaseOut)
async def claim(code: str, uow: UoW, who: AgencyWorker) -> CaseOut:
    """A specialist takes a new step."""
    return CaseOut.of(await actions.claim_step(actions.ClaimStep(code=code, actor=actor(who)), uow))


@router.post("/cases/{code}/work", response_model=CaseOut)
async def record_work(code: str, body: WorkIn, uow: UoW, who: AgencyWorker) -> CaseOut:
    """The assignee records work done and, if any, a result document reference."""
    cmd = actions.RecordWork(code=code, actor=actor(who), note=body.note, document_ref=body.document_ref)
    return CaseOut.of(await actions.record_work(cmd, uow))


@router.post("/cases/{code}/submit", response_model=CaseOut)
async def submit(code: str, uow: UoW, who: AgencyWorker) -> CaseOut:
    """The assignee submits the step for the leader's approval."""
    return CaseOut.of(await actions.submit_step(actions.SubmitStep(code=code, actor=actor(who)), uow))


@router.post("/cases/{code}/approve", response_model=CaseOut)
async def approve(code: str, uow: UoW, who: AgencyWorker) -> CaseOut:
    return CaseOut.of(await actions.approve_step(actions.ApproveStep(code=code, actor=actor(who)), uow))


@router.post("/cases/{code}/send-back", response_model=CaseOut)
async def send_back(code: str, body: ReasonIn, uow: UoW, who: AgencyWorker) -> CaseOut:
    cmd = actions.SendBack(code=code, actor=actor(who), reason=body.reason)
    return CaseOut.of(await actions.send_back(cmd, uow))


@router.post("/cases/{code}/hand-over", response_model=CaseOut)
async def hand_over(code: str, uow: UoW, who: AgencyWorker) -> CaseOut:
    """Pass the approved step to the next agency of the chain."""
    return CaseOut.of(await actions.hand_over(actions.HandOver(code=code, actor=actor(who)), uow))


@router.post("/cases/{code}/resolve", response_model=CaseOut)
async def resolve(code: str, body: ResolveIn, uow: UoW, who: AgencyWorker) -> CaseOut:
    """Hand the result of the last approved step back to reception."""
    cmd = actions.Resolve(code=code, actor=actor(who), summary=body.summary)
    return CaseOut.of(await actions.resolve(cmd, uow))


@router.post("/cases/{code}/supplement-request", response_model=CaseOut)
async def request_supplement(code: str, body: ReasonsIn, uow: UoW, who: AgencyWorker) -> CaseOut:
    """Ask the citizen for a supplement: the clock pauses until reception records it."""
    cmd = actions.RequestSupplement(code=code, actor=actor(who), reasons=list(body.reasons))
    return CaseOut.of(await actions.request_supplement(cmd, uow))


@router.post("/cases/{code}/payment-request", response_model=CaseOut)
async def request_payment(code: str, body: PaymentIn, uow: UoW, who: AgencyWorker) -> CaseOut:
    cmd = actions.RequestPayment(code=code, actor=actor(who), amount_vnd=body.amount_vnd, description=body.description)
    return CaseOut.of(await actions.request_payment(cmd, uow))


@router.post("/cases/{code}/payment-confirmation", response_model=CaseOut)
async def confirm_payment(code: str, uow: UoW, who: AgencyWorker) -> CaseOut:
    return CaseOut.of(await actions.confirm_payment(actions.ConfirmPayment(code=code, actor=actor(who)), uow))


@router.post("/cases/{code}/stop", response_model=CaseOut)
async def stop(code: str, body: ReasonIn, uow: UoW, who: AgencyWorker) -> CaseOut:
    cmd = actions.StopProcessing(code=code, actor=actor(who), reason=body.reason)
    return CaseOut.of(await actions.stop_processing(cmd, uow))


@router.post("/cases/{code}/apology", response_model=CaseOut)
async def issue_apology(code: str, body: ApologyIn, uow: UoW, leader: AgencyLeader) -> CaseOut:
    """Mẫu 04: apologise and set a new appointment (once per dossier, at least one working day before
    the deadline); the new appointment becomes the deadline everywhere."""
    cmd = apology.IssueApology(
        code=code, actor=actor(leader), reason=body.reason, new_appointment_at=body.new_appointment_at
    )
    return CaseOut.of(await apology.issue_apology(cmd, uow))


@router.get("/cases/{code}/slip", response_model=list[SlipRowOut])
async def process_slip(code: str, uow: UoW, viewer: AgencyStaff) -> list[SlipRowOut]:
    """Mẫu 05: one row per hand-over between units, with the handing unit's result."""
    return [SlipRowOut.of(row) for row in await views.process_slip(uow, code=code, viewer=actor(viewer))]


@router.get("/reports/performance")
async def performance_report(
    uow: UoW,
    viewer: Reporter,
    date_from: date,
    date_to: date,
    by: Annotated[str, Query(pattern="^(agency|field|procedure)$")] = "agency",
    fmt: Annotated[str, Query(alias="format", pattern="^(json|csv)$")] = "json",
) -> Any:
    """Per agency, field or procedure: steps handled early / on time / late, average working time per
    step, current backlog and overdue. Leaders see their agency, auditors all. At most 366 days."""
    period = ReportPeriod.checked(date_from, date_to)
    rows = await reports.performance(reports.PerformanceQuery(viewer=actor(viewer), period=period, by=by), uow)
    if fmt == "csv":
        return Response(
            to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="hieu-qua-{date_from}-{date_to}.csv"'},
        )
    return {"date_from": date_from, "date_to": date_to, "by": by, "rows": [r.as_dict() for r in rows]}


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/cases/{code}/apology.pdf", response_class=Response)
async def apology_pdf(code: str, uow: UoW, viewer: AgencyStaff) -> Response:
    """Mẫu 04, printable A5."""
    content = await apology.apology_document(uow, code=code, viewer=actor(viewer))
    return _pdf(content, f"mau-04-{_ascii(code)}.pdf")


@router.get("/cases/{code}/slip.pdf", response_class=Response)
async def slip_pdf(code: str, uow: UoW, viewer: AgencyStaff) -> Response:
    """Mẫu 05, printable A4."""
    content = await views.process_slip_document(uow, code=code, viewer=actor(viewer))
    return _pdf(content, f"mau-05-{_ascii(code)}.pdf")


def _ascii(code: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in ".-") else "_" for c in code)
