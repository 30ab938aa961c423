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
from motcua_kit.uow import use_case
from motcua_kit.values import normalise_phone
from postal.domain.addresses import AddressProblem, PostalAddress, parse_address
from postal.domain.shipment import Contact, Pickup, PickupRequest, local_day
from postal.service.common import Rules, load_calendar, now_utc
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


@dataclass(frozen=True)
class RequestPickup:
    order: PickupOrder
    requested_by: Principal | None = None
    idempotency_key: str | None = None
    now: datetime | None = None


def _fingerprint(order: PickupOrder) -> str:
    data = {**order.__dict__, "address": order.address.text}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def new_pickup_id(day: datetime) -> str:
    return f"BC{day:%y%m%d}{secrets.token_hex(3).upper()}"


@use_case
async def request_pickup(cmd: RequestPickup, uow: UoW, *, rules: Rules) -> Pickup:
    """Checks the procedure allows postal intake and the window makes sense, records the pickup with
    the carrier order to place, and publishes PickupRequested."""
    order, requested_by = cmd.order, cmd.requested_by
    at = cmd.now or now_utc()
    async with uow:
        procedure = await uow.repos.procedures.get(order.procedure_code)
        if procedure is None:
            raise Invalid(f"procedure {order.procedure_code} is not in the catalogue", code="unknown_procedure")
        if not procedure.postal_intake:
            raise Invalid(
                f"procedure {order.procedure_code} cannot be submitted through the postal service "
                "(it needs the applicant in person)",
                code="postal_intake_not_allowed",
            )
        if order.return_channel == "post" and not procedure.postal_return:
            raise Invalid(
                f"the result of procedure {order.procedure_code} cannot be returned by post",
                code="postal_return_not_allowed",
            )
        centre = await uow.repos.centres.get(order.centre_code)
        if centre is None:
            raise Invalid(f"{order.centre_code} is not a centre of this province", code="unknown_centre")
        try:
            parse_address(centre.address)
        except AddressProblem as exc:
            raise Conflict(
                f"the centre's address cannot be used for a collection: {exc}", code="centre_address"
            ) from exc
        if (
            requested_by is not None
            and requested_by.role.value == "counter_officer"
            and requested_by.scope != order.centre_code
        ):
            raise Invalid(
                f"you are an officer of {requested_by.scope}; ask for collections to your own centre",
                code="other_centre",
            )
        _check_window(order, at)
        phone = normalise_phone(order.contact_phone)
        if phone is None:
            raise Invalid("contact_phone must be a Vietnamese phone number, like 0905123456", code="invalid_phone")
        applicant = dict(order.applicant)
        if applicant.get("phone"):
            applicant["phone"] = normalise_phone(applicant["phone"])
            if applicant["phone"] is None:
                raise Invalid(
                    "applicant.phone must be a Vietnamese mobile number, like 0905123456", code="invalid_phone"
                )
        fingerprint = _fingerprint(order)
        if cmd.idempotency_key:
            seen = await uow.repos.pickup_keys.get(cmd.idempotency_key)
            if seen is not None:
                shipment_id, used_for = seen
                if used_for != fingerprint:
                    raise Conflict(
                        "this Idempotency-Key was used for a different pickup request", code="idempotency_key_reused"
                    )
                same = await uow.repos.shipments.get(shipment_id)
                assert isinstance(same, Pickup)
                return same
        calendar = await load_calendar(uow.repos.calendar)
        pickup_id = new_pickup_id(at.astimezone(calendar.zone))
        pickup, events = Pickup.requested(
            pickup_id=pickup_id,
            centre_code=order.centre_code,
            carrier=rules.carrier,
            partner=rules.partner,
            sender=Contact(name=applicant["full_name"], phone=phone, address=order.address),
            request=PickupRequest(
                procedure_code=order.procedure_code,
                procedure_name=procedure.name,
                applicant=applicant,
                window_start=order.window_start,
                window_end=order.window_end,
                window_day=local_day(calendar, order.window_start).isoformat(),
                return_channel=order.return_channel,
                delivery_address=order.delivery_address,
                notify_channels=order.notify_channels,
                content=order.content,
                requested_by=requested_by.subject if requested_by else "citizen",
            ),
            cod_amount_vnd=procedure.fees_vnd,
            note=order.note,
            source="centre" if requested_by else "citizen",
            now=at,
        )
        await uow.repos.pickups.add(pickup)
        if cmd.idempotency_key:
            await uow.repos.pickup_keys.add(cmd.idempotency_key, shipment_id=pickup.id, fingerprint=fingerprint, at=at)
        uow.publish(*events)
        await uow.commit()
    return pickup


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
