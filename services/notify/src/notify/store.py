"""The ``notifications`` collection: one document per message owed to a citizen.

Status machine::

    pending --claim--> sending --accepted--> sent
       ^                  |----retryable----> pending (later)   or technical_failure (attempts used up)
       |                  |----permanent----> failed
       +--lease expired---+  (a sender crashed mid-way: claimed again)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.mongo import Document, Indexes
from notify.domain.messages import OutgoingMessage

NOTIFICATIONS = "notifications"

Status = Literal["pending", "sending", "sent", "failed", "technical_failure"]

INDEXES = [
    Indexes(
        NOTIFICATIONS,
        (
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
            IndexModel([("dossier_code", ASCENDING), ("created_at", ASCENDING)], name="by_dossier"),
        ),
    ),
]


def history_entry(status: Status, at: datetime, note: str | None = None) -> dict[str, Any]:
    return {"status": status, "at": at, "note": note}


def new_notification(
    *,
    notification_id: str,
    message: OutgoingMessage,
    dossier_code: str,
    centre_code: str,
    trigger_event_id: str,
    trigger_event_type: str,
    trigger_occurred_at: datetime,
    now: datetime,
) -> Document:
    return {
        "_id": notification_id,
        "dossier_code": dossier_code,
        "centre_code": centre_code,
        "trigger_event_id": trigger_event_id,
        "trigger_event_type": trigger_event_type,
        "trigger_occurred_at": trigger_occurred_at,
        "channel": message.channel,
        "recipient": message.recipient,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "provider": None,
        "provider_reference": None,
        "created_at": now,
        "sent_at": None,
        "last_error": None,
        "history": [history_entry("pending", now, f"on {trigger_event_type}")],
    }


async def insert_if_new(db: AsyncDatabase[Document], doc: Document, session: AsyncClientSession) -> bool:
    """Inserts ``doc`` unless its id exists already; True when inserted."""
    result = await db[NOTIFICATIONS].update_one(
        {"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True, session=session
    )
    return result.upserted_id is not None


async def claim_due(db: AsyncDatabase[Document], now: datetime, lease: timedelta) -> Document | None:
    """Atomically takes one notification that is due, or whose sender died (lease expired)."""
    return await db[NOTIFICATIONS].find_one_and_update(
        {
            "$or": [
                {"status": "pending", "next_attempt_at": {"$lte": now}},
                {"status": "sending", "lease_until": {"$lt": now}},
            ]
        },
        {
            "$set": {"status": "sending", "lease_until": now + lease},
            "$inc": {"attempts": 1},
            "$push": {"history": history_entry("sending", now)},
        },
        sort=[("next_attempt_at", ASCENDING)],
        return_document=ReturnDocument.AFTER,
    )


async def mark_sent(
    db: AsyncDatabase[Document],
    session: AsyncClientSession,
    notification_id: str,
    *,
    provider: str,
    provider_reference: str,
    sent_at: datetime,
) -> bool:
    """Records the provider's acceptance; False when another sender already did."""
    result = await db[NOTIFICATIONS].update_one(
        {"_id": notification_id, "status": "sending"},
        {
            "$set": {
                "status": "sent",
                "provider": provider,
                "provider_reference": provider_reference,
                "sent_at": sent_at,
                "lease_until": None,
                "last_error": None,
            },
            "$push": {"history": history_entry("sent", sent_at, provider)},
        },
        session=session,
    )
    return result.modified_count == 1


async def mark_unsent(
    db: AsyncDatabase[Document],
    notification_id: str,
    *,
    status: Status,
    provider: str,
    error: str,
    at: datetime,
    next_attempt_at: datetime | None = None,
) -> None:
    """Puts a claimed notification back to ``pending`` (with its next attempt) or to a final failure."""
    fields: dict[str, Any] = {"status": status, "provider": provider, "last_error": error, "lease_until": None}
    if next_attempt_at is not None:
        fields["next_attempt_at"] = next_attempt_at
    await db[NOTIFICATIONS].update_one(
        {"_id": notification_id, "status": "sending"},
        {"$set": fields, "$push": {"history": history_entry(status, at, error)}},
    )


async def for_dossier(db: AsyncDatabase[Document], dossier_code: str) -> list[Document]:
    cursor = (
        db[NOTIFICATIONS].find({"dossier_code": dossier_code}).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
    )
    return await cursor.to_list(None)
