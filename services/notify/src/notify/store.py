"""Notify's collections.

``notifications``: one document per message owed to a citizen. ``dossiers``: the contacts and facts
later messages need, by dossier code. ``skipped_events``: events notify had to leave unsaid (a dossier
it does not know). ``templates``: staff-edited template versions (the built-ins are version 1).

Status machine of a notification::

    pending --claim--> sending --accepted--> sent
       ^                  |----retryable----> pending (later)   or technical_failure (attempts used up)
       |                  |----permanent----> failed
       +--lease expired---+  (a sender crashed mid-way: claimed again)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from motcua_kit.mongo import Document, Indexes
from notify.domain.messages import OutgoingMessage

NOTIFICATIONS = "notifications"
DOSSIERS = "dossiers"
SKIPPED_EVENTS = "skipped_events"
TEMPLATES = "templates"

Status = Literal["pending", "sending", "sent", "failed", "technical_failure"]

INDEXES = [
    Indexes(
        NOTIFICATIONS,
        (
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
            IndexModel([("dossier_code", ASCENDING), ("created_at", ASCENDING)], name="by_dossier"),
        ),
    ),
    Indexes(SKIPPED_EVENTS, (IndexModel([("dossier_code", ASCENDING), ("at", ASCENDING)], name="by_dossier"),)),
    Indexes(
        TEMPLATES,
        (
            IndexModel(
                [("key", ASCENDING), ("channel", ASCENDING), ("version", DESCENDING)], name="version", unique=True
            ),
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
        "template_key": message.template_key,
        "template_version": message.template_version,
        "segments": message.segments,
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


# --- dossiers ------------------------------------------------------------------------------------


async def save_dossier(
    db: AsyncDatabase[Document], session: AsyncClientSession, code: str, fields: dict[str, Any], now: datetime
) -> None:
    """Keeps the latest contacts and facts of a dossier (a later DossierReceived replaces a DossierSubmitted's)."""
    await db[DOSSIERS].update_one(
        {"_id": code},
        {"$set": {**fields, "updated_at": now}, "$setOnInsert": {"created_at": now}},
        upsert=True,
        session=session,
    )


async def set_appointment(
    db: AsyncDatabase[Document], session: AsyncClientSession, code: str, appointment_at: datetime, now: datetime
) -> None:
    await db[DOSSIERS].update_one(
        {"_id": code}, {"$set": {"appointment_at": appointment_at, "updated_at": now}}, session=session
    )


async def get_dossier(
    db: AsyncDatabase[Document], code: str, session: AsyncClientSession | None = None
) -> Document | None:
    return await db[DOSSIERS].find_one({"_id": code}, session=session)


async def record_skip(
    db: AsyncDatabase[Document],
    session: AsyncClientSession,
    *,
    event_id: str,
    event_type: str,
    dossier_code: str,
    reason: str,
    at: datetime,
) -> None:
    doc = {"dossier_code": dossier_code, "event_type": event_type, "reason": reason, "at": at}
    await db[SKIPPED_EVENTS].update_one({"_id": event_id}, {"$setOnInsert": doc}, upsert=True, session=session)


# --- templates -----------------------------------------------------------------------------------


def template_version_id(key: str, channel: str, version: int) -> str:
    return f"{key}:{channel}:{version}"


async def template_versions(
    db: AsyncDatabase[Document], key: str, channel: str, session: AsyncClientSession | None = None
) -> list[Document]:
    """Stored (edited) versions of one template, oldest first."""
    cursor = db[TEMPLATES].find({"key": key, "channel": channel}, session=session).sort("version", ASCENDING)
    return await cursor.to_list(None)


async def current_template(
    db: AsyncDatabase[Document], key: str, channel: str, session: AsyncClientSession | None = None
) -> Document | None:
    """The latest stored version, or None while the built-in is in use."""
    return await db[TEMPLATES].find_one(
        {"key": key, "channel": channel}, sort=[("version", DESCENDING)], session=session
    )


async def current_templates(db: AsyncDatabase[Document]) -> list[Document]:
    """The latest stored version of every edited template."""
    pipeline: list[dict[str, Any]] = [
        {"$sort": {"key": 1, "channel": 1, "version": -1}},
        {"$group": {"_id": {"key": "$key", "channel": "$channel"}, "doc": {"$first": "$$ROOT"}}},
        {"$replaceRoot": {"newRoot": "$doc"}},
    ]
    cursor = await db[TEMPLATES].aggregate(pipeline)
    return await cursor.to_list(None)


async def insert_template_version(db: AsyncDatabase[Document], doc: Document) -> bool:
    """Inserts a new version; False when another edit took that version number first."""
    try:
        await db[TEMPLATES].insert_one(doc)
    except DuplicateKeyError:
        return False
    return True
