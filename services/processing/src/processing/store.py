"""Processing's repositories: the only module that touches MongoDB.

``cases`` (``_id`` = dossier code): procedure, centre_code, competent_agency, status (CaseStatus),
steps [{position, agency_code, due_at, status (StepStatus), assignee, work: [{at, by, note,
document_ref}], started_at, completed_at, result}], ``current`` (a copy of the current step's
position, agency_code, status, assignee, due_at: what the work queues filter on), received_at,
``current.queue`` names the work queue the case is in (``<agency>:<step status>`` or ``<agency>:paused``, None
once closed). deadline_at (reception's appointment, moved by supplements and apologies), paused_at, history,
``version`` (the optimistic check of :class:`CaseRepository.save`).

``audit``: one immutable row per action (case, action, by, role, agency, at, details); only inserted.
``province_settings``: the calendar config copied from reception's CalendarChanged (:class:`Calendar`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.mongo import Document, Indexes
from motcua_kit.replicas import CalendarReplica
from motcua_kit.uow import MongoRepository
from motcua_worktime import WorkCalendar
from processing.domain.audit import AuditEntry
from processing.domain.case import ALERTABLE, OPEN_STATUSES, ApologyRecord, Case, HistoryEntry, Step, WorkEntry
from processing.domain.workflow import WORKING, CaseStatus, StepStatus

CASES = "cases"
AUDIT = "audit"

INDEXES = (
    Indexes(
        CASES,
        (
            IndexModel([("steps.agency_code", ASCENDING), ("status", ASCENDING)], name="agency_status"),
            IndexModel([("deadline_at", ASCENDING)], name="deadline"),
            IndexModel([("current.queue", ASCENDING), ("current.due_at", ASCENDING)], name="queue"),
            IndexModel([("current.assignee", ASCENDING), ("current.status", ASCENDING)], name="mine"),
        ),
    ),
    Indexes(AUDIT, (IndexModel([("case", ASCENDING), ("at", ASCENDING)], name="case_at"),)),
)

WORKING_QUEUES = sorted(s.value for s in WORKING)
CLOCK_WATCHED = sorted(s.value for s in ALERTABLE)  # the clock's query finds what Case.pending_alerts watches
WITHOUT_HISTORY = {"history": 0}
OPEN_VALUES = [s.value for s in OPEN_STATUSES]


class CaseRepository(MongoRepository[Case]):
    """Cases by dossier code, and the queries of the work queues, the clock and the report.

    The queries' cases are read without their history (views and scans): never save one of them,
    load it again with :meth:`get` in the unit of work that changes it.
    """

    collection_name = CASES

    def to_document(self, case: Case) -> Document:
        step = case.current
        return {
            "_id": case.code,
            "version": case.version,
            "province_name": case.province_name,
            "original_appointment_at": case.original_appointment_at,
            "procedure": case.procedure,
            "centre_code": case.centre_code,
            "centre_name": case.centre_name,
            "applicant_name": case.applicant_name,
            "competent_agency": case.competent_agency,
            "status": case.status.value,
            "alerts": list(case.alerts),
            "apology": asdict(case.apology) if case.apology else None,
            "current_step": case.current_step,
            "steps": [_step_document(s) for s in case.steps],
            "current": {
                "position": step.position,
                "agency_code": step.agency_code,
                "status": step.status.value,
                "assignee": step.assignee,
                "due_at": step.due_at,
                "queue": case.queue,
            },
            "received_at": case.received_at,
            "deadline_at": case.deadline_at,
            "paused_at": case.paused_at,
            "opened_at": case.opened_at,
            "resolved_at": case.resolved_at,
            "stopped_at": case.stopped_at,
            "history": [_history_document(h) for h in case.history],
        }

    def from_document(self, doc: Document) -> Case:
        apology = doc.get("apology")
        return Case(
            code=doc["_id"],
            version=doc.get("version") or 0,
            procedure=dict(doc["procedure"]),
            centre_code=doc["centre_code"],
            centre_name=doc.get("centre_name"),
            province_name=doc.get("province_name"),
            applicant_name=doc.get("applicant_name"),
            competent_agency=doc["competent_agency"],
            status=CaseStatus(doc["status"]),
            current_step=doc["current_step"],
            steps=[_step(s) for s in doc["steps"]],
            received_at=doc["received_at"],
            deadline_at=doc["deadline_at"],
            original_appointment_at=doc.get("original_appointment_at"),
            alerts=list(doc.get("alerts") or []),
            apology=ApologyRecord(**apology) if apology else None,
            paused_at=doc.get("paused_at"),
            opened_at=doc.get("opened_at"),
            resolved_at=doc.get("resolved_at"),
            stopped_at=doc.get("stopped_at"),
            history=[
                HistoryEntry(h["action"], h["at"], h["by"], h["agency"], h.get("details"))
                for h in doc.get("history") or []
            ],
        )

    # --- the work queues ----------------------------------------------------------------------------

    async def queue(
        self,
        *,
        agency: str,
        view: str,
        assignee: str,
        now: datetime,
        due_until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[Case]]:
        """One agency's queue (new, mine, approval, due_soon, overdue, paused): one query on the current
        step, oldest deadline first; with the total count."""
        working = {"$in": [f"{agency}:{s}" for s in WORKING_QUEUES]}
        query: dict[str, Any]
        if view == "new":
            query = {"current.queue": f"{agency}:{StepStatus.NEW.value}"}
        elif view == "mine":
            query = {"current.assignee": assignee, "current.queue": f"{agency}:{StepStatus.ASSIGNED.value}"}
        elif view == "approval":
            query = {"current.queue": f"{agency}:{StepStatus.SUBMITTED.value}"}
        elif view == "due_soon":
            query = {"current.queue": working, "current.due_at": {"$gte": now, "$lte": due_until or now}}
        elif view == "overdue":
            query = {"current.queue": working, "current.due_at": {"$lt": now}}
        elif view == "paused":
            query = {"current.queue": f"{agency}:paused"}
        else:
            raise ValueError(f"no queue {view!r}")
        total = await self.collection.count_documents(query, session=self.session)
        cursor = self.collection.find(query, WITHOUT_HISTORY, session=self.session)
        cursor = cursor.sort([("current.due_at", 1), ("_id", 1)]).skip(offset).limit(limit)
        return total, [self.from_document(doc) async for doc in cursor]

    # --- the clock ----------------------------------------------------------------------------------

    async def near_deadline(self, horizon: datetime) -> list[Case]:
        """Open cases whose current step or own deadline falls before ``horizon`` (the clock's candidates)."""
        query = {
            "status": CaseStatus.OPEN.value,
            "current.status": {"$in": CLOCK_WATCHED},
            "$or": [{"current.due_at": {"$lte": horizon}}, {"deadline_at": {"$lte": horizon}}],
        }
        cursor = self.collection.find(query, WITHOUT_HISTORY, session=self.session)
        return [self.from_document(doc) async for doc in cursor]

    async def open_steps(self, now: datetime) -> tuple[dict[str, int], dict[str, int]]:
        """Open cases by the agency of their current step, and those of them past the step's deadline."""
        open_by_agency: dict[str, int] = {}
        overdue_by_agency: dict[str, int] = {}
        cursor = self.collection.find({"status": {"$in": OPEN_VALUES}}, {"current": 1}, session=self.session)
        async for doc in cursor:
            agency = doc["current"]["agency_code"]
            open_by_agency[agency] = open_by_agency.get(agency, 0) + 1
            if doc["current"]["due_at"] < now:
                overdue_by_agency[agency] = overdue_by_agency.get(agency, 0) + 1
        return open_by_agency, overdue_by_agency

    # --- the performance report ---------------------------------------------------------------------

    async def for_performance(self, *, start: datetime, end: datetime, agency: str | None) -> list[Case]:
        """Cases with a step completed in [start, end], or open now; only those of ``agency`` if given."""
        query: dict[str, Any] = {
            "$or": [{"steps.completed_at": {"$gte": start, "$lte": end}}, {"status": {"$in": OPEN_VALUES}}]
        }
        if agency:
            query["steps.agency_code"] = agency
        cursor = self.collection.find(query, WITHOUT_HISTORY, session=self.session)
        return [self.from_document(doc) async for doc in cursor]


def _step_document(step: Step) -> Document:
    return {
        "position": step.position,
        "agency_code": step.agency_code,
        "agency_name": step.agency_name,
        "due_at": step.due_at,
        "status": step.status.value,
        "assignee": step.assignee,
        "work": [asdict(w) for w in step.work],
        "started_at": step.started_at,
        "completed_at": step.completed_at,
        "result": step.result,
        "working_hours": step.working_hours,
    }


def _step(doc: Document) -> Step:
    return Step(
        position=doc["position"],
        agency_code=doc["agency_code"],
        agency_name=doc.get("agency_name"),
        due_at=doc["due_at"],
        status=StepStatus(doc["status"]),
        assignee=doc.get("assignee"),
        work=[
            WorkEntry(at=w["at"], by=w["by"], note=w.get("note"), document_ref=w.get("document_ref"))
            for w in doc.get("work") or []
        ],
        started_at=doc.get("started_at"),
        completed_at=doc.get("completed_at"),
        result=doc.get("result"),
        working_hours=doc.get("working_hours"),
    )


def _history_document(entry: HistoryEntry) -> Document:
    doc: Document = {"action": entry.action, "at": entry.at, "by": entry.by, "agency": entry.agency}
    if entry.details is not None:
        doc["details"] = entry.details
    return doc


class AuditRepository:
    """The audit rows: only inserted, never changed."""

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection = db[AUDIT]
        self.session = session

    async def add(self, entry: AuditEntry) -> None:
        doc = asdict(entry)
        doc["_id"] = doc.pop("id")
        await self.collection.insert_one(doc, session=self.session)

    async def trail(self, case: str) -> list[AuditEntry]:
        cursor = self.collection.find({"case": case}, session=self.session).sort([("at", 1), ("_id", 1)])
        return [
            AuditEntry(
                id=doc["_id"],
                case=doc["case"],
                action=doc["action"],
                by=doc["by"],
                role=doc["role"],
                agency=doc["agency"],
                at=doc["at"],
                details=doc.get("details") or {},
            )
            async for doc in cursor
        ]


class Calendar(CalendarReplica):
    """The province calendar copied from reception, as the working-time calendar it configures."""

    async def work_calendar(self) -> WorkCalendar:
        """The calendar as reception last published it; the statutory one until then."""
        config = await self.config()
        return WorkCalendar.from_stored(config)


@dataclass(init=False)
class Repositories:
    """Processing's repositories, on one database, bound to a transaction's session (or to none: views)."""

    cases: CaseRepository
    audit: AuditRepository
    calendar: Calendar

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.cases = CaseRepository(db, session)
        self.audit = AuditRepository(db, session)
        self.calendar = Calendar(db, session)
