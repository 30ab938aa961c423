"""What postal keeps of reception's catalogue: centres' addresses, procedures' postal permissions, the calendar."""

from __future__ import annotations

from motcua_kit.events import CalendarChanged, CentreChanged, ProcedureChanged
from postal import store
from postal.store import UoW


async def save_centre(uow: UoW, event: CentreChanged) -> None:
    await uow.repos.db[store.CENTRES].replace_one(
        {"_id": event.centre_code},
        {
            "name": event.name,
            "level": event.level,
            "address": event.address,
            "phone": event.phone,
            "changed_at": event.changed_at,
        },
        upsert=True,
        session=uow.repos.session,
    )


async def save_procedure(uow: UoW, event: ProcedureChanged) -> None:
    p = event.procedure
    fees = sum(int(f.get("amount_vnd", 0)) for f in p.get("fees", []) if isinstance(f, dict))
    current = await uow.repos.db[store.PROCEDURES].find_one({"_id": event.procedure_code}, session=uow.repos.session)
    if current is not None and current.get("version", 0) >= event.version:
        return  # an older version arriving late changes nothing
    await uow.repos.db[store.PROCEDURES].replace_one(
        {"_id": event.procedure_code},
        {
            "name": p.get("name", ""),
            "version": event.version,
            "postal_intake": bool(p.get("postal_intake")) and event.change != "retired" and p.get("active", True),
            "postal_return": bool(p.get("postal_return")) and event.change != "retired" and p.get("active", True),
            "documents": p.get("documents", []),
            "fees_vnd": fees,
            "changed_at": event.changed_at,
        },
        upsert=True,
        session=uow.repos.session,
    )


async def save_calendar(uow: UoW, event: CalendarChanged) -> None:
    await uow.repos.db[store.SETTINGS].replace_one(
        {"_id": "calendar"},
        {"config": event.config, "changed_at": event.changed_at, "province": event.province_code},
        upsert=True,
        session=uow.repos.session,
    )
