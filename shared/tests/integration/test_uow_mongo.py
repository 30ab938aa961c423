"""The MongoDB unit of work on the real local database: commit, rollback, versions, retries, outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from motcua_devstack.testing import LocalStack
from motcua_kit.events import CaseOpened
from motcua_kit.events.processing import CaseStep
from motcua_kit.mongo import Document
from motcua_kit.outbox import OUTBOX
from motcua_kit.uow import ConcurrencyConflict, MongoRepository, MongoUnitOfWork, UnitOfWork, use_case

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@dataclass
class Counter:
    id: str
    value: int = 0
    version: int = 0


class Counters(MongoRepository[Counter]):
    collection_name = "counters"

    def to_document(self, aggregate: Counter) -> Document:
        return {"_id": aggregate.id, "value": aggregate.value, "version": aggregate.version}

    def from_document(self, doc: Document) -> Counter:
        return Counter(doc["_id"], doc["value"], doc.get("version", 0))


@dataclass
class Repos:
    counters: Counters


@pytest.fixture
async def make_uow(local_stack: LocalStack, unique_name: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(local_stack.mongo_url, tz_aware=True)
    db = client[f"uow_{unique_name}"]
    await db.create_collection("counters")
    await db.create_collection(OUTBOX)
    woken: list[int] = []

    def make() -> MongoUnitOfWork[Repos]:
        uow = MongoUnitOfWork(
            client, db, lambda d, s: Repos(Counters(d, s)), producer="test", on_events=lambda: woken.append(1)
        )
        uow.woken = woken  # type: ignore[attr-defined]
        return uow

    yield make
    await client.close()


@use_case
async def bump(code: str, uow: UnitOfWork[Repos]) -> int:
    async with uow:
        counter = await uow.repos.counters.get(code)
        if counter is None:
            counter = Counter(code, 1)
            await uow.repos.counters.add(counter)
        else:
            counter.value += 1
            await uow.repos.counters.save(counter)
        uow.publish(
            CaseOpened(
                dossier_code=code,
                steps=[CaseStep(position=counter.value, agency_code="000.00.11.H56", due_at=NOW)],
                deadline_at=NOW,
            )
        )
        await uow.commit()
    return counter.value


async def test_commit_writes_state_and_outbox_together(make_uow: Any) -> None:
    uow = make_uow()
    assert await bump("a", uow) == 1
    assert await bump("a", uow) == 2
    assert await uow.repos.counters.get("a") == Counter("a", 2, version=2)
    outbox = await uow.db[OUTBOX].find({"key": "a"}).sort("seq", 1).to_list(None)
    assert [d["seq"] for d in outbox] == [1, 2] and not any(d["sent"] for d in outbox)
    assert uow.woken == [1, 1], "the relay is woken once per committed transaction with events"


async def test_rollback_leaves_neither_state_nor_events(make_uow: Any) -> None:
    uow = make_uow()
    with pytest.raises(RuntimeError):
        async with uow:
            await uow.repos.counters.add(Counter("b", 5))
            uow.publish(CaseOpened(dossier_code="b", steps=[], deadline_at=NOW))
            raise RuntimeError("refused")
    assert await uow.repos.counters.get("b") is None
    assert await uow.db[OUTBOX].count_documents({"key": "b"}) == 0
    assert uow.woken == []


async def test_stale_save_is_a_concurrency_conflict(make_uow: Any) -> None:
    await bump("c", make_uow())
    first, second = make_uow(), make_uow()
    async with first, second:
        mine = await first.repos.counters.get("c")
        theirs = await second.repos.counters.get("c")
        theirs.value = 10
        await second.repos.counters.save(theirs)
        await second.commit()
        mine.value = 20
        with pytest.raises(Exception) as caught:  # a write conflict or the version check
            await first.repos.counters.save(mine)
            await first.commit()
    assert isinstance(caught.value, ConcurrencyConflict) or caught.value.has_error_label("TransientTransactionError")
    assert (await make_uow().repos.counters.get("c")).value == 10


async def test_concurrent_use_cases_are_retried_until_each_counts_once(make_uow: Any) -> None:
    await bump("d", make_uow())
    values = await asyncio.gather(*(bump("d", make_uow()) for _ in range(8)))
    assert sorted(values) == list(range(2, 10)), "no lost update, no gap"
    outbox = await make_uow().db[OUTBOX].find({"key": "d"}).sort("seq", 1).to_list(None)
    assert [d["seq"] for d in outbox] == list(range(1, 10))
