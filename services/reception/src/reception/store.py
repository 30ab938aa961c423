"""Reception's collections, its repositories and the queries on them: the only module that touches MongoDB.

``Repositories(db, session)`` (the factory the runtime gets) holds one repository per collection:
``dossiers`` (the ``Dossier`` aggregate with a version check; ``document_of``/``dossier_of`` are its one
mapping, which tests and benchmarks use too), ``sequences``, ``idempotency``, ``rate_limits``,
``procedures``, ``centres``, ``agencies``, ``province`` and ``calendar`` (reception owns the calendar and
publishes it; the document is the one the other services' replicas keep).

The dossier register (collection ``dossiers``), one document per dossier, ``_id`` = dossier code:

    centre_code, centre_name          the receiving centre (its code is the code's first part)
    procedure                         {code, name, field, level, version}: the version it was received under
    competent_agency                  agency code; agency_chain: [{agency_code, share}]
    intake_channel                    1 counter, 2 online, 3 post
    return_channel                    "counter" | "post"; delivery_address: str | None
    notify_channels                   ["sms", "email"]
    applicant                         {full_name, id_number, phone, email, address}
    content                           what the citizen asks for (str | None)
    documents                         [{name, originals, copies}] as received
    status                            national status code 1..10 (reception.domain.dossier.Status)
    submitted_at                      channel 2/3 only: when it arrived before a decision (else None)
    received_at                       when received (status 2); None before
    clock_started_at                  start of the legal clock (after-hours and 15:00 cut-off applied)
    appointment_at                    the current appointment (moved by supplements and apologies)
    original_appointment_at           the appointment printed on the receipt
    limit_working_hours               the legal limit in working hours
    paused_at                         set while a supplement is awaited with the clock running
    paused_working_hours              total working hours paused so far
    supplement_requests               [{requested_at, requested_by, origin: "counter"|"agency", agency_code,
                                        position, reasons: [str], resumed_at}]
    refusal_reasons                   [str]; refused_at
    resolved_at                       status 9 (from processing's DossierResolved)
    returned_at                       status 10; withdrawn_at, stopped_at likewise
    rating                            {overall, criteria: {time, attitude, visits, guidance, online}, rated_at}
    received_by                       the officer's subject (token ``sub``); officer_name when known
    lookup_code                       the lookup code printed on the receipt (a second factor, like the phone)
    procedure_snapshot                the procedure as it was at intake (limit, cut-off, documents, chain)
    pickup_id                         the postal pickup it came from: present only on channel 3 dossiers (unique)
    search_name                       applicant name without diacritics, lower case (for search)
    history                           [{status, at, by, agency, note, event}]: every transition, oldest first
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from motcua_kit.mongo import Document, Indexes
from motcua_kit.replicas import CALENDAR_ID, CalendarReplica
from motcua_kit.uow import MongoRepository
from motcua_kit.values import normalise_phone
from motcua_worktime import WorkCalendar
from reception.domain.catalogue import fold
from reception.domain.dossier import (
    ApplicantInfo,
    ChainLink,
    Dossier,
    HistoryEntry,
    ProcedureInfo,
    Rating,
    RegisterSearch,
    SubmittedDocument,
    SupplementEntry,
    search_name,
)

DOSSIERS = "dossiers"
DOSSIER_SEQUENCES = "dossier_sequences"
PROCEDURES = "procedures"
CENTRES = "centres"
AGENCIES = "agencies"
SETTINGS = "province_settings"
IDEMPOTENCY = "idempotency_keys"
RATE_LIMITS = "rate_limits"
PROVINCE_ID = "province"

INDEXES = (
    Indexes(
        DOSSIERS,
        (
            IndexModel([("centre_code", ASCENDING), ("received_at", DESCENDING)], name="centre_received"),
            IndexModel([("status", ASCENDING), ("centre_code", ASCENDING)], name="status_centre"),
            IndexModel([("procedure.code", ASCENDING), ("received_at", DESCENDING)], name="procedure_received"),
            IndexModel([("centre_code", ASCENDING), ("search_name", ASCENDING)], name="centre_name"),
            IndexModel([("applicant.id_number", ASCENDING)], name="id_number", sparse=True),
            IndexModel([("applicant.phone", ASCENDING)], name="phone", sparse=True),
            IndexModel([("pickup_id", ASCENDING)], name="pickup", unique=True, sparse=True),
        ),
    ),
    Indexes(RATE_LIMITS, (IndexModel([("expires_at", ASCENDING)], name="rate_ttl", expireAfterSeconds=0),)),
    Indexes(IDEMPOTENCY, (IndexModel([("created_at", ASCENDING)], name="idempotency_ttl", expireAfterSeconds=86_400),)),
)


REPORT_INDEXES = (
    Indexes(
        DOSSIERS,
        (
            IndexModel([("received_at", ASCENDING)], name="received"),
            IndexModel(
                [("resolved_at", ASCENDING), ("centre_code", ASCENDING), ("received_at", ASCENDING)],
                name="resolved_centre_received",
            ),
            IndexModel([("rating.rated_at", ASCENDING)], name="rated", sparse=True),
        ),
    ),
)
"""What the report's queries need besides ``centre_received`` and ``procedure_received``."""


class Duplicate(Exception):
    """The key is taken already (a concurrent request won): what the use cases see of a DuplicateKeyError."""

    @classmethod
    def of(cls, exc: DuplicateKeyError, collection: str) -> Duplicate:
        """Names the collection and the fields of the index, never the value: keys hold ID numbers and phones."""
        fields = ", ".join((exc.details or {}).get("keyPattern", {})) or "a unique index"
        return cls(f"duplicate key in {collection} on {fields}")


# --- the dossier: one mapping for intake, tests and benchmarks -----------------------------------------

_KNOWN = {f.name for f in fields(Dossier)} - {"code", "extra"} | {"_id"}


def document_of(dossier: Dossier) -> Document:
    """The ``dossiers`` document of a dossier (the layout in this module's docstring)."""
    doc: Document = {
        "_id": dossier.code,
        "centre_code": dossier.centre_code,
        "centre_name": dossier.centre_name,
        "procedure": asdict(dossier.procedure),
        "procedure_snapshot": dossier.procedure_snapshot,
        "competent_agency": dossier.competent_agency,
        "agency_chain": [asdict(link) for link in dossier.agency_chain],
        "intake_channel": dossier.intake_channel,
        "return_channel": dossier.return_channel,
        "delivery_address": dossier.delivery_address,
        "notify_channels": list(dossier.notify_channels),
        "applicant": asdict(dossier.applicant),
        "search_name": dossier.search_name,
        "content": dossier.content,
        "documents": [asdict(d) for d in dossier.documents],
        "status": int(dossier.status),
        "submitted_at": dossier.submitted_at,
        "received_at": dossier.received_at,
        "clock_started_at": dossier.clock_started_at,
        "appointment_at": dossier.appointment_at,
        "original_appointment_at": dossier.original_appointment_at,
        "limit_working_hours": dossier.limit_working_hours,
        "paused_at": dossier.paused_at,
        "paused_working_hours": dossier.paused_working_hours,
        "supplement_requests": [_supplement_document(r) for r in dossier.supplement_requests],
        "refusal_reasons": list(dossier.refusal_reasons),
        "lookup_url": dossier.lookup_url,
        "lookup_code": dossier.lookup_code,
        "received_by": dossier.received_by,
        "officer_name": dossier.officer_name,
        "history": [_history_document(h) for h in dossier.history],
        "province_name": dossier.province_name,
        "version": dossier.version,
    }
    optional = {
        "pickup_id": dossier.pickup_id,
        "refused_at": dossier.refused_at,
        "withdrawn_at": dossier.withdrawn_at,
        "stopped_at": dossier.stopped_at,
        "resolved_at": dossier.resolved_at,
        "returned_at": dossier.returned_at,
        "rating": asdict(dossier.rating) if dossier.rating else None,
        "apology": dossier.apology,
        "result": dossier.result,
    }
    doc.update({k: v for k, v in optional.items() if v is not None})
    return {**dossier.extra, **doc}


def _supplement_document(r: SupplementEntry) -> Document:
    return {
        "requested_at": r.requested_at,
        "requested_by": r.requested_by,
        "origin": r.origin,
        "agency_code": r.agency_code,
        "position": r.position,
        "reasons": list(r.reasons),
        "clock_running": r.clock_running,
        "resumed_at": r.resumed_at,
    }


def _history_document(h: HistoryEntry) -> Document:
    doc: Document = {"status": int(h.status), "at": h.at, "by": h.by, "agency": h.agency, "note": h.note}
    if h.event is not None:
        doc["event"] = h.event
    return doc


def dossier_of(doc: Document) -> Dossier:
    """The dossier of a stored document (older documents may lack the later fields)."""
    procedure = doc.get("procedure") or {}
    applicant = doc.get("applicant") or {}
    rating = doc.get("rating")
    return Dossier(
        code=doc["_id"],
        centre_code=doc["centre_code"],
        centre_name=doc.get("centre_name") or doc["centre_code"],
        procedure=ProcedureInfo(
            code=procedure.get("code", ""),
            name=procedure.get("name", ""),
            field=procedure.get("field", ""),
            level=procedure.get("level", ""),
            version=int(procedure.get("version", 1)),
        ),
        procedure_snapshot=doc.get("procedure_snapshot") or {},
        competent_agency=doc.get("competent_agency") or "",
        agency_chain=[
            ChainLink(s["agency_code"], float(s.get("share", 1.0)), s.get("agency_name"))
            for s in doc.get("agency_chain") or []
        ],
        intake_channel=int(doc.get("intake_channel") or 1),
        return_channel=doc.get("return_channel") or "counter",
        delivery_address=doc.get("delivery_address"),
        notify_channels=list(doc.get("notify_channels") or []),
        applicant=ApplicantInfo(
            full_name=applicant.get("full_name") or "",
            id_number=applicant.get("id_number"),
            phone=applicant.get("phone"),
            email=applicant.get("email"),
            address=applicant.get("address"),
        ),
        search_name=doc.get("search_name") or "",
        content=doc.get("content"),
        documents=[
            SubmittedDocument(d["name"], int(d.get("originals", 0)), int(d.get("copies", 0)))
            for d in doc.get("documents") or []
        ],
        status=int(doc["status"]),
        submitted_at=doc.get("submitted_at"),
        received_at=doc.get("received_at"),
        clock_started_at=doc.get("clock_started_at"),
        appointment_at=doc.get("appointment_at"),
        original_appointment_at=doc.get("original_appointment_at"),
        limit_working_hours=doc.get("limit_working_hours"),
        paused_at=doc.get("paused_at"),
        paused_working_hours=float(doc.get("paused_working_hours") or 0.0),
        supplement_requests=[
            SupplementEntry(
                requested_at=r["requested_at"],
                requested_by=r.get("requested_by") or "",
                origin=r.get("origin") or "counter",
                reasons=list(r.get("reasons") or []),
                clock_running=bool(r.get("clock_running", False)),
                agency_code=r.get("agency_code"),
                position=r.get("position"),
                resumed_at=r.get("resumed_at"),
            )
            for r in doc.get("supplement_requests") or []
        ],
        refusal_reasons=list(doc.get("refusal_reasons") or []),
        lookup_url=doc.get("lookup_url") or "",
        lookup_code=doc.get("lookup_code"),
        received_by=doc.get("received_by"),
        officer_name=doc.get("officer_name"),
        history=[
            HistoryEntry(h["status"], h["at"], h.get("by") or "", h.get("agency") or "", h.get("note"), h.get("event"))
            for h in doc.get("history") or []
        ],
        pickup_id=doc.get("pickup_id"),
        province_name=doc.get("province_name"),
        refused_at=doc.get("refused_at"),
        withdrawn_at=doc.get("withdrawn_at"),
        stopped_at=doc.get("stopped_at"),
        resolved_at=doc.get("resolved_at"),
        returned_at=doc.get("returned_at"),
        rating=Rating(rating["overall"], dict(rating.get("criteria") or {}), rating["rated_at"]) if rating else None,
        apology=doc.get("apology"),
        result=doc.get("result"),
        extra={k: v for k, v in doc.items() if k not in _KNOWN},
        version=int(doc.get("version") or 0),
    )


def register_query(search: RegisterSearch) -> Document:
    """The MongoDB filter of a register search."""
    query: Document = {}
    if search.centre_code:
        query["centre_code"] = search.centre_code
    if search.code_prefix:
        query["_id"] = {"$regex": "^" + re.escape(search.code_prefix)}
    if search.applicant:
        query["search_name"] = {"$regex": re.escape(search_name(search.applicant))}
    if search.id_number:
        query["applicant.id_number"] = search.id_number
    if search.phone:
        local = normalise_phone(search.phone)
        # Numbers stored before intake normalised them may still be in the 84/+84 forms.
        query["applicant.phone"] = {"$in": [local, "84" + local[1:], "+84" + local[1:]] if local else [search.phone]}
    if search.procedure_code:
        query["procedure.code"] = search.procedure_code
    if search.status:
        query["status"] = search.status
    if search.received_from or search.received_to:
        bounds: dict[str, datetime] = {}
        if search.received_from:
            bounds["$gte"] = search.received_from
        if search.received_to:
            bounds["$lte"] = search.received_to
        query["received_at"] = bounds
    return query


class Dossiers(MongoRepository[Dossier]):
    """The dossier register: the aggregate, and the queries the views need (as documents)."""

    collection_name = DOSSIERS

    def to_document(self, aggregate: Dossier) -> Document:
        return document_of(aggregate)

    def from_document(self, doc: Document) -> Dossier:
        return dossier_of(doc)

    async def add(self, aggregate: Dossier) -> None:
        try:
            await super().add(aggregate)
        except DuplicateKeyError as exc:
            raise Duplicate.of(exc, self.collection_name) from None

    async def has_pickup(self, pickup_id: str) -> bool:
        found = await self.collection.find_one({"pickup_id": pickup_id}, {"_id": 1}, session=self.session)
        return found is not None

    async def search(self, search: RegisterSearch, *, limit: int, offset: int) -> tuple[int, list[Document]]:
        """A page of the register, newest first, with the total count of the query."""
        query = register_query(search)
        total = await self.collection.count_documents(query, session=self.session)
        projection = {"history": 0, "procedure_snapshot": 0, "documents": 0}
        cursor = self.collection.find(query, projection, session=self.session)
        cursor = cursor.sort([("received_at", DESCENDING), ("_id", DESCENDING)])
        return total, await cursor.skip(offset).limit(limit).to_list(limit)

    async def log_book(
        self, centre_code: str, start: datetime, end: datetime, *, limit: int
    ) -> tuple[int, list[Document]]:
        """The centre's dossiers received in [start, end), and those never received but submitted in it;
        none (only the count) when there are more than ``limit``."""
        period = {"$gte": start, "$lt": end}
        query = {
            "centre_code": centre_code,
            "$or": [{"received_at": period}, {"received_at": None, "submitted_at": period}],
        }
        total = await self.collection.count_documents(query, session=self.session)
        if total > limit:
            return total, []
        projection = {"history": 0, "procedure_snapshot": 0, "documents": 0, "supplement_requests": 0}
        return total, await self.collection.find(query, projection, session=self.session).to_list(None)

    async def report_documents(self, scope: dict[str, str], start: datetime, end: datetime) -> AsyncIterator[Document]:
        """Every dossier that can count in a report over [start, end), in a few fields (``REPORT_PROJECTION``)."""
        for query in report_queries(scope, start, end):
            async for doc in self.collection.find(query, REPORT_PROJECTION, session=self.session):
                yield doc


REPORT_PROJECTION = {
    "_id": 0,
    "status": 1,
    "centre_code": 1,
    "centre_name": 1,
    "competent_agency": 1,
    "procedure.code": 1,
    "procedure.name": 1,
    "procedure.field": 1,
    "intake_channel": 1,
    "received_at": 1,
    "appointment_at": 1,
    "resolved_at": 1,
    "returned_at": 1,
    "withdrawn_at": 1,
    "stopped_at": 1,
    "refused_at": 1,
    "rating.overall": 1,
    "rating.rated_at": 1,
}

REPORT_SCOPE_FIELDS = {
    "centre": "centre_code",
    "agency": "competent_agency",
    "field": "procedure.field",
    "procedure": "procedure.code",
}


def report_queries(scope: dict[str, str], start: datetime, end: datetime) -> list[Document]:
    """Four disjoint queries (by ``received_at`` and ``resolved_at``) that find every dossier that
    can count in a period [start, end): received within it; received before it, unresolved, and neither
    withdrawn nor stopped before it; received before it and resolved since its start; resolved before it
    but rated within it. The clause an index serves comes first: SecantusDB (the local stand-in) uses the
    first indexed clause of a filter; MongoDB's planner does not care. ``scope`` is by the fields of
    ``REPORT_SCOPE_FIELDS``."""
    fields_scope = {REPORT_SCOPE_FIELDS.get(k, k): v for k, v in scope.items()}
    return [
        {**fields_scope, "received_at": {"$gte": start, "$lt": end}},
        {
            "resolved_at": None,
            **fields_scope,
            "received_at": {"$lt": start},
            "withdrawn_at": {"$not": {"$lt": start}},
            "stopped_at": {"$not": {"$lt": start}},
        },
        {"resolved_at": {"$gte": start}, **fields_scope, "received_at": {"$lt": start}},
        {
            "rating.rated_at": {"$gte": start, "$lt": end},
            **fields_scope,
            "received_at": {"$lt": start},
            "resolved_at": {"$lt": start},
        },
    ]


# --- the small collections -------------------------------------------------------------------------------


class Sequences:
    """The daily counters of the dossier codes (``dossier_sequences``)."""

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection = db[DOSSIER_SEQUENCES]
        self.session = session

    async def ensure(self, key: str) -> None:
        """Creates a day's counter before the intake transaction (call it outside one), so concurrent first
        intakes of the day only ever increment an existing document (two transactions inserting it would
        collide)."""
        try:
            await self.collection.update_one({"_id": key}, {"$setOnInsert": {"seq": 0}}, upsert=True)
        except DuplicateKeyError:
            pass  # created by a concurrent intake: exactly what we wanted

    async def next(self, key: str) -> int:
        """The next number of a daily sequence, inside the caller's transaction: an aborted
        intake gives its number back, two intakes never get the same one."""
        doc = await self.collection.find_one_and_update(
            {"_id": key}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER, session=self.session
        )
        return int(doc["seq"]) if doc else 1


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    fingerprint: str
    dossier_code: str


class IdempotencyKeys:
    """Which dossier a retried request's ``Idempotency-Key`` created (``idempotency_keys``, one day)."""

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection = db[IDEMPOTENCY]
        self.session = session

    async def get(self, key: str) -> IdempotencyRecord | None:
        doc = await self.collection.find_one({"_id": key}, session=self.session)
        return IdempotencyRecord(doc["_id"], doc["fingerprint"], doc["dossier_code"]) if doc else None

    async def add(self, record: IdempotencyRecord, *, at: datetime) -> None:
        """In the intake's transaction: two concurrent retries cannot both create a dossier."""
        doc = {
            "_id": record.key,
            "fingerprint": record.fingerprint,
            "created_at": at,
            "dossier_code": record.dossier_code,
        }
        try:
            await self.collection.insert_one(doc, session=self.session)
        except DuplicateKeyError as exc:
            raise Duplicate.of(exc, self.collection.name) from None


class RateLimits:
    """Fixed-window counters (``rate_limits``), outside any transaction."""

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection = db[RATE_LIMITS]

    @staticmethod
    def _window_id(key: str, window_seconds: int, now: datetime) -> str:
        return f"{key}:{int(now.timestamp()) // window_seconds}"

    async def hits(self, key: str, *, window_seconds: int, now: datetime) -> int:
        """The hits of ``key`` in the current fixed window, without counting one."""
        doc = await self.collection.find_one({"_id": self._window_id(key, window_seconds, now)})
        return int(doc["n"]) if doc else 0

    async def hit(self, key: str, *, window_seconds: int, now: datetime) -> int:
        """Counts one hit in the current fixed window of ``key``; returns the hits so far in it."""
        for attempt in (1, 2):
            try:
                doc = await self.collection.find_one_and_update(
                    {"_id": self._window_id(key, window_seconds, now)},
                    {"$inc": {"n": 1}, "$setOnInsert": {"expires_at": now + timedelta(seconds=2 * window_seconds)}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
                return int(doc["n"]) if doc else 1
            except DuplicateKeyError:  # two first hits of a window raced to create it: count again
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


# --- catalogue ---
# ``procedures``: the current version of each procedure (``_id`` = code, ``version``, ``search_text`` =
# code and name folded for ``q``, ``change``/``changed_at``/``changed_by``); ``procedure_versions``: every
# version (``_id`` = ``code@version``, the same fields but ``search_text``). The calendar config and the
# province are ``province_settings`` documents ``calendar`` ({config, changed_at, changed_by}) and ``province``.

PROCEDURE_VERSIONS = "procedure_versions"

CATALOGUE_INDEXES = (
    Indexes(
        PROCEDURES,
        (
            IndexModel([("field", ASCENDING), ("level", ASCENDING)], name="field_level"),
            IndexModel([("agency_chain", ASCENDING)], name="agency_chain"),
            IndexModel([("active", ASCENDING)], name="active"),
        ),
    ),
    Indexes(
        PROCEDURE_VERSIONS,
        (IndexModel([("code", ASCENDING), ("version", ASCENDING)], name="code_version", unique=True),),
    ),
)


def procedure_query(
    *, field: str | None, level: str | None, agency: str | None, active: bool | None, q: str | None
) -> Document:
    """The filter of ``GET /procedures``; ``q`` is a substring of the code or the name, matched folded."""
    query: Document = {}
    if field:
        query["field"] = field
    if level:
        query["level"] = level
    if agency:
        query["agency_chain"] = agency
    if active is not None:
        query["active"] = active
    if q and fold(q):
        query["search_text"] = {"$regex": re.escape(fold(q))}
    return query


class _Collection:
    collection_name: str

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection: AsyncCollection[Document] = db[self.collection_name]
        self.session = session

    async def get(self, code: str) -> Document | None:
        return await self.collection.find_one({"_id": code}, session=self.session)

    async def get_many(self, codes: list[str]) -> dict[str, Document]:
        """The stored documents of ``codes`` that exist, by code."""
        docs = await self.collection.find({"_id": {"$in": codes}}, session=self.session).to_list(None)
        return {d["_id"]: d for d in docs}


class Procedures(_Collection):
    """The current version of each procedure, and every version (``procedure_versions``)."""

    collection_name = PROCEDURES

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        super().__init__(db, session)
        self.versions: AsyncCollection[Document] = db[PROCEDURE_VERSIONS]

    async def search(self, query: Document, *, limit: int, offset: int) -> tuple[int, list[Document]]:
        """A page of current procedures by code (``query`` from ``procedure_query``), with the total count."""
        total = await self.collection.count_documents(query, session=self.session)
        cursor = self.collection.find(query, {"search_text": 0}, session=self.session).sort("_id", ASCENDING)
        return total, await cursor.skip(offset).limit(limit).to_list(limit)

    async def version(self, code: str, version: int) -> Document | None:
        return await self.versions.find_one({"_id": f"{code}@{version}"}, session=self.session)

    async def all_versions(self, code: str) -> list[Document]:
        cursor = self.versions.find({"code": code}, session=self.session).sort("version", ASCENDING)
        return await cursor.to_list(None)

    async def save_version(self, current: Document) -> None:
        """Records a new version and makes it the current one; ``Duplicate`` if that version exists."""
        version = {k: v for k, v in current.items() if k != "search_text"}
        version["_id"] = f"{current['_id']}@{current['version']}"
        try:
            await self.versions.insert_one(version, session=self.session)
        except DuplicateKeyError as exc:
            raise Duplicate.of(exc, self.versions.name) from None
        await self.collection.replace_one({"_id": current["_id"]}, current, upsert=True, session=self.session)

    async def set_search_text(self, code: str, text: str) -> None:
        await self.collection.update_one({"_id": code}, {"$set": {"search_text": text}}, session=self.session)


class Centres(_Collection):
    collection_name = CENTRES

    async def put(self, doc: Document) -> None:
        await self.collection.replace_one({"_id": doc["_id"]}, doc, upsert=True, session=self.session)


class Agencies(_Collection):
    collection_name = AGENCIES

    async def codes(self) -> set[str]:
        return {d["_id"] for d in await self.collection.find({}, {"_id": 1}, session=self.session).to_list(None)}

    async def names(self, codes: list[str] | None = None) -> dict[str, str]:
        """The agencies' names by code (of ``codes``, or of all)."""
        query: Document = {"_id": {"$in": codes}} if codes is not None else {}
        cursor = self.collection.find(query, {"name": 1}, session=self.session)
        return {a["_id"]: a["name"] async for a in cursor if a.get("name")}

    async def put_all(self, docs: list[Document]) -> None:
        for doc in docs:
            await self.collection.replace_one({"_id": doc["_id"]}, doc, upsert=True, session=self.session)


class ProvinceSettings(_Collection):
    """The province's own document (``province_settings``, ``_id`` = "province")."""

    collection_name = SETTINGS

    async def province(self) -> Document | None:
        return await self.collection.find_one({"_id": PROVINCE_ID}, session=self.session)

    async def put_province(self, doc: Document) -> None:
        await self.collection.replace_one(
            {"_id": PROVINCE_ID}, {**doc, "_id": PROVINCE_ID}, upsert=True, session=self.session
        )


class Calendar(CalendarReplica):
    """The province calendar, which reception owns and publishes (``CalendarChanged``): the same document
    the other services' replicas keep (``province_settings``, ``_id`` = "calendar")."""

    async def work_calendar(self) -> WorkCalendar:
        """The calendar intake counts with (the statutory one before any import)."""
        config = await self.config()
        return WorkCalendar.from_stored(config)

    async def save(self, config: dict[str, Any], *, by: str, at: datetime) -> None:
        doc = {"_id": CALENDAR_ID, "config": config, "changed_at": at, "changed_by": by}
        await self.collection.replace_one({"_id": CALENDAR_ID}, doc, upsert=True, session=self.session)


# --- what a unit of work gives the use cases --------------------------------------------------------------


@dataclass
class Repositories:
    """Reception's repositories, bound to one transaction (or, for views, to none): ``Repositories(db, session)``."""

    dossiers: Dossiers
    sequences: Sequences
    idempotency: IdempotencyKeys
    rate_limits: RateLimits
    procedures: Procedures
    centres: Centres
    agencies: Agencies
    province: ProvinceSettings
    calendar: Calendar

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.dossiers = Dossiers(db, session)
        self.sequences = Sequences(db, session)
        self.idempotency = IdempotencyKeys(db, session)
        self.rate_limits = RateLimits(db, session)
        self.procedures = Procedures(db, session)
        self.centres = Centres(db, session)
        self.agencies = Agencies(db, session)
        self.province = ProvinceSettings(db, session)
        self.calendar = Calendar(db, session)
