"""Reception's collections and the queries on them.

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

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from motcua_kit.mongo import Document, Indexes

DOSSIERS = "dossiers"
DOSSIER_SEQUENCES = "dossier_sequences"
PROCEDURES = "procedures"
CENTRES = "centres"
AGENCIES = "agencies"
SETTINGS = "province_settings"
IDEMPOTENCY = "idempotency_keys"
RATE_LIMITS = "rate_limits"

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


async def ensure_sequence(db: AsyncDatabase[Document], key: str) -> None:
    """Creates a day's counter before the intake transaction, so concurrent first intakes of the
    day only ever increment an existing document (two transactions inserting it would collide)."""
    try:
        await db[DOSSIER_SEQUENCES].update_one({"_id": key}, {"$setOnInsert": {"seq": 0}}, upsert=True)
    except DuplicateKeyError:
        pass  # created by a concurrent intake: exactly what we wanted


async def next_sequence(db: AsyncDatabase[Document], session: AsyncClientSession, key: str) -> int:
    """The next number of a daily sequence, inside the caller's transaction: an aborted
    intake gives its number back, two intakes never get the same one."""
    doc = await db[DOSSIER_SEQUENCES].find_one_and_update(
        {"_id": key}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER, session=session
    )
    return int(doc["seq"])


async def get_procedure(db: AsyncDatabase[Document], code: str) -> Document | None:
    return await db[PROCEDURES].find_one({"_id": code})


async def get_centre(db: AsyncDatabase[Document], code: str) -> Document | None:
    return await db[CENTRES].find_one({"_id": code})


async def get_calendar_config(db: AsyncDatabase[Document]) -> Document | None:
    doc = await db[SETTINGS].find_one({"_id": "calendar"})
    return doc["config"] if doc else None


async def get_dossier(db: AsyncDatabase[Document], code: str) -> Document | None:
    return await db[DOSSIERS].find_one({"_id": code})


def _window_id(key: str, window_seconds: int, now: datetime) -> str:
    return f"{key}:{int(now.timestamp()) // window_seconds}"


async def hits(db: AsyncDatabase[Document], key: str, *, window_seconds: int, now: datetime) -> int:
    """The hits of ``key`` in the current fixed window, without counting one."""
    doc = await db[RATE_LIMITS].find_one({"_id": _window_id(key, window_seconds, now)})
    return int(doc["n"]) if doc else 0


async def hit(db: AsyncDatabase[Document], key: str, *, window_seconds: int, now: datetime) -> int:
    """Counts one hit in the current fixed window of ``key``; returns the hits so far in it."""
    for attempt in (1, 2):
        try:
            doc = await db[RATE_LIMITS].find_one_and_update(
                {"_id": _window_id(key, window_seconds, now)},
                {"$inc": {"n": 1}, "$setOnInsert": {"expires_at": now + timedelta(seconds=2 * window_seconds)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            return int(doc["n"])
        except DuplicateKeyError:  # two first hits of a window raced to create it: count again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def search_dossiers(
    db: AsyncDatabase[Document], query: dict[str, Any], *, limit: int, offset: int
) -> tuple[int, list[Document]]:
    """A page of the register, newest first, with the total count of the query."""
    total = await db[DOSSIERS].count_documents(query)
    projection = {"history": 0, "procedure_snapshot": 0, "documents": 0}
    cursor = db[DOSSIERS].find(query, projection).sort([("received_at", DESCENDING), ("_id", DESCENDING)])
    return total, await cursor.skip(offset).limit(limit).to_list(limit)


async def upsert_all(
    db: AsyncDatabase[Document], session: AsyncClientSession, collection: str, docs: list[dict[str, Any]]
) -> None:
    for doc in docs:
        await db[collection].replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)


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


async def find_procedure(
    db: AsyncDatabase[Document], code: str, session: AsyncClientSession | None = None
) -> Document | None:
    return await db[PROCEDURES].find_one({"_id": code}, session=session)


async def find_procedures(
    db: AsyncDatabase[Document], codes: list[str], session: AsyncClientSession | None = None
) -> dict[str, Document]:
    """The current documents of ``codes`` that exist, by code."""
    docs = await db[PROCEDURES].find({"_id": {"$in": codes}}, session=session).to_list(None)
    return {d["_id"]: d for d in docs}


async def search_procedures(
    db: AsyncDatabase[Document], query: dict[str, Any], *, limit: int, offset: int
) -> tuple[int, list[Document]]:
    """A page of current procedures by code, with the total count of the query."""
    total = await db[PROCEDURES].count_documents(query)
    cursor = db[PROCEDURES].find(query, {"search_text": 0}).sort("_id", ASCENDING)
    return total, await cursor.skip(offset).limit(limit).to_list(limit)


async def get_procedure_version(db: AsyncDatabase[Document], code: str, version: int) -> Document | None:
    return await db[PROCEDURE_VERSIONS].find_one({"_id": f"{code}@{version}"})


async def list_procedure_versions(db: AsyncDatabase[Document], code: str) -> list[Document]:
    return await db[PROCEDURE_VERSIONS].find({"code": code}).sort("version", ASCENDING).to_list(None)


async def save_procedure_version(db: AsyncDatabase[Document], session: AsyncClientSession, current: Document) -> None:
    """Records a new version and makes it the current one; DuplicateKeyError if that version exists."""
    version = {k: v for k, v in current.items() if k != "search_text"}
    version["_id"] = f"{current['_id']}@{current['version']}"
    await db[PROCEDURE_VERSIONS].insert_one(version, session=session)
    await db[PROCEDURES].replace_one({"_id": current["_id"]}, current, upsert=True, session=session)


async def set_procedure_search_text(
    db: AsyncDatabase[Document], session: AsyncClientSession, code: str, text: str
) -> None:
    await db[PROCEDURES].update_one({"_id": code}, {"$set": {"search_text": text}}, session=session)


async def find_centres(
    db: AsyncDatabase[Document], codes: list[str], session: AsyncClientSession | None = None
) -> dict[str, Document]:
    """The stored documents of the centres ``codes`` that exist, by code."""
    docs = await db[CENTRES].find({"_id": {"$in": codes}}, session=session).to_list(None)
    return {d["_id"]: d for d in docs}


async def agency_codes(db: AsyncDatabase[Document], session: AsyncClientSession | None = None) -> set[str]:
    return {d["_id"] for d in await db[AGENCIES].find({}, {"_id": 1}, session=session).to_list(None)}


async def get_setting(
    db: AsyncDatabase[Document], key: str, session: AsyncClientSession | None = None
) -> Document | None:
    return await db[SETTINGS].find_one({"_id": key}, session=session)


@dataclass
class Repositories:
    """What a unit of work gives the use cases: built by ``Repositories(db, session)``."""

    db: AsyncDatabase[Document]
    session: AsyncClientSession | None
