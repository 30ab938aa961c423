"""The legal clock: alerts before a deadline is missed and when it was, and the apology (Mẫu 04).

The scan runs in every worker replica. Each alert is claimed by adding its key to the case's
``alerts`` inside the transaction that publishes it, so two replicas scanning at once publish it
once: the second one's conditional update matches nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.auth import Principal
from motcua_kit.errors import Conflict, Forbidden, Invalid, NotFound
from motcua_kit.events import ApologyIssued, DeadlineApproaching, StepOverdue
from motcua_kit.logs import get_logger
from motcua_kit.mongo import Document
from processing import metrics, store
from processing.domain.workflow import CaseStatus, StepStatus
from processing.forms import Agency, Apology, Handover, ProcessSlip
from processing.forms import apology_pdf as render_apology
from processing.forms import process_slip_pdf as render_slip
from processing.service import NewUow, Tx, get_case, load_calendar, run_in_tx

log = get_logger(__name__)
WORKING = [StepStatus.NEW.value, StepStatus.ASSIGNED.value, StepStatus.SUBMITTED.value, StepStatus.APPROVED.value]


async def scan(uow: NewUow, *, warn_working_hours: float, now: datetime | None = None) -> int:
    """Publishes each due alert once; returns how many this call published."""
    at = now or datetime.now(UTC)
    calendar = await load_calendar(uow().db)
    horizon = calendar.add_working_time(at, timedelta(hours=warn_working_hours)).astimezone(UTC)
    published = 0
    open_cases = {"status": CaseStatus.OPEN.value, "current.status": {"$in": WORKING}}
    cursor = (
        uow()
        .db[store.CASES]
        .find(
            {**open_cases, "$or": [{"current.due_at": {"$lte": horizon}}, {"deadline_at": {"$lte": horizon}}]},
            {"current": 1, "deadline_at": 1, "alerts": 1},
        )
    )
    async for case in cursor:
        for key, event in _due_alerts(case, at, horizon):
            if await run_in_tx(uow, lambda tx, k=key, e=event, c=case["_id"]: _claim_and_publish(tx, c, k, e)):
                published += 1
    await _refresh_gauges(uow().db, at)
    return published


def _due_alerts(case: Document, at: datetime, horizon: datetime) -> list[tuple[str, Any]]:
    current, alerts, code = case["current"], set(case.get("alerts") or []), case["_id"]
    due = current["due_at"]
    pos, agency = current["position"], current["agency_code"]
    found: list[tuple[str, Any]] = []
    if due < at and f"overdue:{pos}" not in alerts:
        found.append((f"overdue:{pos}", StepOverdue(dossier_code=code, position=pos, agency_code=agency, due_at=due)))
    elif at <= due <= horizon and f"approaching:{pos}" not in alerts:
        found.append(
            (f"approaching:{pos}", DeadlineApproaching(dossier_code=code, position=pos, agency_code=agency, due_at=due))
        )
    deadline = case["deadline_at"]
    if at <= deadline <= horizon and "approaching:case" not in alerts:
        found.append(
            (
                "approaching:case",
                DeadlineApproaching(dossier_code=code, position=None, agency_code=agency, due_at=deadline),
            )
        )
    return found


async def _claim_and_publish(tx: Tx, code: str, key: str, event: Any) -> bool:
    claimed = await tx.db[store.CASES].update_one(
        {"_id": code, "alerts": {"$ne": key}}, {"$push": {"alerts": key}}, session=tx.session
    )
    if claimed.modified_count != 1:
        return False  # another replica published it
    tx.publish(event)
    metrics.record_alert(event.event_type)
    return True


async def _refresh_gauges(db: AsyncDatabase[Document], at: datetime) -> None:
    open_by_agency: dict[str, int] = {}
    overdue_by_agency: dict[str, int] = {}
    cursor = db[store.CASES].find(
        {"status": {"$in": [CaseStatus.OPEN.value, CaseStatus.PAUSED.value, CaseStatus.AWAITING_PAYMENT.value]}},
        {"current": 1},
    )
    async for case in cursor:
        agency = case["current"]["agency_code"]
        open_by_agency[agency] = open_by_agency.get(agency, 0) + 1
        if case["current"]["due_at"] < at:
            overdue_by_agency[agency] = overdue_by_agency.get(agency, 0) + 1
    metrics.set_open_steps(open_by_agency, overdue_by_agency)


async def clock_loop(uow: NewUow, *, interval_seconds: float, warn_working_hours: float) -> None:
    import asyncio

    while True:
        try:
            published = await scan(uow, warn_working_hours=warn_working_hours)
            if published:
                log.info("deadline alerts published", count=published)
        except Exception as exc:  # the next scan tries again
            log.warning("deadline scan failed", error=repr(exc))
        await asyncio.sleep(interval_seconds)


# --- apology (Mẫu 04) --------------------------------------------------------------------------------


async def issue_apology(
    uow: NewUow,
    *,
    leader: Principal,
    code: str,
    reason: str,
    new_appointment_at: datetime,
    now: datetime | None = None,
) -> Document:
    """At most once per dossier, by a leader of the agency holding it, at the latest one working day
    before the deadline; the new appointment becomes the deadline everywhere (ApologyIssued)."""
    at = now or datetime.now(UTC)
    calendar = await load_calendar(uow().db)

    async def work(tx: Tx) -> Document:
        case = await tx.db[store.CASES].find_one({"_id": code}, session=tx.session)
        if case is None or not any(s["agency_code"] == leader.scope for s in case["steps"]):
            raise NotFound(f"no case {code} for your agency")
        if case["current"]["agency_code"] != leader.scope:
            raise Forbidden(f"the dossier is at agency {case['current']['agency_code']}: its leader apologises")
        if case["apology"] is not None:
            raise Conflict("an apology was already issued for this dossier (at most once)", code="apology_exists")
        if case["status"] not in (CaseStatus.OPEN, CaseStatus.AWAITING_PAYMENT):
            raise Conflict(f"cannot apologise for a case that is {case['status']}", code="illegal_transition")
        deadline = case["deadline_at"]
        latest = calendar.add_working_time(at, timedelta(hours=calendar.working_day_length.total_seconds() / 3600))
        if latest > deadline:
            raise Conflict(
                "too late: the apology must be issued at least one working day before the deadline "
                f"({deadline.astimezone(calendar.zone):%H:%M %d/%m/%Y})",
                code="apology_too_late",
            )
        if new_appointment_at <= deadline:
            raise Invalid("the new appointment must be after the current one")
        case["apology"] = {
            "issued_at": at,
            "issued_by": leader.subject,
            "agency_code": leader.scope,
            "reason": reason,
            "previous_appointment_at": deadline,
            "new_appointment_at": new_appointment_at,
        }
        case["deadline_at"] = new_appointment_at
        case["steps"][-1]["due_at"] = new_appointment_at
        if case["current"]["position"] == len(case["steps"]):
            case["current"]["due_at"] = new_appointment_at
        case["history"].append(
            {"action": "apology", "at": at, "by": leader.subject, "agency": leader.scope, "details": {"reason": reason}}
        )
        await tx.db[store.CASES].replace_one({"_id": code}, case, session=tx.session)
        await tx.db[store.AUDIT].insert_one(
            {
                "_id": f"{code}:apology",
                "case": code,
                "action": "apology",
                "by": leader.subject,
                "role": leader.role.value,
                "agency": leader.scope,
                "at": at,
                "details": {"reason": reason},
            },
            session=tx.session,
        )
        tx.publish(
            ApologyIssued(
                dossier_code=code,
                agency_code=leader.scope,
                previous_appointment_at=deadline,
                new_appointment_at=new_appointment_at,
                reason=reason,
                issued_at=at,
                issued_by=leader.subject,
            )
        )
        return case

    return await run_in_tx(uow, work)


# --- process-control slip (Mẫu 05) -------------------------------------------------------------------


def slip_rows(case: Document) -> list[dict[str, Any]]:
    """One row per hand-over between units: the one-stop desk to the first agency, agency to agency,
    the last agency back to the desk; each with the handing unit's result."""
    steps = case["steps"]
    rows = [
        {
            "from_unit": f"Bộ phận một cửa - {case.get('centre_name') or case['centre_code']}",
            "to_unit": steps[0]["agency_code"],
            "at": case["received_at"],
            "result": None,
            "note": "Tiếp nhận và chuyển hồ sơ",
        }
    ]
    moves = [h for h in case["history"] if h["action"] in ("hand_over", "resolve")]
    for step, move in zip(steps, moves, strict=False):
        last = step["position"] == len(steps)
        rows.append(
            {
                "from_unit": step["agency_code"],
                "to_unit": (
                    f"Bộ phận một cửa - {case.get('centre_name') or case['centre_code']}"
                    if last
                    else steps[step["position"]]["agency_code"]
                ),
                "at": move["at"],
                "result": step["result"],
                "note": "Trả kết quả" if last else "Chuyển xử lý liên thông",
            }
        )
    return rows


def _unit(step: dict[str, Any]) -> str:
    return str(step.get("agency_name") or step["agency_code"])


def _agency(case: Document, code: str) -> Agency:
    step = next((s for s in case["steps"] if s["agency_code"] == code), case["steps"][0])
    return Agency(
        code=step["agency_code"],
        name=_unit(step),
        province_name=case.get("province_name") or case.get("centre_name") or case["centre_code"],
    )


async def apology_pdf(db: AsyncDatabase[Document], *, code: str, viewer: Principal) -> bytes:
    """Mẫu 04 of an issued apology."""
    case = await get_case(db, code=code, viewer=viewer)
    apology = case.get("apology")
    if not apology:
        raise Conflict("no apology was issued for this dossier", code="no_apology")
    calendar = await load_calendar(db)
    form = Apology(
        agency=_agency(case, apology["agency_code"]),
        applicant_name=case.get("applicant_name") or "Ông/Bà",
        dossier_code=code,
        procedure_name=case["procedure"]["name"],
        received_at=case["received_at"],
        original_appointment_at=apology["previous_appointment_at"],
        reason=apology["reason"],
        new_appointment_at=apology["new_appointment_at"],
        issued_at=apology["issued_at"],
    )
    return render_apology(form, tz=calendar.zone)


async def slip_pdf(db: AsyncDatabase[Document], *, code: str, viewer: Principal) -> bytes:
    """Mẫu 05 of the case so far."""
    case = await get_case(db, code=code, viewer=viewer)
    calendar = await load_calendar(db)
    form = ProcessSlip(
        agency=_agency(case, case["competent_agency"]),
        dossier_code=code,
        procedure_name=case["procedure"]["name"],
        applicant_name=case.get("applicant_name") or "Ông/Bà",
        received_at=case["received_at"],
        appointment_at=case["deadline_at"],
        handovers=[Handover(**row) for row in slip_rows(case)],
    )
    return render_slip(form, tz=calendar.zone)
