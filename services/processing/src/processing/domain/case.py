"""A case: the agencies' steps on one dossier, each with its share of the legal limit.

:class:`Case` is the aggregate. Each transition checks its rule (:mod:`processing.domain.workflow`),
changes the state, writes a history row and returns the events to publish. Pure: no I/O, no clock
(the time of each change is given), the province calendar passed in where working time is counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from motcua_kit.events import (
    AgencySupplementRequested,
    ApologyIssued,
    CaseHandedOver,
    CaseOpened,
    DeadlineApproaching,
    DossierResolved,
    Event,
    PaymentConfirmed,
    PaymentRequested,
    ProcessingStopped,
    StepAssigned,
    StepCompleted,
    StepOverdue,
)
from motcua_kit.events.processing import CaseStep, StepResult
from motcua_worktime import WorkCalendar, classify_finish
from processing.domain.workflow import (
    LEADER,
    WORKING,
    ActionRefused,
    BadChange,
    CaseStatus,
    NotYours,
    StepStatus,
    check,
    queue_key,
)

ALERTABLE = WORKING | {StepStatus.APPROVED}
"""Steps the clock watches: an open case whose current step is still being worked or approved."""
OPEN_STATUSES = (CaseStatus.OPEN, CaseStatus.PAUSED, CaseStatus.AWAITING_PAYMENT)
CLOSED_STATUSES = (CaseStatus.RESOLVED, CaseStatus.STOPPED, CaseStatus.WITHDRAWN)
SYSTEM = "system"


@dataclass(frozen=True)
class PlannedStep:
    position: int
    agency_code: str
    due_at: datetime


def plan_steps(
    calendar: WorkCalendar,
    *,
    clock_started_at: datetime,
    appointment_at: datetime,
    limit_working_hours: float,
    chain: list[tuple[str, float]],
) -> list[PlannedStep]:
    """Each step's deadline is the clock start plus the cumulated shares of the limit;
    the last step's deadline is the appointment itself, so rounding never moves it."""
    steps, cumulated = [], 0.0
    for position, (agency, share) in enumerate(chain, start=1):
        cumulated += share
        if position == len(chain):
            due = appointment_at
        else:
            due = calendar.add_working_time(clock_started_at, timedelta(hours=limit_working_hours * cumulated))
        steps.append(PlannedStep(position, agency, due))
    return steps


@dataclass(frozen=True)
class Actor:
    """Who acts: a user id, their role and the agency they act for (the token's scope)."""

    subject: str
    role: str
    agency: str


@dataclass(frozen=True)
class ChainLink:
    """One agency of the procedure's chain, with its share of the legal limit."""

    agency_code: str
    share: float
    agency_name: str | None = None


@dataclass
class WorkEntry:
    at: datetime
    by: str
    note: str | None = None
    document_ref: str | None = None


@dataclass
class Step:
    position: int
    agency_code: str
    due_at: datetime
    status: StepStatus
    agency_name: str | None = None
    assignee: str | None = None
    work: list[WorkEntry] = field(default_factory=list)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    result: StepResult | None = None
    working_hours: float | None = None


@dataclass
class HistoryEntry:
    action: str
    at: datetime
    by: str
    agency: str
    details: dict[str, Any] | None = None


@dataclass
class ApologyRecord:
    """Mẫu 04 as issued: at most one per dossier."""

    issued_at: datetime
    issued_by: str
    agency_code: str
    reason: str
    previous_appointment_at: datetime
    new_appointment_at: datetime


@dataclass
class Case:
    code: str
    procedure: dict[str, Any]
    centre_code: str
    competent_agency: str
    steps: list[Step]
    received_at: datetime
    deadline_at: datetime
    status: CaseStatus = CaseStatus.OPEN
    current_step: int = 1
    centre_name: str | None = None
    province_name: str | None = None
    applicant_name: str | None = None
    original_appointment_at: datetime | None = None
    alerts: list[str] = field(default_factory=list)
    apology: ApologyRecord | None = None
    paused_at: datetime | None = None
    opened_at: datetime | None = None
    resolved_at: datetime | None = None
    stopped_at: datetime | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    version: int = 0

    # --- reading ------------------------------------------------------------------------------------

    @property
    def current(self) -> Step:
        return self.steps[self.current_step - 1]

    @property
    def is_last(self) -> bool:
        return self.current_step == len(self.steps)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def queue(self) -> str | None:
        """The work queue the case is in (``<agency>:<step status>``, ``<agency>:paused``), None once closed."""
        return queue_key(self.status, self.current.agency_code, self.current.status)

    def in_chain(self, agency: str) -> bool:
        return any(s.agency_code == agency for s in self.steps)

    def visible_to(self, viewer: Actor) -> bool:
        """Auditors see every case; agencies the cases of their chain."""
        return viewer.role == "auditor" or self.in_chain(viewer.agency)

    def step_at(self, position: int) -> Step:
        return self.steps[position - 1]

    # --- opening ------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        code: str,
        procedure: dict[str, Any],
        centre_code: str,
        centre_name: str | None,
        province_name: str | None,
        applicant_name: str | None,
        competent_agency: str,
        chain: Sequence[ChainLink],
        received_at: datetime,
        clock_started_at: datetime,
        appointment_at: datetime,
        limit_working_hours: float,
        calendar: WorkCalendar,
        now: datetime,
    ) -> tuple[Case, list[Event]]:
        """A new case with one step per agency of the chain, the first one arrived; and its CaseOpened."""
        if not chain:
            raise BadChange("the procedure has no agency to process it")
        planned = plan_steps(
            calendar,
            clock_started_at=clock_started_at,
            appointment_at=appointment_at,
            limit_working_hours=limit_working_hours,
            chain=[(link.agency_code, link.share) for link in chain],
        )
        names = {link.agency_code: link.agency_name for link in chain}
        steps = [
            Step(
                position=p.position,
                agency_code=p.agency_code,
                agency_name=names.get(p.agency_code),
                due_at=p.due_at.astimezone(UTC),
                status=StepStatus.NEW if p.position == 1 else StepStatus.WAITING,
                started_at=now if p.position == 1 else None,
            )
            for p in planned
        ]
        case = cls(
            code=code,
            procedure=dict(procedure),
            centre_code=centre_code,
            centre_name=centre_name,
            province_name=province_name,
            applicant_name=applicant_name,
            competent_agency=competent_agency,
            steps=steps,
            received_at=received_at,
            deadline_at=appointment_at,
            original_appointment_at=appointment_at,
            opened_at=now,
            history=[HistoryEntry("opened", now, SYSTEM, steps[0].agency_code)],
        )
        opened = CaseOpened(
            dossier_code=code,
            steps=[CaseStep(position=p.position, agency_code=p.agency_code, due_at=p.due_at) for p in planned],
            deadline_at=appointment_at,
        )
        return case, [opened]

    # --- the agencies' actions on the current step --------------------------------------------------

    def assign(self, actor: Actor, assignee: str, at: datetime) -> list[Event]:
        """The leader gives the current step to a specialist (or takes it back to give it to another)."""
        self._check("assign", actor)
        event = self._give(actor, assignee or actor.subject, at)
        self._log("assign", at, actor, {"assignee": assignee})
        return [event]

    def claim(self, actor: Actor, at: datetime) -> list[Event]:
        """A specialist takes a new step."""
        self._check("claim", actor)
        event = self._give(actor, actor.subject, at)
        self._log("claim", at, actor, {})
        return [event]

    def record_work(self, actor: Actor, note: str, document_ref: str | None, at: datetime) -> list[Event]:
        self._check("record_work", actor)
        self.current.work.append(WorkEntry(at=at, by=actor.subject, note=note, document_ref=document_ref))
        self._log("record_work", at, actor, {"note": note, "document_ref": document_ref})
        return []

    def submit(self, actor: Actor, at: datetime) -> list[Event]:
        self._check("submit", actor)
        self.current.status = StepStatus.SUBMITTED
        self._log("submit", at, actor, {})
        return []

    def approve(self, actor: Actor, at: datetime, calendar: WorkCalendar) -> list[Event]:
        """The leader approves the step: it is classified early / on time / late against its deadline."""
        self._check("approve", actor)
        step = self.current
        result: StepResult = classify_finish(at, step.due_at, calendar.zone)
        step.status, step.completed_at, step.result = StepStatus.APPROVED, at, result
        if step.started_at is not None:
            hours = calendar.working_time_between(step.started_at, at).total_seconds() / 3600
            step.working_hours = round(hours, 2)
        self._log("approve", at, actor, {})
        return [
            StepCompleted(
                dossier_code=self.code,
                position=step.position,
                agency_code=step.agency_code,
                completed_at=at,
                completed_by=actor.subject,
                result=result,
            )
        ]

    def send_back(self, actor: Actor, reason: str, at: datetime) -> list[Event]:
        self._check("send_back", actor)
        self.current.status = StepStatus.ASSIGNED
        self._log("send_back", at, actor, {"reason": reason})
        return []

    def hand_over(self, actor: Actor, at: datetime) -> list[Event]:
        """The approved step passes to the next agency of the chain."""
        self._check("hand_over", actor)
        step = self.current
        step.status = StepStatus.DONE
        nxt = self.steps[step.position]
        nxt.status, nxt.started_at = StepStatus.NEW, at
        self.current_step = nxt.position
        self._log("hand_over", at, actor, {})
        return [
            CaseHandedOver(
                dossier_code=self.code,
                from_position=step.position,
                from_agency=step.agency_code,
                to_position=nxt.position,
                to_agency=nxt.agency_code,
                handed_over_at=at,
                handed_over_by=actor.subject,
            )
        ]

    def resolve(self, actor: Actor, summary: str, at: datetime) -> list[Event]:
        """The last approved step's result goes back to reception."""
        self._check("resolve", actor)
        step = self.current
        step.status = StepStatus.DONE
        self.status, self.resolved_at = CaseStatus.RESOLVED, at
        refs = [w.document_ref for w in step.work if w.document_ref]
        self._log("resolve", at, actor, {"summary": summary})
        return [
            DossierResolved(
                dossier_code=self.code,
                agency_code=step.agency_code,
                resolved_at=at,
                resolved_by=actor.subject,
                result_summary=summary,
                result_document_ref=refs[-1] if refs else None,
            )
        ]

    def request_supplement(self, actor: Actor, reasons: list[str], at: datetime) -> list[Event]:
        """The clock pauses until reception records the citizen's supplement."""
        self._check("request_supplement", actor)
        step = self.current
        self.status, self.paused_at = CaseStatus.PAUSED, at
        self._log("request_supplement", at, actor, {"reasons": list(reasons)})
        return [
            AgencySupplementRequested(
                dossier_code=self.code,
                position=step.position,
                agency_code=step.agency_code,
                reasons=list(reasons),
                requested_at=at,
                requested_by=actor.subject,
            )
        ]

    def request_payment(self, actor: Actor, amount_vnd: int, description: str, at: datetime) -> list[Event]:
        self._check("request_payment", actor)
        self.status = CaseStatus.AWAITING_PAYMENT
        self._log("request_payment", at, actor, {"amount_vnd": amount_vnd, "description": description})
        return [
            PaymentRequested(
                dossier_code=self.code,
                agency_code=self.current.agency_code,
                amount_vnd=amount_vnd,
                description=description,
                requested_at=at,
            )
        ]

    def confirm_payment(self, actor: Actor, at: datetime) -> list[Event]:
        self._check("confirm_payment", actor)
        self.status = CaseStatus.OPEN
        self._log("confirm_payment", at, actor, {})
        return [PaymentConfirmed(dossier_code=self.code, agency_code=self.current.agency_code, confirmed_at=at)]

    def stop(self, actor: Actor, reason: str, at: datetime) -> list[Event]:
        self._check("stop", actor)
        self.status, self.stopped_at = CaseStatus.STOPPED, at
        self._log("stop", at, actor, {"reason": reason})
        return [
            ProcessingStopped(
                dossier_code=self.code,
                agency_code=self.current.agency_code,
                reason=reason,
                stopped_at=at,
                stopped_by=actor.subject,
            )
        ]

    # --- what reception tells ----------------------------------------------------------------------

    def resume_after_supplement(
        self,
        *,
        received_at: datetime,
        received_by: str,
        paused_working_hours: float,
        appointment_at: datetime | None,
        calendar: WorkCalendar,
    ) -> list[Event]:
        """The citizen's supplement arrived: the clock resumes and every open deadline moves by the pause."""
        if self.status != CaseStatus.PAUSED:
            raise ActionRefused(f"the case is {self.status.value}, not waiting for a supplement")
        shift = timedelta(hours=paused_working_hours)
        for step in self.steps:
            if step.status != StepStatus.DONE:
                step.due_at = calendar.add_working_time(step.due_at, shift).astimezone(UTC)
        if appointment_at is not None:
            self.deadline_at = appointment_at
            self.steps[-1].due_at = appointment_at
        self.status, self.paused_at = CaseStatus.OPEN, None
        self.history.append(
            HistoryEntry(
                "supplement_received",
                received_at,
                received_by,
                self.current.agency_code,
                {"paused_working_hours": paused_working_hours},
            )
        )
        return []

    def withdraw(self, *, reason: str, at: datetime, by: str) -> list[Event]:
        """The citizen withdrew the dossier at reception: the case stops here."""
        if self.status in CLOSED_STATUSES:
            raise ActionRefused(f"the case is {self.status.value} already")
        self.status = CaseStatus.WITHDRAWN
        self.history.append(HistoryEntry("withdrawn", at, by, self.current.agency_code, {"reason": reason}))
        return []

    # --- the legal clock ---------------------------------------------------------------------------

    def pending_alerts(self, at: datetime, horizon: datetime) -> list[tuple[str, Event]]:
        """The alerts due now and not raised yet, each with its key: the step overdue, or its deadline
        within the warning window; the dossier's own deadline within the window."""
        if self.status != CaseStatus.OPEN or self.current.status not in ALERTABLE:
            return []
        step, raised = self.current, set(self.alerts)
        pos, agency, due = step.position, step.agency_code, step.due_at
        found: list[tuple[str, Event]] = []
        if due < at:
            if f"overdue:{pos}" not in raised:
                found.append(
                    (
                        f"overdue:{pos}",
                        StepOverdue(dossier_code=self.code, position=pos, agency_code=agency, due_at=due),
                    )
                )
        elif due <= horizon and f"approaching:{pos}" not in raised:
            found.append(
                (
                    f"approaching:{pos}",
                    DeadlineApproaching(dossier_code=self.code, position=pos, agency_code=agency, due_at=due),
                )
            )
        if at <= self.deadline_at <= horizon and "approaching:case" not in raised:
            found.append(
                (
                    "approaching:case",
                    DeadlineApproaching(
                        dossier_code=self.code, position=None, agency_code=agency, due_at=self.deadline_at
                    ),
                )
            )
        return found

    def raise_alerts(self, at: datetime, horizon: datetime) -> list[Event]:
        """Records the pending alerts as raised (each at most once) and returns them."""
        found = self.pending_alerts(at, horizon)
        self.alerts.extend(key for key, _ in found)
        return [event for _, event in found]

    # --- the apology (Mẫu 04) ----------------------------------------------------------------------

    def apologise(
        self, actor: Actor, *, reason: str, new_appointment_at: datetime, at: datetime, calendar: WorkCalendar
    ) -> list[Event]:
        """At most once per dossier, by a leader of the agency holding it, at the latest one working day
        before the deadline; the new appointment becomes the deadline everywhere."""
        if actor.role not in LEADER:
            raise NotYours(f"a {actor.role} may not apologise: the agency's leader does")
        if self.current.agency_code != actor.agency:
            raise NotYours(f"the dossier is at agency {self.current.agency_code}: its leader apologises")
        if self.apology is not None:
            raise ActionRefused("an apology was already issued for this dossier (at most once)", code="apology_exists")
        if self.status not in (CaseStatus.OPEN, CaseStatus.AWAITING_PAYMENT):
            raise ActionRefused(f"cannot apologise for a case that is {self.status.value}")
        deadline = self.deadline_at
        latest = calendar.add_working_time(at, calendar.working_day_length)
        if latest > deadline:
            raise ActionRefused(
                "too late: the apology must be issued at least one working day before the deadline "
                f"({deadline.astimezone(calendar.zone):%H:%M %d/%m/%Y})",
                code="apology_too_late",
            )
        if new_appointment_at <= deadline:
            raise BadChange("the new appointment must be after the current one")
        self.apology = ApologyRecord(
            issued_at=at,
            issued_by=actor.subject,
            agency_code=actor.agency,
            reason=reason,
            previous_appointment_at=deadline,
            new_appointment_at=new_appointment_at,
        )
        self.deadline_at = new_appointment_at
        self.steps[-1].due_at = new_appointment_at
        self._log("apology", at, actor, {"reason": reason})
        return [
            ApologyIssued(
                dossier_code=self.code,
                agency_code=actor.agency,
                previous_appointment_at=deadline,
                new_appointment_at=new_appointment_at,
                reason=reason,
                issued_at=at,
                issued_by=actor.subject,
            )
        ]

    # --- helpers -----------------------------------------------------------------------------------

    def _check(self, action: str, actor: Actor) -> None:
        check(
            action,
            role=actor.role,
            agency=actor.agency,
            subject=actor.subject,
            case_status=self.status,
            step=self.current,
            is_last=self.is_last,
        )

    def _give(self, actor: Actor, assignee: str, at: datetime) -> StepAssigned:
        step = self.current
        step.status, step.assignee = StepStatus.ASSIGNED, assignee
        return StepAssigned(
            dossier_code=self.code,
            position=step.position,
            agency_code=step.agency_code,
            assignee=assignee,
            assigned_by=actor.subject,
            assigned_at=at,
        )

    def _log(self, action: str, at: datetime, actor: Actor, details: dict[str, Any]) -> None:
        self.history.append(HistoryEntry(action, at, actor.subject, actor.agency, details))
