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

from datetime import timedelta
from typing import Any

from pymongo import ReturnDocument

from motcua_kit.events import ShipmentCreated
from motcua_kit.logs import get_logger
from motcua_kit.mongo import Document
from postal import metrics, store
from postal.clients.carrier import Carrier, CarrierError, CarrierOrder, Party
from postal.domain.addresses import AddressProblem, normalise_phone, parse_address
from postal.service.common import Rules, history_entry, load_calendar, local_day, now_utc, target_for, transaction
from postal.settings import PostalSettings
from postal.store import UoW

log = get_logger(__name__)


class NotReady(Exception):
    """What the call needs is not known yet (the centre's address): try again later."""


async def run_due(uow: UoW, carrier: Carrier, settings: PostalSettings, *, limit: int = 50) -> int:
    """Makes the carrier calls that are due; returns how many were attempted."""
    rules = Rules.from_settings(settings)
    done = 0
    while done < limit:
        now = now_utc()
        doc = await uow.repos.db[store.SHIPMENTS].find_one_and_update(
            {"task.due_at": {"$lte": now}, "task.lease_until": {"$lte": now}},
            {"$set": {"task.lease_until": now + timedelta(seconds=settings.command_lease_seconds)}},
            sort=[("task.due_at", 1)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            break
        done += 1
        kind = doc["task"]["kind"]
        try:
            if kind == "create_order":
                await _create_order(uow, carrier, settings, rules, doc)
            else:
                await _request_return(uow, carrier, rules, doc)
        except NotReady as exc:
            await _retry_later(uow, doc, str(exc), settings, count=False)
        except CarrierError as exc:
            operation = "create_order" if kind == "create_order" else "request_return"
            metrics.record_carrier_error(rules.carrier, operation, retryable=exc.retryable)
            if exc.retryable:
                await _retry_later(uow, doc, exc.message, settings)
            else:
                await transaction(uow, lambda tx, d=doc, k=kind, e=exc: _refused(tx, d, k, e.message))
    return done


async def _retry_later(uow: UoW, doc: Document, error: str, settings: PostalSettings, *, count: bool = True) -> None:
    attempts = doc["task"]["attempts"] + (1 if count else 0)
    delay = min(
        settings.command_backoff_max_seconds, settings.command_backoff_initial_seconds * 2 ** max(attempts - 1, 0)
    )
    stuck = attempts >= settings.command_alert_after_attempts
    if stuck and not doc["task"].get("stuck"):
        log.error("carrier call stuck", kind=doc["task"]["kind"], attempts=attempts)
    else:
        log.warning(
            "carrier call failed, retrying", kind=doc["task"]["kind"], attempts=attempts, retry_in_seconds=delay
        )
    await uow.repos.db[store.SHIPMENTS].update_one(
        {"_id": doc["_id"], "task.kind": doc["task"]["kind"]},
        {
            "$set": {
                "task.attempts": attempts,
                "task.due_at": now_utc() + timedelta(seconds=delay),
                "task.lease_until": now_utc(),
                "task.last_error": error,
                "task.stuck": stuck,
            }
        },
    )


async def _centre_party(uow: UoW, centre_code: str) -> Party:
    centre = await uow.repos.db[store.CENTRES].find_one({"_id": centre_code})
    if centre is None:
        raise NotReady(f"centre {centre_code} is not known to postal yet (no CentreChanged received)")
    try:
        address = parse_address(centre.get("address"))
    except AddressProblem as exc:
        raise NotReady(f"the address of centre {centre_code} cannot be used: {exc}") from exc
    return Party(
        name=centre["name"],
        phone=normalise_phone(centre.get("phone")) or "",
        address=address.street,
        commune=address.commune,
        province=address.province,
    )


def _party(doc: Document) -> Party:
    a = doc["address"]
    return Party(
        name=doc["name"],
        phone=doc.get("phone") or "",
        address=a["street"],
        commune=a["commune"],
        province=a["province"],
    )


async def _create_order(uow: UoW, carrier: Carrier, settings: PostalSettings, rules: Rules, doc: Document) -> None:
    centre = await _centre_party(uow, doc["centre_code"])
    if doc["purpose"] == "delivery":
        sender, recipient = centre, _party(doc["recipient"])
        sender_doc: Document = {"name": centre.name, "phone": centre.phone, "address": _address(centre)}
        recipient_doc = doc["recipient"]
        weight = settings.carrier.delivery_weight_grams
        order_number = doc["dossier_code"]
    else:
        sender, recipient = _party(doc["sender"]), centre
        sender_doc = doc["sender"]
        recipient_doc = {"name": centre.name, "phone": centre.phone, "address": _address(centre)}
        weight = settings.carrier.pickup_weight_grams
        order_number = doc["pickup_id"]
    order = CarrierOrder(
        order_number=order_number,
        purpose="delivery" if doc["purpose"] == "delivery" else "pickup",
        sender=sender,
        recipient=recipient,
        cod_amount=doc.get("cod_amount_vnd", 0),
        weight_grams=weight,
        service_type=settings.carrier.service_type,
        webhook_url=settings.carrier.webhook_url,
        note=doc.get("note"),
    )
    ack = await carrier.create_order(order)

    async def record(uow: UoW) -> None:
        current = await uow.repos.db[store.SHIPMENTS].find_one({"_id": doc["_id"]}, session=uow.repos.session)
        if current is None or (current.get("task") or {}).get("kind") != "create_order":
            return  # recorded already by another replica
        now = now_utc()
        changes = {
            "tracking_number": ack.tracking_number,
            "status": "created",
            "carrier_status": "created",
            "carrier_attempt": None,
            "sender": sender_doc,
            "recipient": recipient_doc,
            "task": None,
            "problem": None,
            "ordered_at": now,
            "last_carrier_update_at": now,
            "updated_at": now,
        }
        await uow.repos.db[store.SHIPMENTS].update_one(
            {"_id": doc["_id"]},
            {
                "$set": changes,
                "$push": {"history": history_entry("created", now, "carrier", tracking_number=ack.tracking_number)},
            },
            session=uow.repos.session,
        )
        if doc["purpose"] == "delivery":
            calendar = await load_calendar(uow.repos.db, uow.repos.session)
            estimate = target_for({**current, **changes}, local_day(calendar, now), rules)
            uow.publish(
                ShipmentCreated(
                    dossier_code=doc["dossier_code"],
                    tracking_number=ack.tracking_number,
                    carrier=rules.carrier,
                    target_date=estimate,  # type: ignore[arg-type]
                    created_at=now,
                )
            )

    await transaction(uow, record)
    log.info("carrier order placed", shipment_purpose=doc["purpose"], new=ack.created)


def _address(party: Party) -> Document:
    return {"street": party.address, "commune": party.commune, "province": party.province}


async def _request_return(uow: UoW, carrier: Carrier, rules: Rules, doc: Document) -> None:
    reason = f"Phát không thành công sau {doc.get('failures', 0)} lần, chuyển hoàn về trung tâm"
    await carrier.request_return(doc["tracking_number"], reason)
    now = now_utc()
    await uow.repos.db[store.SHIPMENTS].update_one(
        {"_id": doc["_id"], "task.kind": "request_return"},
        {
            "$set": {"task": None, "return_requested_at": now},
            "$push": {"history": history_entry("return_requested", now, "postal")},
        },
    )


async def _refused(uow: UoW, doc: Document, kind: str, message: str) -> None:
    now = now_utc()
    status: dict[str, Any] = {"status": "order_rejected"} if kind == "create_order" else {}
    await uow.repos.db[store.SHIPMENTS].update_one(
        {"_id": doc["_id"]},
        {
            "$set": {
                **status,
                "task": None,
                "problem": {"kind": f"{kind}_refused", "reason": message, "at": now},
                "updated_at": now,
            },
            "$push": {"history": history_entry(status.get("status", "return_refused"), now, "carrier", reason=message)},
        },
        session=uow.repos.session,
    )
    log.error("carrier refused a call", kind=kind)
