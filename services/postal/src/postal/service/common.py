"""What the use cases share: the rules from settings, the calendar, history entries, access."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Forbidden, NotFound
from motcua_kit.mongo import Document
from motcua_kit.uow import retry_transient
from motcua_worktime import WorkCalendar
from postal import store
from postal.domain.addresses import PostalAddress
from postal.domain.transit import TransitRules, target_date
from postal.settings import PostalSettings
from postal.store import UoW

T = TypeVar("T")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Rules:
    """The settings the rules need, in one value passed to the use cases."""

    carrier: str
    partner: str
    transit: TransitRules
    max_attempts: int
    redelivery_working_days: int

    @classmethod
    def from_settings(cls, s: PostalSettings) -> Rules:
        return cls(
            carrier=s.carrier.code,
            partner=s.carrier.partner,
            transit=s.transit,
            max_attempts=s.max_delivery_attempts,
            redelivery_working_days=s.redelivery_working_days,
        )


def now_utc() -> datetime:
    return datetime.now(UTC)


async def transaction(uow: UoW, work: Callable[[UoW], Awaitable[T]]) -> T:
    """Runs ``work`` in one transaction of ``uow``, again from the start on a transient conflict."""

    async def attempt() -> T:
        async with uow:
            result = await work(uow)
            await uow.commit()
        return result

    return await retry_transient(attempt, uow)


async def load_calendar(db: AsyncDatabase[Document], session: AsyncClientSession | None = None) -> WorkCalendar:
    """The province's calendar as reception last published it; the statutory one until then."""
    doc = await db[store.SETTINGS].find_one({"_id": "calendar"}, session=session)
    return WorkCalendar.from_config(doc["config"]) if doc else WorkCalendar()


def local_day(calendar: WorkCalendar, at: datetime) -> date:
    return at.astimezone(calendar.zone).date()


def history_entry(status: str, at: datetime, source: str, **details: Any) -> Document:
    return {"status": status, "at": at, "source": source, **{k: v for k, v in details.items() if v is not None}}


def address_doc(address: PostalAddress) -> Document:
    return {"street": address.street, "commune": address.commune, "province": address.province}


def address_of(doc: Document) -> PostalAddress:
    return PostalAddress(street=doc["street"], commune=doc["commune"], province=doc["province"])


def target_for(shipment: Document, j: date, rules: Rules) -> str:
    """The shipment's transit target (ISO date) when J is ``j``: a collection also carries the appointment slip."""
    return target_date(
        j,
        address_of(shipment["sender"]["address"]),
        address_of(shipment["recipient"]["address"]),
        rules.transit,
        with_appointment_slip=shipment["purpose"] == "pickup",
    ).isoformat()


def task(kind: str, due_at: datetime) -> Document:
    return {"kind": kind, "due_at": due_at, "attempts": 0, "lease_until": EPOCH, "last_error": None, "stuck": False}


def check_partner(principal: Principal, rules: Rules) -> None:
    """A postal partner token must carry this deployment's partner scope."""
    if principal.scope != rules.partner:
        raise Forbidden(f"your scope {principal.scope} is not the postal partner {rules.partner}")


def can_see(viewer: Principal, shipment: Document) -> bool:
    """A shipment or hand-over minutes: the partner sees its own, officers their centre's, auditors all."""
    if viewer.role is Role.AUDITOR:
        return True
    if viewer.role is Role.POSTAL_PARTNER:
        return viewer.scope == shipment.get("partner")
    return viewer.scope == shipment.get("centre_code")


async def shipment_for(db: AsyncDatabase[Document], shipment_id: str, viewer: Principal, what: str) -> Document:
    doc = await db[store.SHIPMENTS].find_one({"_id": shipment_id})
    if doc is None or not can_see(viewer, doc):
        raise NotFound(f"no {what}")
    return doc
