"""What the agencies read: their work queues, a case, its audit trail, its process-control slip."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from motcua_kit.uow import UnitOfWork
from processing.domain.audit import AuditEntry
from processing.domain.case import Actor, Case
from processing.forms import SlipRow, process_slip_form, process_slip_pdf, slip_rows
from processing.service.common import visible_case
from processing.store import Repositories

QUEUES = ("new", "mine", "approval", "due_soon", "overdue", "paused")


@dataclass(frozen=True, kw_only=True)
class QueueQuery:
    viewer: Actor
    view: str
    due_within_hours: float = 8.0
    limit: int = 50
    offset: int = 0
    now: datetime | None = None


async def work_queue(query: QueueQuery, uow: UnitOfWork[Repositories]) -> tuple[int, list[Case]]:
    """The agency's work queue (its total, and one page), oldest deadline first."""
    at = query.now or datetime.now(UTC)
    due_until = None
    if query.view == "due_soon":
        calendar = await uow.repos.calendar.work_calendar()
        due_until = calendar.add_working_time(at, timedelta(hours=query.due_within_hours)).astimezone(UTC)
    return await uow.repos.cases.queue(
        agency=query.viewer.agency,
        view=query.view,
        assignee=query.viewer.subject,
        now=at,
        due_until=due_until,
        limit=query.limit,
        offset=query.offset,
    )


async def get_case(uow: UnitOfWork[Repositories], *, code: str, viewer: Actor) -> Case:
    return await visible_case(uow.repos, code, viewer)


async def audit_trail(uow: UnitOfWork[Repositories], *, code: str, viewer: Actor) -> list[AuditEntry]:
    await visible_case(uow.repos, code, viewer)
    return await uow.repos.audit.trail(code)


async def process_slip(uow: UnitOfWork[Repositories], *, code: str, viewer: Actor) -> list[SlipRow]:
    """The process-control slip's rows: one per hand-over between units."""
    return slip_rows(await visible_case(uow.repos, code, viewer))


async def process_slip_document(uow: UnitOfWork[Repositories], *, code: str, viewer: Actor) -> bytes:
    """The process-control slip of the case so far, rendered off the event loop."""
    case = await visible_case(uow.repos, code, viewer)
    calendar = await uow.repos.calendar.work_calendar()
    return await asyncio.to_thread(process_slip_pdf, process_slip_form(case), tz=calendar.zone)
