"""Postal's use cases."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.auth import Principal
from motcua_kit.errors import NotFound
from motcua_kit.events import DossierReceived, ResultDeliveryPlanned
from motcua_kit.mongo import Document
from motcua_kit.outbox import Tx
from postal import store


async def plan_result_delivery(tx: Tx, event: DossierReceived) -> bool:
    """A citizen who chose return by post gets a delivery planned now and shipped once the
    dossier is resolved. Dossiers returned at the counter are none of postal's business."""
    if event.return_channel != "post":
        return False
    now = datetime.now(UTC)
    destination = event.delivery_address or event.applicant.address or ""
    await tx.db[store.DELIVERIES].insert_one(
        {
            "_id": event.dossier_code,
            "centre_code": event.centre_code,
            "status": "awaiting_result",
            "recipient": {
                "full_name": event.applicant.full_name,
                "phone": event.applicant.phone,
                "address": destination,
            },
            "appointment_at": event.appointment_at,
            "planned_at": now,
            "history": [{"status": "awaiting_result", "at": now}],
        },
        session=tx.session,
    )
    await tx.publish(
        ResultDeliveryPlanned(
            dossier_code=event.dossier_code, centre_code=event.centre_code, destination=destination, planned_at=now
        )
    )
    return True


async def get_delivery(db: AsyncDatabase[Document], *, code: str, viewer: Principal) -> Document:
    delivery = await db[store.DELIVERIES].find_one({"_id": code})
    allowed = viewer.role.value in ("postal_partner", "auditor") or (
        delivery is not None and viewer.scope == delivery["centre_code"]
    )
    if delivery is None or not allowed:
        raise NotFound(f"no postal delivery for dossier {code}")
    return delivery
