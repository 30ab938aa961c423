"""Hand-over minutes (biên bản giao nhận) at the centre, signed by both sides.

Results: a counter officer lists what the postal worker takes today (from the manifest) and the
partner confirms, or the other way round; once both signed, each result is handed to the post
(ResultHandedToPost, J for the transit target). Collections: the postal worker lists the dossiers
brought with the papers counted and fees collected, an officer checks and confirms; once both
signed, reception registers each dossier with the clock starting now (PickupHandedOver).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Conflict, Forbidden, Invalid, NotFound
from motcua_kit.events import PickupHandedOver, ResultHandedToPost
from motcua_kit.events.postal import HandedOverDocument
from motcua_kit.events.reception import Applicant
from motcua_kit.mongo import Document
from postal import store
from postal.domain.tracking import confirmation_problem, party_of
from postal.service.common import (
    Rules,
    can_see,
    check_partner,
    history_entry,
    load_calendar,
    local_day,
    now_utc,
    target_for,
    transaction,
)
from postal.store import UoW

Kind = Literal["result", "pickup"]
HANDABLE = {
    "result": ("created", "picked_up", "in_transit"),
    "pickup": ("created", "picked_up", "in_transit", "arrived"),
}


@dataclass(frozen=True)
class PickupItem:
    pickup_id: str
    documents: list[dict[str, Any]]
    fees_collected_vnd: int = 0


def _centre_of(principal: Principal, centre_code: str | None, rules: Rules) -> str:
    if principal.role is Role.POSTAL_PARTNER:
        check_partner(principal, rules)
        if not centre_code:
            raise Invalid("centre_code is required for the postal partner", code="centre_required")
        return centre_code
    if centre_code and centre_code != principal.scope:
        raise Forbidden(f"you are an officer of {principal.scope}, not of {centre_code}")
    return principal.scope


def _signer(principal: Principal, name: str | None) -> Document:
    return {
        "subject": principal.subject,
        "role": principal.role.value,
        "name": name or principal.name or principal.subject,
    }


async def prepare(
    uow: UoW,
    *,
    principal: Principal,
    kind: Kind,
    centre_code: str | None,
    tracking_numbers: list[str],
    pickups: list[PickupItem],
    signer_name: str | None,
    note: str | None,
    rules: Rules,
) -> Document:
    centre = _centre_of(principal, centre_code, rules)
    if kind == "result" and (not tracking_numbers or pickups):
        raise Invalid("minutes of results list tracking_numbers (and no pickups)", code="invalid_minutes")
    if kind == "pickup" and (not pickups or tracking_numbers):
        raise Invalid("minutes of collections list pickups (and no tracking_numbers)", code="invalid_minutes")
    ids = (
        [("tracking_number", t) for t in tracking_numbers]
        if kind == "result"
        else [("pickup_id", p.pickup_id) for p in pickups]
    )
    if len({v for _, v in ids}) != len(ids):
        raise Invalid("a shipment is listed twice", code="invalid_minutes")
    now = now_utc()
    handover_id = f"BBGN{now:%y%m%d}{secrets.token_hex(3).upper()}"
    purpose = "delivery" if kind == "result" else "pickup"

    async def work(uow: UoW) -> Document:
        items: list[Document] = []
        for (field, value), extra in zip(ids, pickups or [None] * len(ids), strict=True):
            shipment = await uow.repos.db[store.SHIPMENTS].find_one(
                {field: value, "purpose": purpose}, session=uow.repos.session
            )
            if shipment is None or shipment["centre_code"] != centre:
                raise NotFound(
                    f"no {'result shipment' if kind == 'result' else 'collection'} {value} at centre {centre}"
                )
            if shipment.get("handover_id") or shipment.get("handed_over_at"):
                raise Conflict(
                    f"{value} is already on hand-over minutes {shipment.get('handover_id')}", code="already_listed"
                )
            if shipment["status"] not in HANDABLE[kind]:
                raise Conflict(
                    f"{value} cannot be handed over: its status is {shipment['status']}", code="not_handable"
                )
            await uow.repos.db[store.SHIPMENTS].update_one(
                {"_id": shipment["_id"]}, {"$set": {"handover_id": handover_id}}, session=uow.repos.session
            )
            item: Document = {"shipment_id": shipment["_id"], "tracking_number": shipment.get("tracking_number")}
            if kind == "result":
                item["dossier_code"] = shipment["dossier_code"]
            else:
                assert extra is not None
                item |= {
                    "pickup_id": extra.pickup_id,
                    "documents": extra.documents,
                    "fees_collected_vnd": extra.fees_collected_vnd,
                }
            items.append(item)
        doc: Document = {
            "_id": handover_id,
            "kind": kind,
            "centre_code": centre,
            "partner": rules.partner,
            "status": "awaiting_confirmation",
            "items": items,
            "prepared_by": {**_signer(principal, signer_name), "party": party_of(principal.role.value)},
            "prepared_at": now,
            "note": note,
        }
        await uow.repos.db[store.HANDOVERS].insert_one(doc, session=uow.repos.session)
        return doc

    return await transaction(uow, work)


async def get(uow: UoW, handover_id: str, viewer: Principal) -> Document:
    doc = await uow.repos.db[store.HANDOVERS].find_one({"_id": handover_id})
    if doc is None or not can_see(viewer, doc):
        raise NotFound(f"no hand-over minutes {handover_id}")
    return doc


async def confirm(
    uow: UoW, *, handover_id: str, principal: Principal, signer_name: str | None, rules: Rules
) -> Document:
    async def work(uow: UoW) -> Document:
        doc = await uow.repos.db[store.HANDOVERS].find_one({"_id": handover_id}, session=uow.repos.session)
        if doc is None or not can_see(principal, doc):
            raise NotFound(f"no hand-over minutes {handover_id}")
        if doc["status"] != "awaiting_confirmation":
            raise Conflict(f"these minutes are {doc['status']} already", code="minutes_closed")
        problem = confirmation_problem(doc["prepared_by"]["party"], party_of(principal.role.value))
        if problem:
            raise Forbidden(problem)
        now = now_utc()
        confirmed_by = {**_signer(principal, signer_name), "party": party_of(principal.role.value)}
        signers = {doc["prepared_by"]["party"]: doc["prepared_by"], confirmed_by["party"]: confirmed_by}
        calendar = await load_calendar(uow.repos.db, uow.repos.session)
        for item in doc["items"]:
            shipment = await uow.repos.db[store.SHIPMENTS].find_one(
                {"_id": item["shipment_id"]}, session=uow.repos.session
            )
            assert shipment is not None
            if doc["kind"] == "result":
                await _result_handed(uow, shipment, now, local_day(calendar, now), rules)
            else:
                await _pickup_handed(uow, shipment, item, now, signers)
        await uow.repos.db[store.HANDOVERS].update_one(
            {"_id": handover_id},
            {"$set": {"status": "signed", "confirmed_by": confirmed_by, "confirmed_at": now}},
            session=uow.repos.session,
        )
        return {**doc, "status": "signed", "confirmed_by": confirmed_by, "confirmed_at": now}

    return await transaction(uow, work)


async def _result_handed(uow: UoW, shipment: Document, now: datetime, today: Any, rules: Rules) -> None:
    target = shipment.get("target_date") or target_for(shipment, today, rules)
    changes: Document = {"handed_over_at": now, "target_date": target, "updated_at": now}
    if shipment["status"] == "created":
        changes["status"] = "handed_to_post"
    await uow.repos.db[store.SHIPMENTS].update_one(
        {"_id": shipment["_id"]},
        {"$set": changes, "$push": {"history": history_entry("handed_to_post", now, "handover")}},
        session=uow.repos.session,
    )
    uow.publish(
        ResultHandedToPost(
            dossier_code=shipment["dossier_code"],
            tracking_number=shipment["tracking_number"],
            handed_over_at=now,
            target_date=target,  # type: ignore[arg-type]
        )
    )


async def _pickup_handed(
    uow: UoW, shipment: Document, item: Document, now: datetime, signers: dict[str, Document]
) -> None:
    p = shipment["pickup"]
    await uow.repos.db[store.SHIPMENTS].update_one(
        {"_id": shipment["_id"]},
        {
            "$set": {"status": "handed_over", "handed_over_at": now, "open": False, "task": None, "updated_at": now},
            "$push": {"history": history_entry("handed_over", now, "handover")},
        },
        session=uow.repos.session,
    )
    uow.publish(
        PickupHandedOver(
            pickup_id=shipment["pickup_id"],
            centre_code=shipment["centre_code"],
            procedure_code=p["procedure_code"],
            applicant=Applicant.model_validate(p["applicant"]),
            documents=[HandedOverDocument.model_validate(d) for d in item["documents"]],
            return_channel=p["return_channel"],
            delivery_address=p.get("delivery_address"),
            notify_channels=p.get("notify_channels", []),
            content=p.get("content"),
            handed_over_at=now,
            officer=signers["centre"]["subject"],
            postal_worker=signers["postal"]["name"],
            fees_collected_vnd=item.get("fees_collected_vnd", 0),
        )
    )


async def reject(uow: UoW, *, handover_id: str, principal: Principal, reason: str) -> Document:
    """The other side does not sign (the papers do not match the list): the shipments are free again."""

    async def work(uow: UoW) -> Document:
        doc = await uow.repos.db[store.HANDOVERS].find_one({"_id": handover_id}, session=uow.repos.session)
        if doc is None or not can_see(principal, doc):
            raise NotFound(f"no hand-over minutes {handover_id}")
        if doc["status"] != "awaiting_confirmation":
            raise Conflict(f"these minutes are {doc['status']} already", code="minutes_closed")
        now = now_utc()
        for item in doc["items"]:
            await uow.repos.db[store.SHIPMENTS].update_one(
                {"_id": item["shipment_id"], "handover_id": handover_id},
                {"$set": {"handover_id": None}},
                session=uow.repos.session,
            )
        changes = {
            "status": "rejected",
            "rejected_by": _signer(principal, None),
            "rejected_at": now,
            "reject_reason": reason,
        }
        await uow.repos.db[store.HANDOVERS].update_one(
            {"_id": handover_id}, {"$set": changes}, session=uow.repos.session
        )
        return {**doc, **changes}

    return await transaction(uow, work)
