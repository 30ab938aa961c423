"""The agencies' actions on a case's current step: one use case each, one transaction each.

Every action checks its rule on the case (409 with the reason when the case or step does not allow it,
403 when the actor's role or agency may not), changes the case, writes one audit row and publishes the
action's events; its metrics are counted once the transaction committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from motcua_kit.events import Event
from motcua_kit.uow import UnitOfWork, use_case
from motcua_worktime import WorkCalendar
from processing import metrics
from processing.domain.audit import AuditEntry
from processing.domain.case import Actor, Case
from processing.service.common import refusals, visible_case
from processing.store import Repositories


@dataclass(frozen=True, kw_only=True)
class CaseAction:
    """Who acts on which case; ``at`` is now unless given."""

    code: str
    actor: Actor
    at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class AssignStep(CaseAction):
    assignee: str


@dataclass(frozen=True, kw_only=True)
class ClaimStep(CaseAction):
    pass


@dataclass(frozen=True, kw_only=True)
class RecordWork(CaseAction):
    note: str
    document_ref: str | None = None


@dataclass(frozen=True, kw_only=True)
class SubmitStep(CaseAction):
    pass


@dataclass(frozen=True, kw_only=True)
class ApproveStep(CaseAction):
    pass


@dataclass(frozen=True, kw_only=True)
class SendBack(CaseAction):
    reason: str


@dataclass(frozen=True, kw_only=True)
class HandOver(CaseAction):
    pass


@dataclass(frozen=True, kw_only=True)
class Resolve(CaseAction):
    summary: str


@dataclass(frozen=True, kw_only=True)
class RequestSupplement(CaseAction):
    reasons: list[str]


@dataclass(frozen=True, kw_only=True)
class RequestPayment(CaseAction):
    amount_vnd: int
    description: str


@dataclass(frozen=True, kw_only=True)
class ConfirmPayment(CaseAction):
    pass


@dataclass(frozen=True, kw_only=True)
class StopProcessing(CaseAction):
    reason: str


Change = Callable[[Case, datetime], list[Event]]
AfterCommit = Callable[[Case], None]


async def _act(
    cmd: CaseAction, uow: UnitOfWork[Repositories], action: str, change: Change, after: AfterCommit | None = None
) -> Case:
    at = cmd.at or datetime.now(UTC)
    actor = cmd.actor
    async with uow:
        case = await visible_case(uow.repos, cmd.code, actor)
        with refusals():
            events = change(case, at)
        await uow.repos.cases.save(case)
        await uow.repos.audit.add(
            AuditEntry(
                id=uuid.uuid4().hex,
                case=case.code,
                action=action,
                by=actor.subject,
                role=actor.role,
                agency=actor.agency,
                at=at,
                details=dict(case.history[-1].details or {}),  # what the case's history row says
            )
        )
        uow.publish(*events)
        uow.after_commit(lambda: metrics.record_action(action, actor.agency))
        if after is not None:
            uow.after_commit(lambda: after(case))
        await uow.commit()
    return case


@use_case
async def assign_step(cmd: AssignStep, uow: UnitOfWork[Repositories]) -> Case:
    """The leader assigns the current step to a specialist (StepAssigned)."""
    return await _act(cmd, uow, "assign", lambda case, at: case.assign(cmd.actor, cmd.assignee, at))


@use_case
async def claim_step(cmd: ClaimStep, uow: UnitOfWork[Repositories]) -> Case:
    """A specialist takes a new step (StepAssigned)."""
    return await _act(cmd, uow, "claim", lambda case, at: case.claim(cmd.actor, at))


@use_case
async def record_work(cmd: RecordWork, uow: UnitOfWork[Repositories]) -> Case:
    """The assignee records work done and, if any, a result document reference."""
    return await _act(
        cmd, uow, "record_work", lambda case, at: case.record_work(cmd.actor, cmd.note, cmd.document_ref, at)
    )


@use_case
async def submit_step(cmd: SubmitStep, uow: UnitOfWork[Repositories]) -> Case:
    """The assignee submits the step for the leader's approval."""
    return await _act(cmd, uow, "submit", lambda case, at: case.submit(cmd.actor, at))


@use_case
async def approve_step(cmd: ApproveStep, uow: UnitOfWork[Repositories]) -> Case:
    """The leader approves the step, classified against its deadline (StepCompleted)."""
    calendar: WorkCalendar = await uow.repos.calendar.work_calendar()

    def count(case: Case) -> None:
        step = case.current  # approving does not move the case to another step
        if step.working_hours is not None:
            metrics.record_time_in_step(step.agency_code, step.working_hours)
        metrics.record_step_done(step.agency_code, step.result or "")

    return await _act(cmd, uow, "approve", lambda case, at: case.approve(cmd.actor, at, calendar), count)


@use_case
async def send_back(cmd: SendBack, uow: UnitOfWork[Repositories]) -> Case:
    """The leader sends the submitted step back to its assignee."""
    return await _act(
        cmd,
        uow,
        "send_back",
        lambda case, at: case.send_back(cmd.actor, cmd.reason, at),
        lambda case: metrics.record_send_back(case.current.agency_code),
    )


@use_case
async def hand_over(cmd: HandOver, uow: UnitOfWork[Repositories]) -> Case:
    """The approved step passes to the next agency of the chain (CaseHandedOver)."""
    return await _act(cmd, uow, "hand_over", lambda case, at: case.hand_over(cmd.actor, at))


@use_case
async def resolve(cmd: Resolve, uow: UnitOfWork[Repositories]) -> Case:
    """The result of the last approved step goes back to reception (DossierResolved)."""
    return await _act(cmd, uow, "resolve", lambda case, at: case.resolve(cmd.actor, cmd.summary, at))


@use_case
async def request_supplement(cmd: RequestSupplement, uow: UnitOfWork[Repositories]) -> Case:
    """Asks the citizen for a supplement; the clock pauses (AgencySupplementRequested)."""
    return await _act(
        cmd, uow, "request_supplement", lambda case, at: case.request_supplement(cmd.actor, cmd.reasons, at)
    )


@use_case
async def request_payment(cmd: RequestPayment, uow: UnitOfWork[Repositories]) -> Case:
    """Fees or taxes to pay before the work goes on (PaymentRequested)."""
    return await _act(
        cmd,
        uow,
        "request_payment",
        lambda case, at: case.request_payment(cmd.actor, cmd.amount_vnd, cmd.description, at),
    )


@use_case
async def confirm_payment(cmd: ConfirmPayment, uow: UnitOfWork[Repositories]) -> Case:
    """The payment arrived: the case is open again (PaymentConfirmed)."""
    return await _act(cmd, uow, "confirm_payment", lambda case, at: case.confirm_payment(cmd.actor, at))


@use_case
async def stop_processing(cmd: StopProcessing, uow: UnitOfWork[Repositories]) -> Case:
    """The leader stops processing (status 8, ProcessingStopped)."""
    return await _act(cmd, uow, "stop", lambda case, at: case.stop(cmd.actor, cmd.reason, at))
