"""Home collection: a citizen or an officer asks the post to collect a dossier at home."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from motcua_kit.auth import Principal
from motcua_kit.errors import Conflict, Invalid
from motcua_kit.events import PickupRequested
from motcua_kit.mongo import Document
from postal import store
from postal.domain.addresses import AddressProblem, PostalAddress, normalise_phone, parse_address
from postal.service.common import (
    Rules,
    address_doc,
    history_entry,
    load_calendar,
    local_day,
    now_utc,
    task,
    transaction,
)
from postal.store import UoW

MIN_WINDOW = timedelta(hours=1)
MAX_AHEAD = timedelta(days=30)


@dataclass(frozen=True)
class PickupOrder:
    """What a pickup request says, already checked for shape by the API."""

    centre_code: str
    procedure_code: str
    applicant: dict[str, Any]
    address: PostalAddress
    window_start: datetime
    window_end: datetime
    contact_phone: str
    return_channel: str
    delivery_address: str | None
    notify_channels: list[str]
    content: str | None
    note: str | None


def _fingerprint(order: PickupOrder) -> str:
    data = {**order.__dict__, "address": order.address.text}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def new_pickup_id(day: datetime) -> str:
    return f"BC{day:%y%m%d}{secrets.token_hex(3).upper()}"


async def request_pickup(
    uow: UoW,
    order: PickupOrder,
    *,
    rules: Rules,
    requested_by: Principal | None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Document:
    """Checks the procedure allows postal intake and the window makes sense, records the pickup with
    the carrier order to place, and publishes PickupRequested."""
    at = now or now_utc()
    procedure = await uow.repos.db[store.PROCEDURES].find_one({"_id": order.procedure_code})
    if procedure is None:
        raise Invalid(f"procedure {order.procedure_code} is not in the catalogue", code="unknown_procedure")
    if not procedure.get("postal_intake"):
        raise Invalid(
            f"procedure {order.procedure_code} cannot be submitted through the postal service "
            "(it needs the applicant in person)",
            code="postal_intake_not_allowed",
        )
    if order.return_channel == "post" and not procedure.get("postal_return"):
        raise Invalid(
            f"the result of procedure {order.procedure_code} cannot be returned by post",
            code="postal_return_not_allowed",
        )
    centre = await uow.repos.db[store.CENTRES].find_one({"_id": order.centre_code})
    if centre is None:
        raise Invalid(f"{order.centre_code} is not a centre of this province", code="unknown_centre")
    try:
        parse_address(centre.get("address"))
    except AddressProblem as exc:
        raise Conflict(f"the centre's address cannot be used for a collection: {exc}", code="centre_address") from exc
    if (
        requested_by is not None
        and requested_by.role.value == "counter_officer"
        and requested_by.scope != order.centre_code
    ):
        raise Invalid(
            f"you are an officer of {requested_by.scope}; ask for collections to your own centre", code="other_centre"
        )
    _check_window(order, at)
    phone = normalise_phone(order.contact_phone)
    if phone is None:
        raise Invalid("contact_phone must be a Vietnamese phone number, like 0905123456", code="invalid_phone")
    applicant = dict(order.applicant)
    if applicant.get("phone"):
        applicant["phone"] = normalise_phone(applicant["phone"])
        if applicant["phone"] is None:
            raise Invalid("applicant.phone must be a Vietnamese mobile number, like 0905123456", code="invalid_phone")
    fingerprint = _fingerprint(order)
    if idempotency_key:
        seen = await uow.repos.db[store.IDEMPOTENCY].find_one({"_id": f"pickup:{idempotency_key}"})
        if seen is not None:
            return await _same_request(uow, seen, fingerprint)
    calendar = await load_calendar(uow.repos.db)
    pickup_id = new_pickup_id(at.astimezone(calendar.zone))

    async def work(uow: UoW) -> Document:
        doc: Document = {
            "_id": store.pickup_shipment_id(pickup_id),
            "purpose": "pickup",
            "pickup_id": pickup_id,
            "centre_code": order.centre_code,
            "carrier": rules.carrier,
            "partner": rules.partner,
            "status": "ordering",
            "open": True,
            "sender": {"name": applicant["full_name"], "phone": phone, "address": address_doc(order.address)},
            "cod_amount_vnd": int(procedure.get("fees_vnd", 0)),
            "task": task("create_order", at),
            "problem": None,
            "failures": 0,
            "late": False,
            "note": order.note,
            "pickup": {
                "procedure_code": order.procedure_code,
                "procedure_name": procedure.get("name"),
                "applicant": applicant,
                "window_start": order.window_start,
                "window_end": order.window_end,
                "window_day": local_day(calendar, order.window_start).isoformat(),
                "return_channel": order.return_channel,
                "delivery_address": order.delivery_address,
                "notify_channels": order.notify_channels,
                "content": order.content,
                "requested_by": requested_by.subject if requested_by else "citizen",
            },
            "requested_at": at,
            "updated_at": at,
            "history": [history_entry("requested", at, "centre" if requested_by else "citizen")],
        }
        await uow.repos.db[store.SHIPMENTS].insert_one(doc, session=uow.repos.session)
        if idempotency_key:
            await uow.repos.db[store.IDEMPOTENCY].insert_one(
                {
                    "_id": f"pickup:{idempotency_key}",
                    "shipment_id": doc["_id"],
                    "fingerprint": fingerprint,
                    "created_at": at,
                },
                session=uow.repos.session,
            )
        uow.publish(
            PickupRequested(
                pickup_id=pickup_id,
                centre_code=order.centre_code,
                procedure_code=order.procedure_code,
                requested_at=at,
                window_start=order.window_start,
                window_end=order.window_end,
            )
        )
        return doc

    return await transaction(uow, work)


async def _same_request(uow: UoW, seen: Document, fingerprint: str) -> Document:
    if seen["fingerprint"] != fingerprint:
        raise Conflict("this Idempotency-Key was used for a different pickup request", code="idempotency_key_reused")
    doc = await uow.repos.db[store.SHIPMENTS].find_one({"_id": seen["shipment_id"]})
    assert doc is not None
    return doc


def _check_window(order: PickupOrder, now: datetime) -> None:
    if order.window_start.tzinfo is None or order.window_end.tzinfo is None:
        raise Invalid(
            "window_start and window_end need a time zone, like 2026-12-02T08:00:00+07:00", code="invalid_window"
        )
    if order.window_end - order.window_start < MIN_WINDOW:
        raise Invalid(
            "the collection window must last at least one hour and end after it starts", code="invalid_window"
        )
    if order.window_end <= now:
        raise Invalid("the collection window is already over", code="invalid_window")
    if order.window_start - now > MAX_AHEAD:
        raise Invalid("a collection can be booked at most 30 days ahead", code="invalid_window")
