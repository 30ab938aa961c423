"""Carrier calls that must happen exactly once in effect: create an order, ask for a return.

A use case never calls the carrier inside its transaction; it leaves a ``task`` on the shipment, in the
same transaction as the state change. This loop claims due tasks (a lease, so replicas do not both
call), makes the call, and records the outcome with its events. A retryable failure waits and tries
again with growing delays, for as long as it takes (the carrier down for hours loses no order), and
is flagged ``stuck`` for operators after a number of attempts; a permanent refusal lands on the
shipment as a problem for an officer. Creating an order twice is harmless: the carrier answers
"already exists" with the same tracking number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from motcua_kit.logs import get_logger
from motcua_kit.uow import use_case
from motcua_kit.values import normalise_phone
from postal import metrics
from postal.clients.carrier import Carrier, CarrierError, CarrierOrder, Party
from postal.domain.addresses import AddressProblem, parse_address
from postal.domain.shipment import Contact, Shipment, TaskKind, local_day
from postal.service.common import Rules, load_calendar, now_utc
from postal.settings import PostalSettings
from postal.store import UoW

log = get_logger(__name__)


class NotReady(Exception):
    """What the call needs is not known yet (the centre's address): try again later."""


@dataclass(frozen=True)
class RecordOrder:
    """The carrier took the order of ``shipment_id``."""

    shipment_id: str
    tracking_number: str
    sender: Contact
    recipient: Contact


@dataclass(frozen=True)
class RetryCall:
    shipment_id: str
    kind: TaskKind
    error: str
    counted: bool = True


@dataclass(frozen=True)
class RecordRefusal:
    shipment_id: str
    kind: TaskKind
    message: str


@dataclass(frozen=True)
class RecordReturnRequested:
    shipment_id: str


async def run_due(uow: UoW, carrier: Carrier, settings: PostalSettings, *, limit: int = 50) -> int:
    """Makes the carrier calls that are due; returns how many were attempted."""
    rules = Rules.from_settings(settings)
    done = 0
    while done < limit:
        now = now_utc()
        lease = now + timedelta(seconds=settings.command_lease_seconds)
        shipment = await uow.repos.shipments.claim_due_task(now, lease)
        if shipment is None or shipment.task is None:
            break
        done += 1
        kind = shipment.task.kind
        try:
            if kind == "create_order":
                await _create_order(uow, carrier, settings, rules, shipment)
            else:
                assert shipment.tracking_number is not None
                reason = f"Phát không thành công sau {shipment.failures} lần, chuyển hoàn về trung tâm"
                await carrier.request_return(shipment.tracking_number, reason)
                await record_return_requested(RecordReturnRequested(shipment.id), uow)
        except NotReady as exc:
            await retry_later(RetryCall(shipment.id, kind, str(exc), counted=False), uow, settings=settings)
        except CarrierError as exc:
            metrics.record_carrier_error(rules.carrier, kind, retryable=exc.retryable)
            if exc.retryable:
                await retry_later(RetryCall(shipment.id, kind, exc.message), uow, settings=settings)
            else:
                await record_refusal(RecordRefusal(shipment.id, kind, exc.message), uow)
    return done


async def _centre_contact(uow: UoW, centre_code: str) -> Contact:
    centre = await uow.repos.centres.get(centre_code)
    if centre is None:
        raise NotReady(f"centre {centre_code} is not known to postal yet (no CentreChanged received)")
    try:
        address = parse_address(centre.address)
    except AddressProblem as exc:
        raise NotReady(f"the address of centre {centre_code} cannot be used: {exc}") from exc
    return Contact(name=centre.name, phone=normalise_phone(centre.phone) or "", address=address)


def _party(contact: Contact) -> Party:
    assert contact.address is not None
    return Party(
        name=contact.name,
        phone=contact.phone or "",
        address=contact.address.street,
        commune=contact.address.commune,
        province=contact.address.province,
    )


async def _create_order(uow: UoW, carrier: Carrier, settings: PostalSettings, rules: Rules, shipment: Shipment) -> None:
    centre = await _centre_contact(uow, shipment.centre_code)
    if shipment.purpose == "delivery":
        assert shipment.recipient is not None and shipment.dossier_code is not None
        sender, recipient = centre, shipment.recipient
        weight = settings.carrier.delivery_weight_grams
        order_number = shipment.dossier_code
    else:
        assert shipment.sender is not None and shipment.pickup_id is not None
        sender, recipient = shipment.sender, centre
        weight = settings.carrier.pickup_weight_grams
        order_number = shipment.pickup_id
    order = CarrierOrder(
        order_number=order_number,
        purpose=shipment.purpose,
        sender=_party(sender),
        recipient=_party(recipient),
        cod_amount=shipment.cod_amount_vnd,
        weight_grams=weight,
        service_type=settings.carrier.service_type,
        webhook_url=settings.carrier.webhook_url,
        note=shipment.note,
    )
    ack = await carrier.create_order(order)
    await record_order(RecordOrder(shipment.id, ack.tracking_number, sender, recipient), uow, rules=rules)
    log.info("carrier order placed", shipment_purpose=shipment.purpose, new=ack.created)


@use_case
async def record_order(cmd: RecordOrder, uow: UoW, *, rules: Rules) -> bool:
    """Records the carrier's tracking number; a delivery publishes ShipmentCreated with its estimate."""
    async with uow:
        shipment = await uow.repos.shipments.get(cmd.shipment_id)
        if shipment is None or not shipment.awaits("create_order"):
            return False  # recorded already by another replica
        calendar = await load_calendar(uow.repos.calendar)
        now = now_utc()
        events = shipment.order_placed(
            tracking_number=cmd.tracking_number,
            sender=cmd.sender,
            recipient=cmd.recipient,
            carrier=rules.carrier,
            j=local_day(calendar, now),
            transit=rules.transit,
            now=now,
        )
        await uow.repos.shipments.save(shipment)
        uow.publish(*events)
        await uow.commit()
    return True


@use_case
async def retry_later(cmd: RetryCall, uow: UoW, *, settings: PostalSettings) -> None:
    """The call failed for now: again after a growing delay; flagged stuck after enough attempts."""
    async with uow:
        shipment = await uow.repos.shipments.get(cmd.shipment_id)
        if shipment is None or shipment.task is None or shipment.task.kind != cmd.kind:
            return
        attempts = shipment.task.attempts + (1 if cmd.counted else 0)
        delay = min(
            settings.command_backoff_max_seconds,
            settings.command_backoff_initial_seconds * 2 ** max(attempts - 1, 0),
        )
        became_stuck = shipment.call_failed(
            cmd.kind,
            cmd.error,
            counted=cmd.counted,
            delay_seconds=delay,
            stuck_after=settings.command_alert_after_attempts,
            now=now_utc(),
        )
        await uow.repos.shipments.save(shipment)
        await uow.commit()
    if became_stuck:
        log.error("carrier call stuck", kind=cmd.kind, attempts=attempts)
    else:
        log.warning("carrier call failed, retrying", kind=cmd.kind, attempts=attempts, retry_in_seconds=delay)


@use_case
async def record_refusal(cmd: RecordRefusal, uow: UoW) -> None:
    """A permanent refusal lands on the shipment for an officer."""
    async with uow:
        shipment = await uow.repos.shipments.get(cmd.shipment_id)
        if shipment is None:
            return
        shipment.call_refused(cmd.kind, cmd.message, now_utc())
        await uow.repos.shipments.save(shipment)
        await uow.commit()
    log.error("carrier refused a call", kind=cmd.kind)


@use_case
async def record_return_requested(cmd: RecordReturnRequested, uow: UoW) -> None:
    async with uow:
        shipment = await uow.repos.shipments.get(cmd.shipment_id)
        if shipment is None or not shipment.awaits("request_return"):
            return
        shipment.return_requested(now_utc())
        await uow.repos.shipments.save(shipment)
        await uow.commit()
