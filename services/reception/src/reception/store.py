"""Reception's collections and the queries on them."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.mongo import Document, Indexes

DOSSIERS = "dossiers"
DOSSIER_SEQUENCES = "dossier_sequences"
PROCEDURES = "procedures"
CENTRES = "centres"
AGENCIES = "agencies"
SETTINGS = "province_settings"
IDEMPOTENCY = "idempotency_keys"

INDEXES = (
    Indexes(
        DOSSIERS,
        (
            IndexModel([("centre_code", ASCENDING), ("received_at", DESCENDING)], name="centre_received"),
            IndexModel([("status", ASCENDING), ("centre_code", ASCENDING)], name="status_centre"),
            IndexModel([("procedure.code", ASCENDING), ("received_at", DESCENDING)], name="procedure_received"),
        ),
    ),
    Indexes(IDEMPOTENCY, (IndexModel([("created_at", ASCENDING)], name="idempotency_ttl", expireAfterSeconds=86_400),)),
)


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


async def upsert_all(
    db: AsyncDatabase[Document], session: AsyncClientSession, collection: str, docs: list[dict[str, Any]]
) -> None:
    for doc in docs:
        await db[collection].replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)
