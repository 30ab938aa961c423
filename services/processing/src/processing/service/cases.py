"""Opening a case and the reactions to what reception tells: a supplement, a withdrawal, the calendar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from motcua_kit.events import CalendarChanged
from motcua_kit.uow import UnitOfWork, use_case
from processing import metrics
from processing.domain.case import Case, ChainLink
from processing.domain.workflow import ActionRefused
from processing.store import Repositories


@dataclass(frozen=True, kw_only=True)
class OpenCase:
    """A received dossier, as processing needs it."""

    code: str
    procedure: dict[str, Any]
    centre_code: str
    centre_name: str | None
    province_name: str | None
    applicant_name: str | None
    competent_agency: str
    chain: Sequence[ChainLink]
    received_at: datetime
    clock_started_at: datetime
    appointment_at: datetime
    limit_working_hours: float
    now: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ResumeAfterSupplement:
    code: str
    received_at: datetime
    received_by: str
    paused_working_hours: float
    appointment_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class WithdrawCase:
    code: str
    reason: str
    withdrawn_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class KeepCalendar:
    """Reception published the province calendar: keep the copy, unless a newer one is kept."""

    change: CalendarChanged = field()


@use_case
async def open_case(cmd: OpenCase, uow: UnitOfWork[Repositories]) -> Case:
    """Opens the case of a received dossier: one step per agency of the chain (CaseOpened)."""
    async with uow:
        calendar = await uow.repos.calendar.work_calendar()
        case, events = Case.open(
            code=cmd.code,
            procedure=cmd.procedure,
            centre_code=cmd.centre_code,
            centre_name=cmd.centre_name,
            province_name=cmd.province_name,
            applicant_name=cmd.applicant_name,
            competent_agency=cmd.competent_agency,
            chain=cmd.chain,
            received_at=cmd.received_at,
            clock_started_at=cmd.clock_started_at,
            appointment_at=cmd.appointment_at,
            limit_working_hours=cmd.limit_working_hours,
            calendar=calendar,
            now=cmd.now or datetime.now(UTC),
        )
        await uow.repos.cases.add(case)
        uow.publish(*events)
        first_agency = case.current.agency_code
        uow.after_commit(lambda: metrics.record_case_opened(first_agency))
        await uow.commit()
    return case


@use_case
async def resume_after_supplement(cmd: ResumeAfterSupplement, uow: UnitOfWork[Repositories]) -> Case | None:
    """The citizen's supplement arrived: the clock resumes and every open deadline moves by the pause.

    A supplement at intake (before the case existed), or one already taken into account, changes nothing."""
    async with uow:
        case = await uow.repos.cases.get(cmd.code)
        if case is None:
            return None
        calendar = await uow.repos.calendar.work_calendar()
        try:
            events = case.resume_after_supplement(
                received_at=cmd.received_at,
                received_by=cmd.received_by,
                paused_working_hours=cmd.paused_working_hours,
                appointment_at=cmd.appointment_at,
                calendar=calendar,
            )
        except ActionRefused:
            return case
        await uow.repos.cases.save(case)
        uow.publish(*events)
        await uow.commit()
    return case


@use_case
async def withdraw_case(cmd: WithdrawCase, uow: UnitOfWork[Repositories]) -> Case | None:
    """The citizen withdrew the dossier at reception: the case stops here (a closed case stays as it is)."""
    async with uow:
        case = await uow.repos.cases.get(cmd.code)
        if case is None:
            return None
        try:
            events = case.withdraw(reason=cmd.reason, at=cmd.withdrawn_at, by=cmd.recorded_by)
        except ActionRefused:
            return case
        await uow.repos.cases.save(case)
        uow.publish(*events)
        await uow.commit()
    return case


@use_case
async def keep_calendar(cmd: KeepCalendar, uow: UnitOfWork[Repositories]) -> bool:
    """Returns whether the change was kept (an older one read late is not)."""
    async with uow:
        kept = await uow.repos.calendar.apply(cmd.change)
        await uow.commit()
    return kept
