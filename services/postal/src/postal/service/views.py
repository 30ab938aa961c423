"""What staff and the postal partner look at: shipments, the centre's manifest, today's rounds."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Forbidden
from motcua_kit.mongo import Document
from postal import store
from postal.service.common import Rules, check_partner, load_calendar
from postal.store import UoW

LIMIT = 500


def _scope_filter(viewer: Principal, centre_code: str | None, rules: Rules) -> Document:
    if viewer.role is Role.POSTAL_PARTNER:
        check_partner(viewer, rules)
        return {"partner": viewer.scope, **({"centre_code": centre_code} if centre_code else {})}
    if viewer.role is Role.AUDITOR:
        return {"centre_code": centre_code} if centre_code else {}
    if centre_code and centre_code != viewer.scope:
        raise Forbidden(f"you are an officer of {viewer.scope}, not of {centre_code}")
    return {"centre_code": viewer.scope}


async def list_shipments(
    uow: UoW,
    viewer: Principal,
    rules: Rules,
    *,
    centre_code: str | None,
    purpose: str | None,
    status: str | None,
    late: bool | None,
) -> list[Document]:
    query = _scope_filter(viewer, centre_code, rules)
    if purpose:
        query["purpose"] = purpose
    if status:
        query["status"] = status
    if late is not None:
        query["late"] = late
    return await uow.repos.db[store.SHIPMENTS].find(query).sort("updated_at", -1).to_list(LIMIT)


async def manifest(uow: UoW, viewer: Principal, rules: Rules, *, centre_code: str | None) -> dict[str, list[Document]]:
    """At the centre now: results the postal worker takes, and collected dossiers waiting for minutes."""
    query = _scope_filter(viewer, centre_code, rules)
    docs = await uow.repos.db[store.SHIPMENTS].find({**query, "open": True}).to_list(None)
    free = [d for d in docs if not d.get("handover_id") and not d.get("handed_over_at")]
    return {
        "results_to_take": [d for d in free if d["purpose"] == "delivery" and d["status"] in ("created", "picked_up")],
        "collections_to_receive": [
            d for d in free if d["purpose"] == "pickup" and d["status"] in ("in_transit", "arrived")
        ],
    }


async def partner_day(
    uow: UoW, viewer: Principal, rules: Rules, *, centre_code: str | None, day: date | None
) -> dict[str, Any]:
    """The partner's round for one day: collections booked that day, results to take from the centre,
    and deliveries to make (first attempts and re-attempts now allowed)."""
    query = _scope_filter(viewer, centre_code, rules)
    calendar = await load_calendar(uow.repos.db)
    today = day or datetime.now(calendar.zone).date()
    end_of_day = datetime.combine(today + timedelta(days=1), time(0), calendar.zone)
    docs = await uow.repos.db[store.SHIPMENTS].find({**query, "open": True}).to_list(None)
    collections = [
        d
        for d in docs
        if d["purpose"] == "pickup"
        and d["status"] in ("ordering", "created")
        and d["pickup"]["window_day"] <= today.isoformat()
    ]
    deliveries = [
        d
        for d in docs
        if d["purpose"] == "delivery"
        and (
            d["status"] in ("handed_to_post", "picked_up", "in_transit", "out_for_delivery")
            or (
                d["status"] == "delivery_failed"
                and d.get("next_attempt_after")
                and d["next_attempt_after"] < end_of_day
            )
        )
    ]
    take = await manifest(uow, viewer, rules, centre_code=centre_code)
    return {
        "date": today.isoformat(),
        "collections": collections,
        "results_to_take": take["results_to_take"],
        "deliveries": deliveries,
    }
