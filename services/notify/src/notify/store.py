"""Notify's repositories: the only module that touches MongoDB.

``notifications``: one document per message owed to a citizen (:class:`notify.domain.notification.Notification`,
whose docstring draws the status machine). ``dossiers``: the contacts and facts later messages need, by dossier
code. ``skipped_events``: events notify had to leave unsaid (a dossier it does not know). ``templates``:
staff-edited template versions (the built-ins are version 1).

``opt_outs``: citizens who asked not to be told on a channel. ``provider_health``: consecutive failures
of each provider (failover). ``rate_windows``: per-provider counters of one second (rate limits). These two
are shared counters, changed atomically outside any transaction: a send counts even if what follows fails.

:class:`Repositories` bundles them for a unit of work (``Repositories(db, session)``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from motcua_kit.mongo import Document, Indexes
from motcua_kit.uow import MongoRepository
from notify.domain.contacts import DossierContacts, comparable_recipient
from notify.domain.notification import Fallback, HistoryEntry, Notification
from notify.domain.templates import Channel, Template, TemplateVersion

NOTIFICATIONS = "notifications"
DOSSIERS = "dossiers"
SKIPPED_EVENTS = "skipped_events"
TEMPLATES = "templates"
OPT_OUTS = "opt_outs"
PROVIDER_HEALTH = "provider_health"
RATE_WINDOWS = "rate_windows"

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

REPORT_FIELDS = {"_id": 0, "channel": 1, "status": 1, "provider": 1, "created_at": 1, "centre_code": 1}


def history_entry(status: str, at: datetime, note: str | None = None) -> dict[str, Any]:
    return {"status": status, "at": at, "note": note}


# --- notifications ---------------------------------------------------------------------------------


def _fallback_document(fallback: Fallback | None) -> Document | None:
    if fallback is None:
        return None
    return {
        "channel": fallback.channel,
        "recipient": fallback.recipient,
        "subject": fallback.subject,
        "text": fallback.text,
        "html": fallback.html,
        "segments": fallback.segments,
        "template_version": fallback.template_version,
    }


def _fallback_of(doc: Document | None) -> Fallback | None:
    if not doc:
        return None
    return Fallback(
        channel=doc["channel"],
        recipient=doc["recipient"],
        subject=doc.get("subject"),
        text=doc["text"],
        html=doc.get("html"),
        segments=doc.get("segments"),
        template_version=doc.get("template_version"),
    )


class Notifications(MongoRepository[Notification]):
    """Notifications by id; the sender's atomic claim; the staff views' queries (documents as stored)."""

    collection_name = NOTIFICATIONS

    def to_document(self, n: Notification) -> Document:
        doc: Document = {
            "_id": n.id,
            "dossier_code": n.dossier_code,
            "centre_code": n.centre_code,
            "trigger_event_id": n.trigger_event_id,
            "trigger_event_type": n.trigger_event_type,
            "trigger_occurred_at": n.trigger_occurred_at,
            "channel": n.channel,
            "recipient": n.recipient,
            "subject": n.subject,
            "text": n.text,
            "html": n.html,
            "template_key": n.template_key,
            "template_version": n.template_version,
            "segments": n.segments,
            "status": n.status,
            "attempts": n.attempts,
            "next_attempt_at": n.next_attempt_at,
            "lease_until": n.lease_until,
            "provider": n.provider,
            "provider_reference": n.provider_reference,
            "created_at": n.created_at,
            "sent_at": n.sent_at,
            "last_error": n.last_error,
            "last_error_kind": n.last_error_kind,
            "deferred_reason": n.deferred_reason,
            "fallback": _fallback_document(n.fallback),
            "history": [history_entry(h.status, h.at, h.note) for h in n.history],
            "version": n.version,
        }
        # Written only once they have a value, as before the aggregate existed.
        for name in ("delivered_at", "undelivered_at", "fallback_of"):
            if (value := getattr(n, name)) is not None:
                doc[name] = value
        return doc

    def from_document(self, doc: Document) -> Notification:
        return Notification(
            id=doc["_id"],
            dossier_code=doc["dossier_code"],
            centre_code=doc.get("centre_code", ""),
            trigger_event_id=doc["trigger_event_id"],
            trigger_event_type=doc["trigger_event_type"],
            trigger_occurred_at=doc["trigger_occurred_at"],
            channel=doc["channel"],
            recipient=doc["recipient"],
            subject=doc.get("subject"),
            text=doc["text"],
            html=doc.get("html"),
            created_at=doc["created_at"],
            template_key=doc.get("template_key"),
            template_version=doc.get("template_version"),
            segments=doc.get("segments"),
            status=doc["status"],
            attempts=doc.get("attempts", 0),
            next_attempt_at=doc.get("next_attempt_at"),
            lease_until=doc.get("lease_until"),
            provider=doc.get("provider"),
            provider_reference=doc.get("provider_reference"),
            sent_at=doc.get("sent_at"),
            delivered_at=doc.get("delivered_at"),
            undelivered_at=doc.get("undelivered_at"),
            last_error=doc.get("last_error"),
            last_error_kind=doc.get("last_error_kind"),
            deferred_reason=doc.get("deferred_reason"),
            fallback=_fallback_of(doc.get("fallback")),
            fallback_of=doc.get("fallback_of"),
            history=[HistoryEntry(h["status"], h["at"], h.get("note")) for h in doc.get("history", [])],
            version=doc.get("version", 0),
        )

    async def add_if_new(self, n: Notification) -> bool:
        """Stores ``n`` unless its (deterministic) id exists already; True when it was new."""
        n.version = 1
        result = await self.collection.update_one(
            {"_id": n.id}, {"$setOnInsert": self.to_document(n)}, upsert=True, session=self.session
        )
        return result.upserted_id is not None

    async def claim_due(self, now: datetime, lease: timedelta) -> Notification | None:
        """Atomically takes one notification that is due, or whose sender died (lease expired): what
        :meth:`Notification.claim` does, in one find-and-modify so that no two senders take the same one.

        Two plain filters rather than one ``$or`` (which the local server cannot serve from an index), and
        no sort: every due message is as due as the next, and sorting would read the whole backlog per claim.
        """
        claim: dict[str, Any] = {
            "$set": {"status": "sending", "lease_until": now + lease},
            "$inc": {"attempts": 1, "version": 1},
            "$push": {"history": history_entry("sending", now)},
        }
        for due in (
            {"status": "pending", "next_attempt_at": {"$lte": now}},
            {"status": "sending", "lease_until": {"$lt": now}},
        ):
            doc = await self.collection.find_one_and_update(
                due, claim, return_document=ReturnDocument.AFTER, session=self.session
            )
            if doc is not None:
                return self.from_document(doc)
        return None

    async def count_deferred(self, now: datetime) -> dict[str, int]:
        """Pending notifications waiting for later, by why (quiet hours, rate limit, retry)."""
        docs = await self.collection.find(
            {"status": "pending", "next_attempt_at": {"$gt": now}},
            {"deferred_reason": 1, "attempts": 1},
            session=self.session,
        ).to_list(None)
        counts: dict[str, int] = {}
        for doc in docs:
            reason = doc.get("deferred_reason") or ("retry" if doc.get("attempts") else "scheduled")
            counts[reason] = counts.get(reason, 0) + 1
        return counts

    async def documents_for_dossier(self, dossier_code: str) -> list[Document]:
        """A dossier's notifications as stored, oldest first (the ``by_dossier`` index): staff read statuses
        as they are, whatever they are, as the status machine may grow."""
        cursor = self.collection.find({"dossier_code": dossier_code}, session=self.session).sort(
            [("created_at", ASCENDING), ("_id", ASCENDING)]
        )
        return await cursor.to_list(None)

    def created_between(self, start: datetime, end: datetime) -> AsyncIterator[Document]:
        """The counted fields of notifications created in [start, end), streamed (a report covers up to a
        year: it is counted as it is read, never held in memory at once): one range on ``created_at`` (the
        ``by_day`` index; the local server serves one clause from an index at most)."""
        query = {"created_at": {"$gte": start, "$lt": end}}
        return self.collection.find(query, REPORT_FIELDS, session=self.session)


# --- dossiers, skipped events --------------------------------------------------------------------------


class Dossiers:
    """What notify keeps about each dossier: contacts, chosen channels, appointment."""

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection: AsyncCollection[Document] = db[DOSSIERS]
        self.session = session

    async def get(self, code: str) -> DossierContacts | None:
        doc = await self.collection.find_one({"_id": code}, session=self.session)
        return DossierContacts.from_doc(doc) if doc else None

    async def save(self, contacts: DossierContacts, now: datetime) -> None:
        """Keeps the latest contacts and facts (a later DossierReceived replaces a DossierSubmitted's)."""
        await self.collection.update_one(
            {"_id": contacts.code},
            {"$set": {**contacts.to_fields(), "updated_at": now}, "$setOnInsert": {"created_at": now}},
            upsert=True,
            session=self.session,
        )

    async def set_appointment(self, code: str, appointment_at: datetime, now: datetime) -> None:
        await self.collection.update_one(
            {"_id": code}, {"$set": {"appointment_at": appointment_at, "updated_at": now}}, session=self.session
        )


class SkippedEvents:
    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection: AsyncCollection[Document] = db[SKIPPED_EVENTS]
        self.session = session

    async def record(self, *, event_id: str, event_type: str, dossier_code: str, reason: str, at: datetime) -> None:
        """Once per event."""
        doc = {"dossier_code": dossier_code, "event_type": event_type, "reason": reason, "at": at}
        await self.collection.update_one({"_id": event_id}, {"$setOnInsert": doc}, upsert=True, session=self.session)


# --- templates -----------------------------------------------------------------------------------------


def template_version_id(key: str, channel: str, version: int) -> str:
    return f"{key}:{channel}:{version}"


def _template_version(doc: Document) -> TemplateVersion:
    return TemplateVersion(
        key=doc["key"],
        channel=doc["channel"],
        template=Template(text=doc["text"], subject=doc.get("subject"), html=doc.get("html"), version=doc["version"]),
        builtin=False,
        created_at=doc["created_at"],
        created_by=doc["created_by"],
    )


class Templates:
    """Staff edits of the templates, one document per version (the built-ins, version 1, are not stored)."""

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection: AsyncCollection[Document] = db[TEMPLATES]
        self.session = session

    async def versions(self, key: str, channel: Channel) -> list[TemplateVersion]:
        """Stored (edited) versions of one template, oldest first."""
        cursor = self.collection.find({"key": key, "channel": channel}, session=self.session).sort("version", ASCENDING)
        return [_template_version(doc) for doc in await cursor.to_list(None)]

    async def current(self, key: str, channel: Channel) -> TemplateVersion | None:
        """The latest stored version, or None while the built-in is in use."""
        doc = await self.collection.find_one(
            {"key": key, "channel": channel}, sort=[("version", DESCENDING)], session=self.session
        )
        return _template_version(doc) if doc else None

    async def every_current(self) -> list[TemplateVersion]:
        """The latest stored version of every edited template."""
        pipeline: list[dict[str, Any]] = [
            {"$sort": {"key": 1, "channel": 1, "version": -1}},
            {"$group": {"_id": {"key": "$key", "channel": "$channel"}, "doc": {"$first": "$$ROOT"}}},
            {"$replaceRoot": {"newRoot": "$doc"}},
        ]
        cursor = await self.collection.aggregate(pipeline, session=self.session)
        return [_template_version(doc) for doc in await cursor.to_list(None)]

    async def add(self, version: TemplateVersion) -> bool:
        """Stores a new version; False when another edit took that version number first."""
        t = version.template
        doc = {
            "_id": template_version_id(version.key, version.channel, t.version),
            "key": version.key,
            "channel": version.channel,
            "version": t.version,
            "subject": t.subject,
            "text": t.text,
            "html": t.html,
            "created_at": version.created_at,
            "created_by": version.created_by,
        }
        try:
            await self.collection.insert_one(doc, session=self.session)
        except DuplicateKeyError:
            return False
        return True


# --- opt-outs, provider health, rate limits ----------------------------------------------------------------


def opt_out_id(channel: str, recipient: str) -> str:
    return f"{channel}:{comparable_recipient(channel, recipient)}"


class OptOuts:
    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection: AsyncCollection[Document] = db[OPT_OUTS]
        self.session = session

    async def contains(self, channel: str, recipient: str) -> bool:
        found = await self.collection.find_one(
            {"_id": opt_out_id(channel, recipient)}, {"_id": 1}, session=self.session
        )
        return found is not None

    async def add(self, channel: str, recipient: str, *, by: str, at: datetime) -> None:
        """Once per (channel, recipient)."""
        await self.collection.update_one(
            {"_id": opt_out_id(channel, recipient)},
            {"$setOnInsert": {"channel": channel, "recipient": recipient, "by": by, "at": at}},
            upsert=True,
            session=self.session,
        )

    async def remove(self, channel: str, recipient: str) -> bool:
        result = await self.collection.delete_one({"_id": opt_out_id(channel, recipient)}, session=self.session)
        return result.deleted_count == 1


class ProviderHealth:
    """Consecutive failures of each provider; atomic, outside transactions (replicas share it)."""

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection: AsyncCollection[Document] = db[PROVIDER_HEALTH]

    async def states(self) -> dict[str, Document]:
        return {d["_id"]: d for d in await self.collection.find({}).to_list(None)}

    async def record_outcome(
        self, provider: str, *, ok: bool, at: datetime, threshold: int, cooldown: timedelta
    ) -> bool:
        """Counts consecutive failures; takes the provider out for ``cooldown`` at ``threshold``.
        Returns True when this outcome took it out."""
        if ok:
            await self.collection.update_one(
                {"_id": provider}, {"$set": {"failures": 0, "down_until": None, "ok_at": at}}, upsert=True
            )
            return False
        doc = await self.collection.find_one_and_update(
            {"_id": provider},
            {"$inc": {"failures": 1}, "$set": {"failed_at": at}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return False
        if doc["failures"] >= threshold and not (doc.get("down_until") and doc["down_until"] > at):
            await self.collection.update_one({"_id": provider}, {"$set": {"down_until": at + cooldown, "failures": 0}})
            return True
        return False


class RateWindows:
    """One-second send counters per provider; atomic, outside transactions (replicas share them)."""

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection: AsyncCollection[Document] = db[RATE_WINDOWS]

    async def take_slot(self, provider: str, at: datetime, limit: int) -> bool:
        """One send in the provider's current one-second window, across replicas; False when it is full."""
        second = at.replace(microsecond=0)
        for _ in range(3):  # two replicas opening the same window at once: one insert loses, then counts
            try:
                doc = await self.collection.find_one_and_update(
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


# --- all of them, for a unit of work -------------------------------------------------------------------------


@dataclass(init=False)
class Repositories:
    notifications: Notifications
    dossiers: Dossiers
    skipped_events: SkippedEvents
    templates: Templates
    opt_outs: OptOuts
    provider_health: ProviderHealth
    rate_windows: RateWindows

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.notifications = Notifications(db, session)
        self.dossiers = Dossiers(db, session)
        self.skipped_events = SkippedEvents(db, session)
        self.templates = Templates(db, session)
        self.opt_outs = OptOuts(db, session)
        self.provider_health = ProviderHealth(db, session)
        self.rate_windows = RateWindows(db, session)
