"""Notify's collections.

``notifications``: one document per message owed to a citizen. ``dossiers``: the contacts and facts
later messages need, by dossier code. ``skipped_events``: events notify had to leave unsaid (a dossier
it does not know). ``templates``: staff-edited template versions (the built-ins are version 1).

``opt_outs``: citizens who asked not to be told on a channel. ``provider_health``: consecutive failures
of each provider (failover). ``rate_windows``: per-provider counters of one second (rate limits).

Status machine of a notification::

    pending --claim--> sending --accepted--> sent --receipt--> delivered | undelivered
       ^  ^               |----retryable----> pending (later)   or technical_failure (window used up)
       |  |               |----permanent----> failed            (optionally: a fallback on the other channel)
       |  +--deferred-----+  (quiet hours, rate limit: no attempt spent)
       +--lease expired---+  (a sender crashed mid-way: claimed again, the provider de-duplicates)
    pending --opted out--> opted_out
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
OPT_OUTS = "opt_outs"
PROVIDER_HEALTH = "provider_health"
RATE_WINDOWS = "rate_windows"

Status = Literal["pending", "sending", "sent", "delivered", "undelivered", "failed", "technical_failure", "opted_out"]
FINAL: tuple[Status, ...] = ("delivered", "undelivered", "failed", "technical_failure", "opted_out")

INDEXES = [
    Indexes(
        NOTIFICATIONS,
        (
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
            IndexModel([("dossier_code", ASCENDING), ("created_at", ASCENDING)], name="by_dossier"),
            IndexModel([("created_at", ASCENDING)], name="by_day"),  # the totals report's period
        ),
    ),
    Indexes(RATE_WINDOWS, (IndexModel([("at", ASCENDING)], name="at_ttl", expireAfterSeconds=120),)),
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
        "last_error_kind": None,
        "deferred_reason": None,
        "fallback": None,
        "history": [history_entry("pending", now, f"on {trigger_event_type}")],
    }


async def insert_if_new(db: AsyncDatabase[Document], doc: Document, session: AsyncClientSession) -> bool:
    """Inserts ``doc`` unless its id exists already; True when inserted."""
    result = await db[NOTIFICATIONS].update_one(
        {"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True, session=session
    )
    return result.upserted_id is not None


async def claim_due(db: AsyncDatabase[Document], now: datetime, lease: timedelta) -> Document | None:
    """Atomically takes one notification that is due, or whose sender died (lease expired).

    Two plain filters rather than one ``$or`` (which the local server cannot serve from an index), and
    no sort: every due message is as due as the next, and sorting would read the whole backlog per claim.
    """
    claim: dict[str, Any] = {
        "$set": {"status": "sending", "lease_until": now + lease},
        "$inc": {"attempts": 1},
        "$push": {"history": history_entry("sending", now)},
    }
    for due in (
        {"status": "pending", "next_attempt_at": {"$lte": now}},
        {"status": "sending", "lease_until": {"$lt": now}},
    ):
        doc = await db[NOTIFICATIONS].find_one_and_update(due, claim, return_document=ReturnDocument.AFTER)
        if doc is not None:
            return doc
    return None


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
                "deferred_reason": None,
            },
            "$push": {"history": history_entry("sent", sent_at, provider)},
        },
        session=session,
    )
    return result.modified_count == 1


async def retry_later(
    db: AsyncDatabase[Document],
    notification_id: str,
    *,
    provider: str,
    error: str,
    kind: str,
    at: datetime,
    next_attempt_at: datetime,
) -> None:
    """Puts a claimed notification back to ``pending`` for its next attempt."""
    await db[NOTIFICATIONS].update_one(
        {"_id": notification_id, "status": "sending"},
        {
            "$set": {
                "status": "pending",
                "provider": provider,
                "last_error": error,
                "last_error_kind": kind,
                "lease_until": None,
                "next_attempt_at": next_attempt_at,
            },
            "$push": {"history": history_entry("pending", at, error)},
        },
    )


async def mark_final(
    db: AsyncDatabase[Document],
    session: AsyncClientSession,
    notification_id: str,
    *,
    status: Status,
    provider: str | None,
    error: str,
    at: datetime,
    from_status: Status = "sending",
) -> bool:
    """A claimed notification ends without being sent (failed, technical failure, opted out)."""
    result = await db[NOTIFICATIONS].update_one(
        {"_id": notification_id, "status": from_status},
        {
            "$set": {"status": status, "provider": provider, "last_error": error, "lease_until": None},
            "$push": {"history": history_entry(status, at, error)},
        },
        session=session,
    )
    return result.modified_count == 1


async def defer(
    db: AsyncDatabase[Document], notification_id: str, *, until: datetime, reason: str, at: datetime
) -> None:
    """Puts a claimed notification back untried (quiet hours, rate limit): no attempt is spent."""
    await db[NOTIFICATIONS].update_one(
        {"_id": notification_id, "status": "sending"},
        {
            "$set": {"status": "pending", "next_attempt_at": until, "deferred_reason": reason, "lease_until": None},
            "$inc": {"attempts": -1},
            "$push": {"history": history_entry("pending", at, f"deferred: {reason}")},
        },
    )


async def mark_delivery(
    db: AsyncDatabase[Document],
    session: AsyncClientSession,
    notification_id: str,
    *,
    status: Literal["delivered", "undelivered"],
    at: datetime,
    note: str | None,
) -> bool:
    """Applies a delivery receipt or a bounce to a sent notification, once."""
    result = await db[NOTIFICATIONS].update_one(
        {"_id": notification_id, "status": "sent"},
        {
            "$set": {"status": status, "delivered_at" if status == "delivered" else "undelivered_at": at},
            "$push": {"history": history_entry(status, at, note)},
        },
        session=session,
    )
    return result.modified_count == 1


async def get_notification(
    db: AsyncDatabase[Document], notification_id: str, session: AsyncClientSession | None = None
) -> Document | None:
    return await db[NOTIFICATIONS].find_one({"_id": notification_id}, session=session)


async def count_deferred(db: AsyncDatabase[Document], now: datetime) -> dict[str, int]:
    """Pending notifications waiting for later, by why (quiet hours, rate limit, retry)."""
    docs = (
        await db[NOTIFICATIONS]
        .find({"status": "pending", "next_attempt_at": {"$gt": now}}, {"deferred_reason": 1, "attempts": 1})
        .to_list(None)
    )
    counts: dict[str, int] = {}
    for doc in docs:
        reason = doc.get("deferred_reason") or ("retry" if doc.get("attempts") else "scheduled")
        counts[reason] = counts.get(reason, 0) + 1
    return counts


# --- opt-outs, provider health, rate limits ----------------------------------------------------------


def opt_out_id(channel: str, recipient: str) -> str:
    return f"{channel}:{recipient.casefold()}"


async def is_opted_out(
    db: AsyncDatabase[Document], channel: str, recipient: str, session: AsyncClientSession | None = None
) -> bool:
    return await db[OPT_OUTS].find_one({"_id": opt_out_id(channel, recipient)}, {"_id": 1}, session=session) is not None


async def save_opt_out(db: AsyncDatabase[Document], channel: str, recipient: str, *, by: str, at: datetime) -> None:
    await db[OPT_OUTS].update_one(
        {"_id": opt_out_id(channel, recipient)},
        {"$setOnInsert": {"channel": channel, "recipient": recipient, "by": by, "at": at}},
        upsert=True,
    )


async def delete_opt_out(db: AsyncDatabase[Document], channel: str, recipient: str) -> bool:
    return (await db[OPT_OUTS].delete_one({"_id": opt_out_id(channel, recipient)})).deleted_count == 1


async def provider_states(db: AsyncDatabase[Document]) -> dict[str, Document]:
    return {d["_id"]: d for d in await db[PROVIDER_HEALTH].find({}).to_list(None)}


async def record_provider_outcome(
    db: AsyncDatabase[Document], provider: str, *, ok: bool, at: datetime, threshold: int, cooldown: timedelta
) -> bool:
    """Counts consecutive failures; takes the provider out for ``cooldown`` at ``threshold``.
    Returns True when this outcome took it out."""
    if ok:
        await db[PROVIDER_HEALTH].update_one(
            {"_id": provider}, {"$set": {"failures": 0, "down_until": None, "ok_at": at}}, upsert=True
        )
        return False
    doc = await db[PROVIDER_HEALTH].find_one_and_update(
        {"_id": provider},
        {"$inc": {"failures": 1}, "$set": {"failed_at": at}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        return False
    if doc["failures"] >= threshold and not (doc.get("down_until") and doc["down_until"] > at):
        await db[PROVIDER_HEALTH].update_one({"_id": provider}, {"$set": {"down_until": at + cooldown, "failures": 0}})
        return True
    return False


async def take_rate_slot(db: AsyncDatabase[Document], provider: str, at: datetime, limit: int) -> bool:
    """One send in the provider's current one-second window, across replicas; False when it is full."""
    second = at.replace(microsecond=0)
    for _ in range(3):  # two replicas opening the same window at once: one insert loses, then counts
        try:
            doc = await db[RATE_WINDOWS].find_one_and_update(
                {"_id": f"{provider}:{second.isoformat()}"},
                {"$inc": {"n": 1}, "$setOnInsert": {"at": second}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            continue
        if doc is None:  # the local server may answer an upsert race with nothing: count again
            continue
        return int(doc["n"]) <= limit
    return False


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
