"""Postal's collections and repositories: the only module that touches MongoDB.

shipments   one per (purpose, dossier or pickup): ``_id`` = ``delivery:<dossier code>`` or
            ``pickup:<pickup id>``, so a dossier resolved twice or a pickup requested twice still
            has one shipment. Fields: purpose, dossier_code | pickup_id, centre_code, carrier, partner,
            status (postal's), carrier_status + carrier_attempt (the last carrier step applied),
            tracking_number, sender / recipient {name, phone, address {street, commune, province}},
            cod_amount_vnd, weight_grams, task {kind create_order | request_return, due_at, attempts,
            lease_until, last_error, stuck} (the carrier call to make, None when none), problem
            {kind, reason} (what an officer must fix), target_date, late, failures,
            next_attempt_after, handed_over_at, handover_id, delivered {at, recipient_name, relation,
            id_checked, id_document}, returned {at, reason}, last_carrier_update_at, last_polled_at,
            history [{status, at, source, attempt, reason, kind}], pickup {...the request...}, version.
resolutions one per dossier resolved before postal read its receipt (cross-topic order is not kept).
carrier_events  one per carrier step seen (``_id`` = ``<carrier>:<event id>``): de-duplication.
handovers   hand-over minutes (biên bản giao nhận), prepared by one side and confirmed by the other.
centres / procedures / settings   what reception publishes: addresses, postal permissions, calendar.
idempotency one per Idempotency-Key of a pickup request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.mongo import Document, Indexes
from motcua_kit.replicas import CalendarReplica
from motcua_kit.uow import MongoRepository, UnitOfWork
from postal.domain.addresses import PostalAddress
from postal.domain.catalogue import Centre, Procedure
from postal.domain.handovers import HandoverMinutes
from postal.domain.shipment import (
    Contact,
    Delivered,
    Pickup,
    PickupRequest,
    Problem,
    Returned,
    Shipment,
    Task,
    pickup_shipment_id,
)

SHIPMENTS = "shipments"
CARRIER_EVENTS = "carrier_events"
HANDOVERS = "handovers"
CENTRES = "centres"
PROCEDURES = "procedures"
SETTINGS = "settings"
IDEMPOTENCY = "idempotency"
RESOLUTIONS = "resolutions"

INDEXES = (
    Indexes(
        SHIPMENTS,
        (
            IndexModel([("tracking_number", ASCENDING)], name="tracking", unique=True, sparse=True),
            IndexModel([("task.due_at", ASCENDING)], name="task_due", sparse=True),
            IndexModel([("centre_code", ASCENDING), ("status", ASCENDING)], name="centre_status"),
            IndexModel([("open", ASCENDING), ("last_carrier_update_at", ASCENDING)], name="open_silence"),
            IndexModel([("pickup_id", ASCENDING)], name="pickup", sparse=True),
        ),
    ),
    Indexes(
        CARRIER_EVENTS, (IndexModel([("received_at", ASCENDING)], name="received_ttl", expireAfterSeconds=400 * 86400),)
    ),
    Indexes(HANDOVERS, (IndexModel([("centre_code", ASCENDING), ("prepared_at", ASCENDING)], name="centre_day"),)),
    Indexes(RESOLUTIONS, (IndexModel([("created_at", ASCENDING)], name="created_ttl", expireAfterSeconds=90 * 86400),)),
    Indexes(IDEMPOTENCY, (IndexModel([("created_at", ASCENDING)], name="created_ttl", expireAfterSeconds=7 * 86400),)),
)


# --- shipments and pickups --------------------------------------------------------------------------


def _address(doc: Document | None) -> PostalAddress | None:
    if not doc:
        return None
    return PostalAddress(street=doc["street"], commune=doc["commune"], province=doc["province"])


def _contact(doc: Document | None) -> Contact | None:
    if doc is None:
        return None
    return Contact(name=doc["name"], phone=doc.get("phone"), address=_address(doc.get("address")), text=doc.get("text"))


def _contact_doc(contact: Contact | None) -> Document | None:
    if contact is None:
        return None
    doc: Document = {"name": contact.name, "phone": contact.phone}
    if contact.address is not None:
        doc["address"] = {
            "street": contact.address.street,
            "commune": contact.address.commune,
            "province": contact.address.province,
        }
    if contact.text is not None:
        doc["text"] = contact.text
    return doc


def _of(cls: type[Any], doc: Document | None) -> Any:
    if doc is None:
        return None
    names = cls.__dataclass_fields__
    return cls(**{k: v for k, v in doc.items() if k in names})


def shipment_document(shipment: Shipment) -> Document:
    doc = shipment.as_dict()
    doc["_id"] = doc.pop("id")
    doc["sender"] = _contact_doc(shipment.sender)
    doc["recipient"] = _contact_doc(shipment.recipient)
    # Absent, not null: the tracking number's and the pickup's unique indexes are sparse.
    return {k: v for k, v in doc.items() if v is not None}


def shipment_of(doc: Document) -> Shipment:
    cls = Pickup if doc["purpose"] == "pickup" else Shipment
    known = {k: v for k, v in doc.items() if k in Shipment.__dataclass_fields__}
    known |= {
        "id": doc["_id"],
        "sender": _contact(doc.get("sender")),
        "recipient": _contact(doc.get("recipient")),
        "problem": _of(Problem, doc.get("problem")),
        "task": _of(Task, doc.get("task")),
        "delivered": _of(Delivered, doc.get("delivered")),
        "returned": _of(Returned, doc.get("returned")),
        "pickup": _of(PickupRequest, doc.get("pickup")),
        "history": list(doc.get("history", [])),
        "version": doc.get("version", 0),
    }
    return cls(**known)


class ShipmentRepository(MongoRepository[Shipment]):
    """Shipments of both purposes (a pickup loads as a :class:`Pickup`), and the queries on them."""

    collection_name = SHIPMENTS

    def to_document(self, aggregate: Shipment) -> Document:
        return shipment_document(aggregate)

    def from_document(self, doc: Document) -> Shipment:
        return shipment_of(doc)

    async def exists(self, shipment_id: str) -> bool:
        return await self.collection.find_one({"_id": shipment_id}, {"_id": 1}, session=self.session) is not None

    async def by_tracking_number(self, tracking_number: str) -> Shipment | None:
        doc = await self.collection.find_one({"tracking_number": tracking_number}, session=self.session)
        return None if doc is None else self.from_document(doc)

    async def by_reference(self, purpose: str, field: str, value: str) -> Shipment | None:
        """A result by tracking number or a collection by pickup id (what hand-over minutes list)."""
        doc = await self.collection.find_one({field: value, "purpose": purpose}, session=self.session)
        return None if doc is None else self.from_document(doc)

    async def claim_due_task(self, now: datetime, lease_until: datetime) -> Shipment | None:
        """Takes the oldest due carrier call under a lease: another replica skips it until the lease ends.

        The claim counts as a change (the version goes up), so a use case that loaded the shipment before
        saves nothing over the lease; it runs again on the fresh state.
        """
        doc = await self.collection.find_one_and_update(
            {"task.due_at": {"$lte": now}, "task.lease_until": {"$lte": now}},
            {"$set": {"task.lease_until": lease_until}, "$inc": {"version": 1}},
            sort=[("task.due_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
            session=self.session,
        )
        return None if doc is None else self.from_document(doc)

    async def silent(self, threshold: datetime, *, limit: int = 500) -> list[tuple[str, str, datetime | None]]:
        """Open shipments the carrier has not reported on since ``threshold``: (id, tracking, last polled)."""
        cursor = self.collection.find(
            {"open": True, "carrier_status": {"$ne": None}, "last_carrier_update_at": {"$lt": threshold}},
            {"_id": 1, "tracking_number": 1, "last_polled_at": 1},
            session=self.session,
        )
        return [(d["_id"], d["tracking_number"], d.get("last_polled_at")) for d in await cursor.to_list(limit)]

    async def claim_poll(self, shipment_id: str, last_polled_at: datetime | None, now: datetime) -> bool:
        """Claims a silent shipment for one poll: another replica scanning at the same time skips it."""
        claimed = await self.collection.update_one(
            {"_id": shipment_id, "last_polled_at": last_polled_at},
            {"$set": {"last_polled_at": now}, "$inc": {"version": 1}},
            session=self.session,
        )
        return claimed.modified_count > 0

    async def late_ids(self, today: str, *, limit: int = 1000) -> list[str]:
        """Open shipments past their target date (``today`` ISO) not flagged late yet."""
        cursor = self.collection.find(
            {"open": True, "late": {"$ne": True}, "target_date": {"$lt": today}}, {"_id": 1}, session=self.session
        )
        return [d["_id"] for d in await cursor.to_list(limit)]

    async def search(
        self,
        *,
        partner: str | None = None,
        centre_code: str | None = None,
        purpose: str | None = None,
        status: str | None = None,
        late: bool | None = None,
        open: bool | None = None,
        newest_first: bool = False,
        limit: int = 0,
    ) -> list[Shipment]:
        query: Document = {}
        for name, value in (
            ("partner", partner),
            ("centre_code", centre_code),
            ("purpose", purpose),
            ("status", status),
            ("late", late),
            ("open", open),
        ):
            if value is not None:
                query[name] = value
        sort = [("updated_at", DESCENDING)] if newest_first else None
        return await self.find(query, sort=sort, limit=limit)

    async def gauge_rows(self, closed_since: datetime) -> list[GaugeRow]:
        """Open shipments, and those closed since ``closed_since``, as the gauges count them."""
        fields = {"purpose": 1, "status": 1, "carrier": 1, "late": 1, "open": 1, "task": 1}
        query = {"$or": [{"open": True}, {"open": False, "updated_at": {"$gte": closed_since}}]}
        docs = await self.collection.find(query, fields, session=self.session).to_list(None)
        return [
            GaugeRow(
                purpose=d["purpose"],
                status=d["status"],
                carrier=d.get("carrier") or "",
                open=bool(d.get("open")),
                late=bool(d.get("late")),
                task_kind=(d.get("task") or {}).get("kind"),
            )
            for d in docs
        ]


@dataclass(frozen=True)
class GaugeRow:
    purpose: str
    status: str
    carrier: str
    open: bool
    late: bool
    task_kind: str | None


class PickupRepository(MongoRepository[Pickup]):
    """Home collections by pickup id (kept with the shipments)."""

    collection_name = SHIPMENTS

    def to_document(self, aggregate: Pickup) -> Document:
        return shipment_document(aggregate)

    def from_document(self, doc: Document) -> Pickup:
        pickup = shipment_of(doc)
        assert isinstance(pickup, Pickup)
        return pickup

    async def get(self, key: Any) -> Pickup | None:
        """The pickup ``key`` (its pickup id)."""
        doc = await self.collection.find_one(
            {"_id": pickup_shipment_id(key), "purpose": "pickup"}, session=self.session
        )
        return None if doc is None else self.from_document(doc)


# --- hand-over minutes ------------------------------------------------------------------------------


class HandoverRepository(MongoRepository[HandoverMinutes]):
    collection_name = HANDOVERS

    def to_document(self, aggregate: HandoverMinutes) -> Document:
        doc = aggregate.as_dict()
        doc["_id"] = doc.pop("id")
        return {k: v for k, v in doc.items() if v is not None}

    def from_document(self, doc: Document) -> HandoverMinutes:
        known = {k: v for k, v in doc.items() if k in HandoverMinutes.__dataclass_fields__}
        return HandoverMinutes(**{**known, "id": doc["_id"], "version": doc.get("version", 0)})


# --- what postal keeps for itself -------------------------------------------------------------------


class _Collection:
    name: str

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection = db[self.name]
        self.session = session


class CarrierEventLog(_Collection):
    """The carrier steps seen (``<carrier>:<event id>``), so a step delivered again changes nothing."""

    name = CARRIER_EVENTS

    async def seen(self, key: str) -> bool:
        return await self.collection.find_one({"_id": key}, {"_id": 1}, session=self.session) is not None

    async def record(self, key: str, *, shipment_id: str, status: str, source: str, outcome: str, at: datetime) -> None:
        await self.collection.insert_one(
            {
                "_id": key,
                "shipment_id": shipment_id,
                "status": status,
                "source": source,
                "outcome": outcome,
                "received_at": at,
            },
            session=self.session,
        )


class EarlyResolutions(_Collection):
    """Dossiers resolved before postal read their receipt."""

    name = RESOLUTIONS

    async def resolved_at(self, dossier_code: str) -> datetime | None:
        doc = await self.collection.find_one({"_id": dossier_code}, session=self.session)
        return None if doc is None else doc["resolved_at"]

    async def remember(self, dossier_code: str, resolved_at: datetime, now: datetime) -> None:
        await self.collection.update_one(
            {"_id": dossier_code},
            {"$setOnInsert": {"resolved_at": resolved_at, "created_at": now}},
            upsert=True,
            session=self.session,
        )


class PickupKeys(_Collection):
    """Idempotency keys of pickup requests: a retry with the same key gives the same pickup."""

    name = IDEMPOTENCY

    async def get(self, key: str) -> tuple[str, str] | None:
        """(shipment id, fingerprint of the request) of a key used before."""
        doc = await self.collection.find_one({"_id": f"pickup:{key}"}, session=self.session)
        return None if doc is None else (doc["shipment_id"], doc["fingerprint"])

    async def add(self, key: str, *, shipment_id: str, fingerprint: str, at: datetime) -> None:
        await self.collection.insert_one(
            {"_id": f"pickup:{key}", "shipment_id": shipment_id, "fingerprint": fingerprint, "created_at": at},
            session=self.session,
        )


class Centres(_Collection):
    name = CENTRES

    async def get(self, code: str) -> Centre | None:
        doc = await self.collection.find_one({"_id": code}, session=self.session)
        if doc is None:
            return None
        return Centre(
            code=code,
            name=doc["name"],
            level=doc.get("level"),
            address=doc.get("address"),
            phone=doc.get("phone"),
            changed_at=doc.get("changed_at"),
        )

    async def put(self, centre: Centre) -> None:
        doc = {
            "name": centre.name,
            "level": centre.level,
            "address": centre.address,
            "phone": centre.phone,
            "changed_at": centre.changed_at,
        }
        await self.collection.replace_one({"_id": centre.code}, doc, upsert=True, session=self.session)


class Procedures(_Collection):
    name = PROCEDURES

    async def get(self, code: str) -> Procedure | None:
        doc = await self.collection.find_one({"_id": code}, session=self.session)
        if doc is None:
            return None
        return Procedure(
            code=code,
            name=doc.get("name", ""),
            version=doc.get("version", 0),
            postal_intake=bool(doc.get("postal_intake")),
            postal_return=bool(doc.get("postal_return")),
            fees_vnd=int(doc.get("fees_vnd", 0)),
            documents=doc.get("documents", []),
            changed_at=doc.get("changed_at"),
        )

    async def put(self, procedure: Procedure) -> None:
        doc = {
            "name": procedure.name,
            "version": procedure.version,
            "postal_intake": procedure.postal_intake,
            "postal_return": procedure.postal_return,
            "documents": procedure.documents,
            "fees_vnd": procedure.fees_vnd,
            "changed_at": procedure.changed_at,
        }
        await self.collection.replace_one({"_id": procedure.code}, doc, upsert=True, session=self.session)


@dataclass
class Repositories:
    """Postal's repositories, bound to one unit of work's session (or to none, for views)."""

    shipments: ShipmentRepository
    pickups: PickupRepository
    handovers: HandoverRepository
    carrier_events: CarrierEventLog
    resolutions: EarlyResolutions
    pickup_keys: PickupKeys
    centres: Centres
    procedures: Procedures
    calendar: CalendarReplica

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.shipments = ShipmentRepository(db, session)
        self.pickups = PickupRepository(db, session)
        self.handovers = HandoverRepository(db, session)
        self.carrier_events = CarrierEventLog(db, session)
        self.resolutions = EarlyResolutions(db, session)
        self.pickup_keys = PickupKeys(db, session)
        self.centres = Centres(db, session)
        self.procedures = Procedures(db, session)
        self.calendar = CalendarReplica(db, session, collection=SETTINGS)  # where postal has always kept it


UoW = UnitOfWork[Repositories]
