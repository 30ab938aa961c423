"""The apology and new appointment (Mẫu 04): issued at most once per dossier, printed on demand."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from motcua_kit.errors import Conflict
from motcua_kit.uow import UnitOfWork, use_case
from processing.domain.audit import AuditEntry
from processing.domain.case import Actor, Case
from processing.forms import apology_form, apology_pdf
from processing.service.common import refusals, visible_case
from processing.store import Repositories


@dataclass(frozen=True, kw_only=True)
class IssueApology:
    code: str
    actor: Actor
    reason: str
    new_appointment_at: datetime
    at: datetime | None = None


@use_case
async def issue_apology(cmd: IssueApology, uow: UnitOfWork[Repositories]) -> Case:
    """At most once per dossier, by a leader of the agency holding it, at the latest one working day
    before the deadline; the new appointment becomes the deadline everywhere (ApologyIssued)."""
    at = cmd.at or datetime.now(UTC)
    actor = cmd.actor
    calendar = await uow.repos.calendar.work_calendar()
    async with uow:
        case = await visible_case(uow.repos, cmd.code, actor)
        with refusals():
            events = case.apologise(
                actor, reason=cmd.reason, new_appointment_at=cmd.new_appointment_at, at=at, calendar=calendar
            )
        await uow.repos.cases.save(case)
        await uow.repos.audit.add(
            AuditEntry(
                id=f"{case.code}:apology",  # at most once, whatever happens
                case=case.code,
                action="apology",
                by=actor.subject,
                role=actor.role,
                agency=actor.agency,
                at=at,
                details={"reason": cmd.reason},
            )
        )
        uow.publish(*events)
        await uow.commit()
    return case


async def apology_document(uow: UnitOfWork[Repositories], *, code: str, viewer: Actor) -> bytes:
    """Mẫu 04 of an issued apology, rendered off the event loop."""
    case = await visible_case(uow.repos, code, viewer)
    if case.apology is None:
        raise Conflict("no apology was issued for this dossier", code="no_apology")
    calendar = await uow.repos.calendar.work_calendar()
    return await asyncio.to_thread(apology_pdf, apology_form(case, case.apology), tz=calendar.zone)
