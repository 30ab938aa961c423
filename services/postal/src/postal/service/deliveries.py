"""Result delivery: planned at receipt when the citizen chose return by post, ordered at resolution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from motcua_kit.auth import Principal
from motcua_kit.errors import NotFound
from motcua_kit.uow import use_case
from postal.domain.shipment import Shipment, delivery_id
from postal.service.common import Rules, can_see, now_utc
from postal.store import UoW


@dataclass(frozen=True)
class PlanDelivery:
    """A dossier was received (DossierReceived)."""

    dossier_code: str
    centre_code: str
    return_channel: str
    recipient_name: str
    recipient_phone: str | None
    address_text: str
    appointment_at: datetime | None = None


@dataclass(frozen=True)
class RecordResolution:
    """A dossier was resolved (DossierResolved)."""

    dossier_code: str
    resolved_at: datetime


@dataclass(frozen=True)
class CorrectRecipient:
    dossier_code: str
    viewer: Principal
    address: str
    phone: str | None = None
    name: str | None = None


@use_case
async def plan(cmd: PlanDelivery, uow: UoW, *, rules: Rules) -> Shipment | None:
    """A citizen who chose return by post gets a delivery planned now, ordered once the dossier is
    resolved. Dossiers returned at the counter are none of postal's business."""
    if cmd.return_channel != "post":
        return None
    async with uow:
        if await uow.repos.shipments.exists(delivery_id(cmd.dossier_code)):
            return None
        shipment, events = Shipment.plan_delivery(
            dossier_code=cmd.dossier_code,
            centre_code=cmd.centre_code,
            carrier=rules.carrier,
            partner=rules.partner,
            name=cmd.recipient_name,
            phone=cmd.recipient_phone,
            address_text=cmd.address_text,
            appointment_at=cmd.appointment_at,
            # The resolution may have been read before the receipt (cross-topic order is not kept).
            resolved_at=await uow.repos.resolutions.resolved_at(cmd.dossier_code),
            now=now_utc(),
        )
        await uow.repos.shipments.add(shipment)
        uow.publish(*events)
        await uow.commit()
    return shipment


@use_case
async def record_resolution(cmd: RecordResolution, uow: UoW) -> bool:
    """The result is ready: order the shipment once, however many times the resolution arrives."""
    async with uow:
        shipment = await uow.repos.shipments.get(delivery_id(cmd.dossier_code))
        if shipment is None:
            # Counter return, or the receipt is not read yet: remember the resolution for ``plan``.
            await uow.repos.resolutions.remember(cmd.dossier_code, cmd.resolved_at, now_utc())
            changed = False
        else:
            changed = shipment.resolve(cmd.resolved_at, now_utc())
            if changed:
                await uow.repos.shipments.save(shipment)
        await uow.commit()
    return changed


@use_case
async def correct_recipient(cmd: CorrectRecipient, uow: UoW) -> Shipment:
    """An officer fixes the recipient of a delivery the carrier has not accepted yet; a refused order
    is ordered again."""
    async with uow:
        shipment = await uow.repos.shipments.get(delivery_id(cmd.dossier_code))
        if shipment is None or not can_see(cmd.viewer, shipment):
            raise NotFound(f"no postal delivery for dossier {cmd.dossier_code}")
        shipment.correct_recipient(
            address_text=cmd.address, phone=cmd.phone, name=cmd.name, by=cmd.viewer.subject, now=now_utc()
        )
        await uow.repos.shipments.save(shipment)
        await uow.commit()
    return shipment
