"""Copies of another service's reference data, kept from its events: the province calendar.

Processing and postal count working time with the calendar reception publishes (``CalendarChanged``).
Each keeps the latest copy in its own database (``province_settings`` unless the service names another
collection); an older change read late (a replay) never overwrites a newer one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.events import CalendarChanged
from motcua_kit.mongo import Document

PROVINCE_SETTINGS = "province_settings"
CALENDAR_ID = "calendar"


class CalendarReplica:
    """The repository of the calendar copy: ``config()`` for ``WorkCalendar.from_stored``, ``apply(event)``."""

    def __init__(
        self, db: AsyncDatabase[Document], session: AsyncClientSession | None, *, collection: str = PROVINCE_SETTINGS
    ) -> None:
        self.collection = db[collection]
        self.session = session

    async def config(self) -> dict[str, Any] | None:
        """The calendar as reception last published it; None until then (use the statutory calendar)."""
        doc = await self.collection.find_one({"_id": CALENDAR_ID}, session=self.session)
        return doc["config"] if doc else None

    async def changed_at(self) -> datetime | None:
        doc = await self.collection.find_one({"_id": CALENDAR_ID}, {"changed_at": 1}, session=self.session)
        return doc["changed_at"] if doc else None

    async def apply(self, event: CalendarChanged) -> bool:
        """Keeps the event's calendar unless a newer one is kept already; returns whether it was kept."""
        kept = await self.changed_at()
        if kept is not None and kept > event.changed_at:
            return False
        await self.collection.replace_one(
            {"_id": CALENDAR_ID},
            {"config": event.config, "changed_at": event.changed_at, "province": event.province_code},
            upsert=True,
            session=self.session,
        )
        return True
