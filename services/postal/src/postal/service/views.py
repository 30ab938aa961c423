"""What staff and the postal partner look at: shipments, the centre's manifest, today's rounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Forbidden, NotFound
from postal.domain.shipment import Shipment, delivery_id, pickup_shipment_id
from postal.service.common import Rules, can_see, check_partner, load_calendar
from postal.store import UoW

LIMIT = 500


@dataclass(frozen=True)
class Scope:
    """Whose shipments a viewer sees: the partner its own, officers their centre's, auditors all."""

    partner: str | None = None
    centre_code: str | None = None


def _scope(viewer: Principal, centre_code: str | None, rules: Rules) -> Scope:
    if viewer.role is Role.POSTAL_PARTNER:
        check_partner(viewer, rules)
        return Scope(partner=viewer.scope, centre_code=centre_code or None)
    if viewer.role is Role.AUDITOR:
        return Scope(centre_code=centre_code or None)
    if centre_code and centre_code != viewer.scope:
        raise Forbidden(f"you are an officer of {viewer.scope}, not of {centre_code}")
    return Scope(centre_code=viewer.scope)


async def _visible(uow: UoW, shipment_id: str, viewer: Principal, what: str) -> Shipment:
    shipment = await uow.repos.shipments.get(shipment_id)
    if shipment is None or not can_see(viewer, shipment):
        raise NotFound(f"no {what}")
    return shipment


async def delivery(uow: UoW, code: str, viewer: Principal) -> Shipment:
    """The postal delivery of a dossier's result."""
    return await _visible(uow, delivery_id(code), viewer, f"postal delivery for dossier {code}")


async def pickup(uow: UoW, pickup_id: str, viewer: Principal) -> Shipment:
    return await _visible(uow, pickup_shipment_id(pickup_id), viewer, f"pickup {pickup_id}")


async def list_shipments(
    uow: UoW,
    viewer: Principal,
    rules: Rules,
    *,
    centre_code: str | None,
    purpose: str | None,
    status: str | None,
    late: bool | None,
) -> list[Shipment]:
    scope = _scope(viewer, centre_code, rules)
    return await uow.repos.shipments.search(
        partner=scope.partner,
        centre_code=scope.centre_code,
        purpose=purpose or None,
        status=status or None,
        late=late,
        newest_first=True,
        limit=LIMIT,
    )


async def _open(uow: UoW, scope: Scope) -> list[Shipment]:
    return await uow.repos.shipments.search(partner=scope.partner, centre_code=scope.centre_code, open=True)


def _to_take(shipments: list[Shipment]) -> dict[str, list[Shipment]]:
    free = [s for s in shipments if not s.handover_id and not s.handed_over_at]
    return {
        "results_to_take": [s for s in free if s.purpose == "delivery" and s.status in ("created", "picked_up")],
        "collections_to_receive": [s for s in free if s.purpose == "pickup" and s.status in ("in_transit", "arrived")],
    }


async def manifest(uow: UoW, viewer: Principal, rules: Rules, *, centre_code: str | None) -> dict[str, list[Shipment]]:
    """At the centre now: results the postal worker takes, and collected dossiers waiting for minutes."""
    return _to_take(await _open(uow, _scope(viewer, centre_code, rules)))


@dataclass(frozen=True)
class PartnerDay:
    date: str
    collections: list[Shipment]
    results_to_take: list[Shipment]
    deliveries: list[Shipment]


async def partner_day(
    uow: UoW, viewer: Principal, rules: Rules, *, centre_code: str | None, day: date | None
) -> PartnerDay:
    """The partner's round for one day: collections booked that day, results to take from the centre,
    and deliveries to make (first attempts and re-attempts now allowed)."""
    scope = _scope(viewer, centre_code, rules)
    calendar = await load_calendar(uow.repos.calendar)
    today = day or datetime.now(calendar.zone).date()
    end_of_day = datetime.combine(today + timedelta(days=1), time(0), calendar.zone)
    shipments = await _open(uow, scope)
    collections = [
        s
        for s in shipments
        if s.purpose == "pickup"
        and s.status in ("ordering", "created")
        and s.pickup is not None
        and s.pickup.window_day <= today.isoformat()
    ]
    deliveries = [
        s
        for s in shipments
        if s.purpose == "delivery"
        and (
            s.status in ("handed_to_post", "picked_up", "in_transit", "out_for_delivery")
            or (
                s.status == "delivery_failed" and s.next_attempt_after is not None and s.next_attempt_after < end_of_day
            )
        )
    ]
    take = _to_take(shipments)
    return PartnerDay(
        date=today.isoformat(),
        collections=collections,
        results_to_take=take["results_to_take"],
        deliveries=deliveries,
    )
