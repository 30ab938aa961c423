"""Processing's use cases: open a case, the agencies' actions on it, the reactions to reception."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.auth import Principal
from motcua_kit.errors import Conflict, Forbidden, NotFound
from motcua_kit.events import (
    AgencySupplementRequested,
    CalendarChanged,
    CaseHandedOver,
    CaseOpened,
    DossierReceived,
    DossierResolved,
    DossierWithdrawn,
    PaymentConfirmed,
    PaymentRequested,
    ProcessingStopped,
    StepAssigned,
    StepCompleted,
    SupplementReceived,
)
from motcua_kit.events.processing import CaseStep
from motcua_kit.mongo import Document
from motcua_kit.uow import MongoUnitOfWork, retry_transient
from motcua_worktime import WorkCalendar, classify_finish
from processing import metrics, store
from processing.domain.case import plan_steps
from processing.domain.workflow import ActionRefused, CaseStatus, NotYours, StepStatus, check

Tx = MongoUnitOfWork[Any]
NewUow = Callable[[], Tx]
T = TypeVar("T")
Apply = Callable[[Tx, Document, dict[str, Any], datetime], Awaitable[None]]


async def run_in_tx(new_uow: NewUow, work: Callable[[Tx], Awaitable[T]]) -> T:
    """Runs ``work`` in one transaction of a new unit of work, again on transient conflicts."""
    uow = new_uow()

    async def attempt() -> T:
        async with uow:
            result = await work(uow)
            await uow.commit()
        return result

    return await retry_transient(attempt, uow)


async def load_calendar(db: AsyncDatabase[Document]) -> WorkCalendar:
    """The province's calendar as reception last published it; the statutory one until then."""
    doc = await db[store.SETTINGS].find_one({"_id": "calendar"})
    return WorkCalendar.from_config(doc["config"]) if doc else WorkCalendar()


async def save_calendar(tx: Tx, event: CalendarChanged) -> None:
    await tx.db[store.SETTINGS].replace_one(
        {"_id": "calendar"},
        {"config": event.config, "changed_at": event.changed_at, "province": event.province_code},
        upsert=True,
        session=tx.session,
    )


# --- from reception ---------------------------------------------------------------------------------


async def open_case(tx: Tx, event: DossierReceived, calendar: WorkCalendar | None = None) -> None:
    """Opens the case of a received dossier: one step per agency of the chain."""
    calendar = calendar or await load_calendar(tx.db)
    steps = plan_steps(
        calendar,
        clock_started_at=event.clock_started_at,
        appointment_at=event.appointment_at,
        limit_working_hours=event.limit_working_hours,
        chain=[(s.agency_code, s.share) for s in event.agency_chain],
    )
    now = datetime.now(UTC)
    names = {s.agency_code: s.agency_name for s in event.agency_chain}
    case = {
        "_id": event.dossier_code,
        "province_name": event.province_name,
        "original_appointment_at": event.appointment_at,
        "procedure": event.procedure.model_dump(),
        "centre_code": event.centre_code,
        "centre_name": event.centre_name,
        "applicant_name": event.applicant.full_name,
        "competent_agency": event.competent_agency,
        "status": CaseStatus.OPEN.value,
        "alerts": [],
        "apology": None,
        "current_step": 1,
        "steps": [
            {
                "position": s.position,
                "agency_code": s.agency_code,
                "agency_name": names.get(s.agency_code),
                "due_at": s.due_at.astimezone(UTC),
                "status": (StepStatus.NEW if s.position == 1 else StepStatus.WAITING).value,
                "assignee": None,
                "work": [],
                "started_at": now if s.position == 1 else None,
                "completed_at": None,
                "result": None,
            }
            for s in steps
        ],
        "received_at": event.received_at,
        "deadline_at": event.appointment_at,
        "paused_at": None,
        "opened_at": now,
        "history": [{"action": "opened", "at": now, "by": "system", "agency": steps[0].agency_code}],
    }
    _refresh_current(case)
    await tx.db[store.CASES].insert_one(case, session=tx.session)
    tx.publish(
        CaseOpened(
            dossier_code=event.dossier_code,
            steps=[CaseStep(position=s.position, agency_code=s.agency_code, due_at=s.due_at) for s in steps],
            deadline_at=event.appointment_at,
        )
    )
    metrics.record_case_opened(steps[0].agency_code)


async def resume_after_supplement(tx: Tx, event: SupplementReceived) -> None:
    """The citizen's supplement arrived: the clock resumes and every open deadline moves by the pause."""
    case = await tx.db[store.CASES].find_one({"_id": event.dossier_code}, session=tx.session)
    if case is None or case["status"] != CaseStatus.PAUSED:
        return  # a supplement at intake, before the case existed, or already resumed
    calendar = await load_calendar(tx.db)
    shift = timedelta(hours=event.paused_working_hours)
    for step in case["steps"]:
        if step["status"] != StepStatus.DONE:
            step["due_at"] = calendar.add_working_time(step["due_at"], shift).astimezone(UTC)
    if event.appointment_at is not None:
        case["deadline_at"] = event.appointment_at
        case["steps"][-1]["due_at"] = event.appointment_at
    case["status"] = CaseStatus.OPEN.value
    case["paused_at"] = None
    _log(
        case,
        "supplement_received",
        event.received_at,
        event.received_by,
        _current(case)["agency_code"],
        {"paused_working_hours": event.paused_working_hours},
    )
    _refresh_current(case)
    await tx.db[store.CASES].replace_one({"_id": case["_id"]}, case, session=tx.session)


async def withdraw(tx: Tx, event: DossierWithdrawn) -> None:
    """The citizen withdrew the dossier at reception: the case stops here."""
    case = await tx.db[store.CASES].find_one({"_id": event.dossier_code}, session=tx.session)
    if case is None or case["status"] in (CaseStatus.RESOLVED, CaseStatus.STOPPED, CaseStatus.WITHDRAWN):
        return
    case["status"] = CaseStatus.WITHDRAWN.value
    _log(
        case,
        "withdrawn",
        event.withdrawn_at,
        event.recorded_by,
        _current(case)["agency_code"],
        {"reason": event.reason},
    )
    _refresh_current(case)
    await tx.db[store.CASES].replace_one({"_id": case["_id"]}, case, session=tx.session)


# --- the agencies' actions ----------------------------------------------------------------------------


async def act(
    uow: NewUow,
    *,
    actor: Principal,
    code: str,
    action: str,
    params: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Document:
    """Checks and applies one action on the case's current step, with its event and audit row,
    in one transaction. Illegal transitions raise 409 with the reason; other agencies' steps 403."""
    apply = _ACTIONS[action]
    at = now or datetime.now(UTC)
    params = params or {}

    async def work(tx: Tx) -> Document:
        case = await tx.db[store.CASES].find_one({"_id": code}, session=tx.session)
        if case is None or not _in_chain(case, actor):
            raise NotFound(f"no case {code} for your agency")
        step = _current(case)
        try:
            check(
                action,
                role=actor.role.value,
                agency=actor.scope,
                subject=actor.subject,
                case_status=case["status"],
                step=step,
                is_last=step["position"] == len(case["steps"]),
            )
        except NotYours as exc:
            raise Forbidden(str(exc)) from exc
        except ActionRefused as exc:
            raise Conflict(str(exc), code="illegal_transition") from exc
        await apply(tx, case, params | {"actor": actor}, at)
        _log(case, action, at, actor.subject, actor.scope, {k: v for k, v in params.items() if k != "actor"})
        _refresh_current(case)
        await tx.db[store.CASES].replace_one({"_id": code}, case, session=tx.session)
        await tx.db[store.AUDIT].insert_one(
            {
                "_id": uuid.uuid4().hex,
                "case": code,
                "action": action,
                "by": actor.subject,
                "role": actor.role.value,
                "agency": actor.scope,
                "at": at,
                "details": {k: v for k, v in params.items() if k != "actor"},
            },
            session=tx.session,
        )
        return case

    case = await run_in_tx(uow, work)
    metrics.record_action(action, actor.scope)
    return case


async def _assign(tx: Tx, case: Document, p: dict[str, Any], at: datetime) -> None:
    step = _current(case)
    assignee = p.get("assignee") or p["actor"].subject
    step.update(status=StepStatus.ASSIGNED.value, assignee=assignee)
    tx.publish(
        StepAssigned(
            dossier_code=case["_id"],
            position=step["position"],
            agency_code=step["agency_code"],
            assignee=assignee,
            assigned_by=p["actor"].subject,
            assigned_at=at,
        )
    )


async def _record_work(tx: Tx, case: Document, p: dict[str, Any], at: datetime) -> None:
    _current(case)["work"].append(
        {"at": at, "by": p["actor"].subject, "note": p.get("note"), "document_ref": p.get("document_ref")}
    )


async def _submit(tx: Tx, case: Document, p: dict[str, Any], at: datetime) -> None:
    _current(case)["status"] = StepStatus.SUBMITTED.value


async def _approve(tx: Tx, case: Document, p: dict[str, Any], at: datetime) -> None:
    step = _current(case)
    calendar = await load_calendar(tx.db)
    result = classify_finish(at, step["due_at"], calendar.zone)
    step.update(status=StepStatus.APPROVED.value, completed_at=at, result=result)
    if step["started_at"] is not None:
        hours = calendar.working_time_between(step["started_at"], at).total_seconds() / 3600
        step["working_hours"] = round(hours, 2)
        metrics.record_time_in_step(step["agency_code"], hours)
    tx.publish(
        StepCompleted(
            dossier_code=case["_id"],
            position=step["position"],
            agency_code=step["agency_code"],
            completed_at=at,
            completed_by=p["actor"].subject,
            result=result,
        )
    )
    metrics.record_step_done(step["agency_code"], result)


async def _send_back(tx: Tx, case: Document, p: dict[str, Any], at: datetime) -> None:
    _current(case)["status"] = StepStatus.ASSIGNED.value
    metrics.record_send_back(_current(case)["agency_code"])


async def _hand_over(tx: Tx, case: Document, p: dict[str, Any], at: datetime) -> None:
    step = _current(case)
    step["status"] = StepStatus.DONE.value
    nxt = case["steps"][step["position"]]
    nxt.update(status=StepStatus.NEW.value, started_at=at)
    case["current_step"] = nxt["position"]
    tx.publish(
        CaseHandedOver(
            dossier_code=case["_id"],
            from_position=step["position"],
            from_agency=step["agency_code"],
            to_position=nxt["position"],
            to_agency=nxt["agency_code"],
            handed_over_at=at,
            handed_over_by=p["actor"].subject,
        )
    )


async def _resolve(tx: Tx, case: Document, p: dict[str, Any], at: datetime) -> None:
    step = _current(case)
    step["status"] = StepStatus.DONE.value
    case.update(status=CaseStatus.RESOLVED.value, resolved_at=at)
    refs = [w["document_ref"] for w in step["work"] if w.get("document_ref")]
    tx.publish(
        DossierResolved(
            dossier_code=case["_id"],
            agency_code=step["agency_code"],
            resolved_at=at,
            resolved_by=p["actor"].subject,
            result_summary=p["summary"],
            result_document_ref=refs[-1] if refs else None,
        )
    )


async def _request_supplement(tx: Tx, case: Document, p: dict[str, Any], at: datetime) -> None:
    step = _current(case)
    case.update(status=CaseStatus.PAUSED.value, paused_at=at)
    tx.publish(
        AgencySupplementRequested(
            dossier_code=case["_id"],
            position=step["position"],
            agency_code=step["agency_code"],
            reasons=p["reasons"],
            requested_at=at,
            requested_by=p["actor"].subject,
        )
    )


async def _request_payment(tx: Tx, case: Document, p: dict[str, Any], at: datetime) -> None:
    case["status"] = CaseStatus.AWAITING_PAYMENT.value
    tx.publish(
        PaymentRequested(
            dossier_code=case["_id"],
            agency_code=_current(case)["agency_code"],
            amount_vnd=p["amount_vnd"],
            description=p["description"],
            requested_at=at,
        )
    )


async def _confirm_payment(tx: Tx, case: Document, p: dict[str, Any], at: datetime) -> None:
    case["status"] = CaseStatus.OPEN.value
    tx.publish(PaymentConfirmed(dossier_code=case["_id"], agency_code=_current(case)["agency_code"], confirmed_at=at))


async def _stop(tx: Tx, case: Document, p: dict[str, Any], at: datetime) -> None:
    case.update(status=CaseStatus.STOPPED.value, stopped_at=at)
    tx.publish(
        ProcessingStopped(
            dossier_code=case["_id"],
            agency_code=_current(case)["agency_code"],
            reason=p["reason"],
            stopped_at=at,
            stopped_by=p["actor"].subject,
        )
    )


_ACTIONS: dict[str, Apply] = {
    "assign": _assign,
    "claim": _assign,
    "record_work": _record_work,
    "submit": _submit,
    "approve": _approve,
    "send_back": _send_back,
    "hand_over": _hand_over,
    "resolve": _resolve,
    "request_supplement": _request_supplement,
    "request_payment": _request_payment,
    "confirm_payment": _confirm_payment,
    "stop": _stop,
}


# --- reading ------------------------------------------------------------------------------------------


QUEUES = ("new", "mine", "approval", "due_soon", "overdue", "paused")


async def queue(
    db: AsyncDatabase[Document],
    *,
    viewer: Principal,
    view: str,
    due_within_hours: float = 8.0,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> tuple[int, list[Document]]:
    """The agency's work queue: one query on the current step, oldest deadline first."""
    at = now or datetime.now(UTC)
    agency = viewer.scope
    working = {"$in": [f"{agency}:{s.value}" for s in (StepStatus.NEW, StepStatus.ASSIGNED, StepStatus.SUBMITTED)]}
    query: dict[str, Any]
    if view == "new":
        query = {"current.queue": f"{agency}:{StepStatus.NEW.value}"}
    elif view == "mine":
        query = {"current.assignee": viewer.subject, "current.queue": f"{agency}:{StepStatus.ASSIGNED.value}"}
    elif view == "approval":
        query = {"current.queue": f"{agency}:{StepStatus.SUBMITTED.value}"}
    elif view == "due_soon":
        calendar = await load_calendar(db)
        limit_at = calendar.add_working_time(at, timedelta(hours=due_within_hours)).astimezone(UTC)
        query = {"current.queue": working, "current.due_at": {"$gte": at, "$lte": limit_at}}
    elif view == "overdue":
        query = {"current.queue": working, "current.due_at": {"$lt": at}}
    else:
        query = {"current.queue": f"{agency}:paused"}
    total = await db[store.CASES].count_documents(query)
    cursor = db[store.CASES].find(query, {"history": 0}).sort([("current.due_at", 1), ("_id", 1)])
    return total, await cursor.skip(offset).limit(limit).to_list(limit)


async def get_case(db: AsyncDatabase[Document], *, code: str, viewer: Principal) -> Document:
    case = await db[store.CASES].find_one({"_id": code})
    if case is None or not _in_chain(case, viewer):
        raise NotFound(f"no case {code} for your agency")
    return case


async def audit_trail(db: AsyncDatabase[Document], *, code: str, viewer: Principal) -> list[Document]:
    await get_case(db, code=code, viewer=viewer)
    return await db[store.AUDIT].find({"case": code}).sort([("at", 1), ("_id", 1)]).to_list(None)


def _in_chain(case: Document, viewer: Principal) -> bool:
    return viewer.role.value == "auditor" or any(s["agency_code"] == viewer.scope for s in case["steps"])


def _current(case: Document) -> dict[str, Any]:
    return case["steps"][case["current_step"] - 1]  # type: ignore[no-any-return]


def _refresh_current(case: Document) -> None:
    step = _current(case)
    case["current"] = {k: step[k] for k in ("position", "agency_code", "status", "assignee", "due_at")}
    case["current"]["queue"] = queue_key(case["status"], step["agency_code"], step["status"])


def queue_key(case_status: str, agency: str, step_status: str) -> str | None:
    """One field that says which queue a case is in (``agency:new``, ``agency:paused``...), so each
    queue is an equality on the first field of an index: stores that use only an index's first
    field (SecantusDB) stay fast, and closed cases (None) are out of every queue."""
    if case_status == CaseStatus.PAUSED:
        return f"{agency}:paused"
    if case_status == CaseStatus.OPEN:
        return f"{agency}:{step_status}"
    return None


def _log(case: Document, action: str, at: datetime, by: str, agency: str, details: dict[str, Any]) -> None:
    case["history"].append({"action": action, "at": at, "by": by, "agency": agency, "details": details})


async def performance(
    db: AsyncDatabase[Document],
    *,
    viewer: Principal,
    start: datetime,
    end: datetime,
    by: str,
    now: datetime | None = None,
) -> list[Any]:
    """Steps handled in [start, end] and the backlog now, per agency, field or procedure.

    A leader sees their own agency; an auditor sees every agency."""
    from processing.domain.performance import StepFact, build

    at = now or datetime.now(UTC)
    agency = None if viewer.role.value == "auditor" else viewer.scope
    open_statuses = [CaseStatus.OPEN.value, CaseStatus.PAUSED.value, CaseStatus.AWAITING_PAYMENT.value]
    query: dict[str, Any] = {
        "$or": [{"steps.completed_at": {"$gte": start, "$lte": end}}, {"status": {"$in": open_statuses}}]
    }
    if agency:
        query["steps.agency_code"] = agency
    facts = []
    async for case in db[store.CASES].find(query, {"history": 0}):
        is_open = case["status"] in open_statuses
        for step in case["steps"]:
            if agency and step["agency_code"] != agency:
                continue
            current = is_open and step["position"] == case["current_step"]
            facts.append(
                StepFact(
                    agency=step["agency_code"],
                    field=case["procedure"]["field"],
                    procedure=case["procedure"]["code"],
                    completed_at=step.get("completed_at"),
                    result=step.get("result"),
                    working_hours=step.get("working_hours"),
                    open_now=current,
                    overdue_now=current and step["due_at"] < at,
                )
            )
    return build(facts, by=by, start=start, end=end)
