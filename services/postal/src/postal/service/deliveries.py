"""Result delivery: planned at receipt when the citizen chose return by post, ordered at resolution."""

from __future__ import annotations

from motcua_kit.auth import Principal
from motcua_kit.errors import Conflict, Invalid
from motcua_kit.events import DossierReceived, DossierResolved, ResultDeliveryPlanned
from motcua_kit.mongo import Document
from postal import store
from postal.domain.addresses import AddressProblem, normalise_phone, parse_address
from postal.service.common import Rules, address_doc, history_entry, now_utc, shipment_for, task, transaction
from postal.store import UoW


async def plan(uow: UoW, event: DossierReceived, rules: Rules) -> bool:
    """A citizen who chose return by post gets a delivery planned now, ordered once the dossier is
    resolved. Dossiers returned at the counter are none of postal's business."""
    if event.return_channel != "post":
        return False
    shipment_id = store.delivery_id(event.dossier_code)
    if await uow.repos.db[store.SHIPMENTS].find_one({"_id": shipment_id}, {"_id": 1}, session=uow.repos.session):
        return False
    now = now_utc()
    text = event.delivery_address or event.applicant.address or ""
    recipient: Document = {
        "name": event.applicant.full_name,
        "phone": normalise_phone(event.applicant.phone),
        "text": text,
    }
    problem = None
    try:
        recipient["address"] = address_doc(parse_address(text))
    except AddressProblem as exc:
        problem = {"kind": "address_problem", "reason": str(exc), "at": now}
    if recipient["phone"] is None:
        problem = problem or {"kind": "no_phone", "reason": "the applicant gave no valid phone number", "at": now}
    resolved = await uow.repos.db[store.RESOLUTIONS].find_one({"_id": event.dossier_code}, session=uow.repos.session)
    status = "awaiting_result"
    if resolved is not None:  # the resolution was read before the receipt
        status = "order_rejected" if problem else "ordering"
    doc: Document = {
        "_id": shipment_id,
        "purpose": "delivery",
        "dossier_code": event.dossier_code,
        "centre_code": event.centre_code,
        "carrier": rules.carrier,
        "partner": rules.partner,
        "status": status,
        "open": True,
        "recipient": recipient,
        "problem": problem,
        "task": task("create_order", now) if status == "ordering" else None,
        "cod_amount_vnd": 0,
        "appointment_at": event.appointment_at,
        "resolved_at": resolved["resolved_at"] if resolved else None,
        "failures": 0,
        "late": False,
        "planned_at": now,
        "updated_at": now,
        "history": [history_entry(status, now, "reception")],
    }
    await uow.repos.db[store.SHIPMENTS].insert_one(doc, session=uow.repos.session)
    uow.publish(
        ResultDeliveryPlanned(
            dossier_code=event.dossier_code, centre_code=event.centre_code, destination=text, planned_at=now
        )
    )
    return True


async def on_resolved(uow: UoW, event: DossierResolved) -> bool:
    """The result is ready: order the shipment once, however many times the resolution arrives."""
    shipment = await uow.repos.db[store.SHIPMENTS].find_one(
        {"_id": store.delivery_id(event.dossier_code)}, session=uow.repos.session
    )
    if shipment is None:
        # Counter return, or the receipt is not read yet: remember the resolution for ``plan``.
        await uow.repos.db[store.RESOLUTIONS].update_one(
            {"_id": event.dossier_code},
            {"$setOnInsert": {"resolved_at": event.resolved_at, "created_at": now_utc()}},
            upsert=True,
            session=uow.repos.session,
        )
        return False
    if shipment["status"] != "awaiting_result":
        return False
    now = now_utc()
    status = "order_rejected" if shipment.get("problem") else "ordering"
    await uow.repos.db[store.SHIPMENTS].update_one(
        {"_id": shipment["_id"]},
        {
            "$set": {
                "status": status,
                "resolved_at": event.resolved_at,
                "task": None if shipment.get("problem") else task("create_order", now),
                "updated_at": now,
            },
            "$push": {"history": history_entry(status, now, "processing")},
        },
        session=uow.repos.session,
    )
    return True


async def correct_recipient(
    uow: UoW,
    *,
    code: str,
    viewer: Principal,
    address: str,
    phone: str | None,
    name: str | None,
) -> Document:
    """An officer fixes the recipient of a delivery the carrier has not accepted yet; a refused order
    is ordered again."""
    shipment = await shipment_for(uow.repos.db, store.delivery_id(code), viewer, f"postal delivery for dossier {code}")
    try:
        parsed = address_doc(parse_address(address))
    except AddressProblem as exc:
        raise Invalid(str(exc), code="address_problem") from exc
    normalised = normalise_phone(phone) if phone is not None else shipment["recipient"].get("phone")
    if phone is not None and normalised is None:
        raise Invalid("phone must be a Vietnamese phone number, like 0905123456", code="invalid_phone")
    if normalised is None:
        raise Invalid("the recipient has no valid phone number: give one", code="invalid_phone")

    async def work(uow: UoW) -> Document:
        current = await uow.repos.db[store.SHIPMENTS].find_one({"_id": shipment["_id"]}, session=uow.repos.session)
        assert current is not None
        if current["status"] not in ("awaiting_result", "ordering", "order_rejected"):
            raise Conflict(
                f"the carrier already has this shipment (status {current['status']}); its address can no longer change",
                code="already_ordered",
            )
        now = now_utc()
        changes: Document = {
            "recipient.address": parsed,
            "recipient.text": address,
            "recipient.phone": normalised,
            "problem": None,
            "updated_at": now,
        }
        if name:
            changes["recipient.name"] = name
        if current["status"] == "order_rejected" or (current["status"] == "ordering" and current.get("task") is None):
            changes |= {"status": "ordering", "task": task("create_order", now)}
        await uow.repos.db[store.SHIPMENTS].update_one(
            {"_id": current["_id"]},
            {
                "$set": changes,
                "$push": {"history": history_entry("recipient_corrected", now, "centre", by=viewer.subject)},
            },
            session=uow.repos.session,
        )
        return await uow.repos.db[store.SHIPMENTS].find_one({"_id": current["_id"]}, session=uow.repos.session) or {}

    return await transaction(uow, work)
