"""The legal clock: alerts before a step's or the dossier's deadline is missed, and when a step's was.

The scan runs in every worker replica. Each alert is recorded on the case (its key in ``alerts``) in the
transaction that publishes it, and the case is saved with its version check: when two replicas raise the
same alert at once, the second one's save conflicts, runs again on the fresh case and finds nothing to raise.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from motcua_kit.uow import UnitOfWork, use_case
from processing import metrics
from processing.store import Repositories


@dataclass(frozen=True)
class ScanDeadlines:
    warn_working_hours: float
    now: datetime | None = None


@dataclass(frozen=True)
class RaiseAlerts:
    code: str
    at: datetime
    horizon: datetime


@use_case
async def raise_alerts(cmd: RaiseAlerts, uow: UnitOfWork[Repositories]) -> int:
    """Publishes the case's due alerts not raised yet; returns how many."""
    async with uow:
        case = await uow.repos.cases.get(cmd.code)
        if case is None:
            return 0
        events = case.raise_alerts(cmd.at, cmd.horizon)
        if not events:
            return 0
        await uow.repos.cases.save(case)
        uow.publish(*events)
        for event in events:
            uow.after_commit(functools.partial(metrics.record_alert, event.event_type))
        await uow.commit()
    return len(events)


@use_case
async def scan_deadlines(cmd: ScanDeadlines, uow: UnitOfWork[Repositories]) -> int:
    """One round of the clock: each due alert published once; returns how many this round published."""
    at = cmd.now or datetime.now(UTC)
    calendar = await uow.repos.calendar.work_calendar()
    horizon = calendar.add_working_time(at, timedelta(hours=cmd.warn_working_hours)).astimezone(UTC)
    published = 0
    for case in await uow.repos.cases.near_deadline(horizon):
        if case.pending_alerts(at, horizon):
            published += await raise_alerts(RaiseAlerts(case.code, at, horizon), uow)
    return published


async def refresh_step_gauges(uow: UnitOfWork[Repositories], now: datetime | None = None) -> None:
    """The open and overdue steps per agency, as gauges (read outside any transaction)."""
    open_by_agency, overdue_by_agency = await uow.repos.cases.open_steps(now or datetime.now(UTC))
    metrics.set_open_steps(open_by_agency, overdue_by_agency)
