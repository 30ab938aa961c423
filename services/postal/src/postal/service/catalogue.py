"""What postal keeps of reception's catalogue: centres' addresses, procedures' postal permissions, the calendar."""

from __future__ import annotations

from motcua_kit.events import CalendarChanged
from motcua_kit.uow import use_case
from postal.domain.catalogue import Centre, Procedure
from postal.store import UoW


@use_case
async def save_centre(centre: Centre, uow: UoW) -> None:
    async with uow:
        await uow.repos.centres.put(centre)
        await uow.commit()


@use_case
async def save_procedure(procedure: Procedure, uow: UoW) -> bool:
    """Keeps the procedure unless a newer version is kept already (an older one read late changes nothing)."""
    async with uow:
        if not procedure.newer_than(await uow.repos.procedures.get(procedure.code)):
            return False
        await uow.repos.procedures.put(procedure)
        await uow.commit()
    return True


@use_case
async def save_calendar(change: CalendarChanged, uow: UoW) -> bool:
    """Keeps the province's calendar unless a newer one is kept already."""
    async with uow:
        kept = await uow.repos.calendar.apply(change)
        await uow.commit()
    return kept
