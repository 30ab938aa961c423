"""MongoDB through PyMongo's async API: the client and indexes (transactions: ``motcua_kit.uow``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.settings import MongoSettings

Document = dict[str, Any]


def connect(settings: MongoSettings) -> AsyncMongoClient[Document]:
    """Builds the client; it connects lazily, on first use."""
    return AsyncMongoClient(
        settings.url,
        heartbeatFrequencyMS=settings.heartbeat_frequency_ms,
        serverSelectionTimeoutMS=settings.server_selection_timeout_ms,
        tz_aware=True,
        uuidRepresentation="standard",
    )


@dataclass(frozen=True)
class Indexes:
    """Indexes of one collection, created at start-up."""

    collection: str
    models: Sequence[IndexModel] = field(default_factory=tuple)


async def ensure_indexes(db: AsyncDatabase[Document], specs: Sequence[Indexes]) -> None:
    for spec in specs:
        if spec.models:
            await db[spec.collection].create_indexes(list(spec.models))


async def ping(client: AsyncMongoClient[Document]) -> None:
    await client.admin.command("ping")
