"""The agencies' performance report: steps handled in a period and the backlog now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from motcua_kit.uow import UnitOfWork
from motcua_kit.values import ReportPeriod
from processing.domain.case import Actor
from processing.domain.performance import Row, StepFact, build
from processing.store import Repositories


@dataclass(frozen=True, kw_only=True)
class PerformanceQuery:
    viewer: Actor
    period: ReportPeriod
    by: str = "agency"
    now: datetime | None = None


async def performance(query: PerformanceQuery, uow: UnitOfWork[Repositories]) -> list[Row]:
    """Per agency, field or procedure. A leader sees their own agency; an auditor sees every agency."""
    at = query.now or datetime.now(UTC)
    zone = (await uow.repos.calendar.work_calendar()).zone
    start = query.period.start(zone)
    end = datetime.combine(query.period.last, time.max, zone)  # the last day included
    agency = None if query.viewer.role == "auditor" else query.viewer.agency
    facts = []
    for case in await uow.repos.cases.for_performance(start=start, end=end, agency=agency):
        for step in case.steps:
            if agency and step.agency_code != agency:
                continue
            current = case.is_open and step.position == case.current_step
            facts.append(
                StepFact(
                    agency=step.agency_code,
                    field=case.procedure["field"],
                    procedure=case.procedure["code"],
                    completed_at=step.completed_at,
                    result=step.result,
                    working_hours=step.working_hours,
                    open_now=current,
                    overdue_now=current and step.due_at < at,
                )
            )
    return build(facts, by=query.by, start=start, end=end)
