"""Hand-over minutes (biên bản giao nhận) at the centre, signed by both sides.

Results: a counter officer lists what the postal worker takes today (from the manifest) and the
partner confirms, or the other way round; once both signed, each result is handed to the post
(ResultHandedToPost, J for the transit target). Collections: the postal worker lists the dossiers
brought with the papers counted and fees collected, an officer checks and confirms; once both
signed, reception registers each dossier with the clock starting now (PickupHandedOver).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Forbidden, Invalid, NotFound
from motcua_kit.uow import use_case
from postal.domain.handovers import HandoverMinutes
from postal.domain.shipment import HandoverKind, Pickup, local_day
from postal.domain.tracking import party_of
from postal.service.common import Rules, can_see, check_partner, load_calendar, now_utc
from postal.store import UoW


@dataclass(frozen=True)
class PickupItem:
    pickup_id: str
    documents: list[dict[str, Any]]
    fees_collected_vnd: int = 0


@dataclass(frozen=True)
class PrepareHandover:
    principal: Principal
    kind: HandoverKind
    centre_code: str | None = None
    tracking_numbers: list[str] = field(default_factory=list)
    pickups: list[PickupItem] = field(default_factory=list)
    signer_name: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ConfirmHandover:
    handover_id: str
    principal: Principal
    signer_name: str | None = None


@dataclass(frozen=True)
class RejectHandover:
    handover_id: str
    principal: Principal
    reason: str


def _centre_of(principal: Principal, centre_code: str | None, rules: Rules) -> str:
    if principal.role is Role.POSTAL_PARTNER:
        check_partner(principal, rules)
        if not centre_code:
            raise Invalid("centre_code is required for the postal partner", code="centre_required")
        return centre_code
    if centre_code and centre_code != principal.scope:
        raise Forbidden(f"you are an officer of {principal.scope}, not of {centre_code}")
    return principal.scope


def _signer(principal: Principal, name: str | None) -> dict[str, Any]:
    return {
        "subject": principal.subject,
        "role": principal.role.value,
        "name": name or principal.name or principal.subject,
    }


@use_case
async def prepare(cmd: PrepareHandover, uow: UoW, *, rules: Rules) -> HandoverMinutes:
    kind, principal = cmd.kind, cmd.principal
    centre = _centre_of(principal, cmd.centre_code, rules)
    if kind == "result" and (not cmd.tracking_numbers or cmd.pickups):
        raise Invalid("minutes of results list tracking_numbers (and no pickups)", code="invalid_minutes")
    if kind == "pickup" and (not cmd.pickups or cmd.tracking_numbers):
        raise Invalid("minutes of collections list pickups (and no tracking_numbers)", code="invalid_minutes")
    ids = (
        [("tracking_number", t) for t in cmd.tracking_numbers]
        if kind == "result"
        else [("pickup_id", p.pickup_id) for p in cmd.pickups]
    )
    if len({v for _, v in ids}) != len(ids):
        raise Invalid("a shipment is listed twice", code="invalid_minutes")
    now = now_utc()
    handover_id = f"BBGN{now:%y%m%d}{secrets.token_hex(3).upper()}"
    purpose = "delivery" if kind == "result" else "pickup"
    extras: list[PickupItem | None] = list(cmd.pickups) if cmd.pickups else [None] * len(ids)
    async with uow:
        items: list[dict[str, Any]] = []
        for (field_name, value), extra in zip(ids, extras, strict=True):
            shipment = await uow.repos.shipments.by_reference(purpose, field_name, value)
            if shipment is None or shipment.centre_code != centre:
                raise NotFound(
                    f"no {'result shipment' if kind == 'result' else 'collection'} {value} at centre {centre}"
                )
            shipment.put_on_minutes(handover_id, kind)
            await uow.repos.shipments.save(shipment)
            item: dict[str, Any] = {"shipment_id": shipment.id, "tracking_number": shipment.tracking_number}
            if kind == "result":
                item["dossier_code"] = shipment.dossier_code
            else:
                assert extra is not None
                item |= {
                    "pickup_id": extra.pickup_id,
                    "documents": extra.documents,
                    "fees_collected_vnd": extra.fees_collected_vnd,
                }
            items.append(item)
        minutes = HandoverMinutes(
            id=handover_id,
            kind=kind,
            centre_code=centre,
            partner=rules.partner,
            items=items,
            prepared_by={**_signer(principal, cmd.signer_name), "party": party_of(principal.role.value)},
            prepared_at=now,
            note=cmd.note,
        )
        await uow.repos.handovers.add(minutes)
        await uow.commit()
    return minutes


async def get(uow: UoW, handover_id: str, viewer: Principal) -> HandoverMinutes:
    minutes = await uow.repos.handovers.get(handover_id)
    if minutes is None or not can_see(viewer, minutes):
        raise NotFound(f"no hand-over minutes {handover_id}")
    return minutes


@use_case
async def confirm(cmd: ConfirmHandover, uow: UoW, *, rules: Rules) -> HandoverMinutes:
    """The other side signs: results are handed to the post, collected dossiers to the centre."""
    principal = cmd.principal
    async with uow:
        minutes = await uow.repos.handovers.get(cmd.handover_id)
        if minutes is None or not can_see(principal, minutes):
            raise NotFound(f"no hand-over minutes {cmd.handover_id}")
        now = now_utc()
        signer = {**_signer(principal, cmd.signer_name), "party": party_of(principal.role.value)}
        signers = minutes.confirm(signer, now)
        calendar = await load_calendar(uow.repos.calendar)
        for item in minutes.items:
            shipment = await uow.repos.shipments.get(item["shipment_id"])
            assert shipment is not None
            if minutes.kind == "result":
                events = shipment.hand_to_post(j=local_day(calendar, now), transit=rules.transit, now=now)
            else:
                assert isinstance(shipment, Pickup)
                events = shipment.hand_over(
                    documents=item["documents"],
                    fees_collected_vnd=item.get("fees_collected_vnd", 0),
                    officer=signers["centre"]["subject"],
                    postal_worker=signers["postal"]["name"],
                    now=now,
                )
            await uow.repos.shipments.save(shipment)
            uow.publish(*events)
        await uow.repos.handovers.save(minutes)
        await uow.commit()
    return minutes


@use_case
async def reject(cmd: RejectHandover, uow: UoW) -> HandoverMinutes:
    """The other side does not sign (the papers do not match the list): the shipments are free again."""
    async with uow:
        minutes = await uow.repos.handovers.get(cmd.handover_id)
        if minutes is None or not can_see(cmd.principal, minutes):
            raise NotFound(f"no hand-over minutes {cmd.handover_id}")
        minutes.reject(_signer(cmd.principal, None), cmd.reason, now_utc())
        for item in minutes.items:
            shipment = await uow.repos.shipments.get(item["shipment_id"])
            if shipment is not None and shipment.handover_id == minutes.id:
                shipment.off_minutes(minutes.id)
                await uow.repos.shipments.save(shipment)
        await uow.repos.handovers.save(minutes)
        await uow.commit()
    return minutes
