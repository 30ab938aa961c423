"""The unit of work's promises, on the in-memory fake (the same base class as the MongoDB one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from motcua_kit.events import CaseOpened
from motcua_kit.events.processing import CaseStep
from motcua_kit.testing import DuplicateKey, FakeUnitOfWork, InMemoryRepository
from motcua_kit.uow import ConcurrencyConflict, UnitOfWork, use_case

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@dataclass
class Counter:
    id: str
    value: int = 0
    version: int = 0


class Counters(InMemoryRepository[Counter]):
    def key(self, aggregate: Counter) -> str:
        return aggregate.id


@dataclass
class Repos:
    counters: Counters = field(default_factory=Counters)


def opened(code: str) -> CaseOpened:
    return CaseOpened(
        dossier_code=code, steps=[CaseStep(position=1, agency_code="000.00.11.H56", due_at=NOW)], deadline_at=NOW
    )


@use_case
async def bump(code: str, uow: UnitOfWork[Repos], hooks: list[str]) -> int:
    async with uow:
        counter = await uow.repos.counters.get(code)
        if counter is None:
            counter = Counter(code)
            counter.value += 1
            await uow.repos.counters.add(counter)
        else:
            counter.value += 1
            await uow.repos.counters.save(counter)
        uow.publish(opened(code))
        uow.after_commit(lambda: hooks.append(code))
        await uow.commit()
    return counter.value


async def test_commit_publishes_events_and_runs_hooks_once() -> None:
    uow, hooks = FakeUnitOfWork(Repos()), []
    assert await bump("a", uow, hooks) == 1
    assert await bump("a", uow, hooks) == 2
    assert uow.committed == 2
    assert [e.dossier_code for e in uow.events_of(CaseOpened)] == ["a", "a"]
    assert hooks == ["a", "a"]
    assert (await uow.repos.counters.get("a")) == Counter("a", 2, version=2)


async def test_block_left_without_commit_rolls_back_everything() -> None:
    uow, hooks = FakeUnitOfWork(Repos()), []
    await bump("a", uow, hooks)
    with pytest.raises(RuntimeError, match="refused"):
        async with uow:
            counter = await uow.repos.counters.get("a")
            assert counter is not None
            counter.value = 99
            await uow.repos.counters.save(counter)
            uow.publish(opened("a"))
            uow.after_commit(lambda: hooks.append("never"))
            raise RuntimeError("refused")
    assert (await uow.repos.counters.get("a")) == Counter("a", 1, version=1)
    assert len(uow.events) == 1 and hooks == ["a"] and uow.rolled_back == 1


async def test_transient_commit_failure_runs_the_use_case_again_and_counts_once() -> None:
    uow, hooks = FakeUnitOfWork(Repos()), []
    uow.fail_commits(2)
    assert await bump("a", uow, hooks) == 1
    assert uow.committed == 1 and uow.rolled_back == 2
    assert hooks == ["a"], "the hooks of the failed attempts never ran"
    assert len(uow.events) == 1


async def test_nested_block_joins_the_outer_transaction() -> None:
    uow, hooks = FakeUnitOfWork(Repos()), []
    async with uow:
        await bump("a", uow, hooks)
        assert uow.committed == 0 and hooks == [], "the inner commit waits for the outer one"
        await uow.commit()
    assert uow.committed == 1 and hooks == ["a"]

    with pytest.raises(RuntimeError):
        async with uow:
            await bump("b", uow, hooks)
            raise RuntimeError("the consumer failed after the use case")
    assert await uow.repos.counters.get("b") is None and hooks == ["a"]


async def test_transient_failure_under_an_outer_block_runs_the_outer_block_again() -> None:
    uow, hooks = FakeUnitOfWork(Repos()), []

    @use_case
    async def consume(code: str, uow: UnitOfWork[Repos]) -> None:
        async with uow:
            await bump(code, uow, hooks)  # the inner use case must not retry inside the lost transaction
            await uow.commit()

    uow.fail_commits(1)
    await consume("a", uow)
    assert (await uow.repos.counters.get("a")) == Counter("a", 1, version=1)
    assert uow.committed == 1 and hooks == ["a"] and len(uow.events) == 1


async def test_version_check_refuses_a_stale_save() -> None:
    repo = Counters()
    await repo.add(Counter("a"))
    first, second = await repo.get("a"), await repo.get("a")
    assert first is not None and second is not None
    first.value = 1
    await repo.save(first)
    second.value = 2
    with pytest.raises(ConcurrencyConflict):
        await repo.save(second)
    with pytest.raises(DuplicateKey):
        await repo.add(Counter("a"))
    assert (await repo.get("a")) == Counter("a", 1, version=2)


async def test_publish_and_commit_outside_a_block_are_refused() -> None:
    uow = FakeUnitOfWork(Repos())
    with pytest.raises(RuntimeError, match="outside"):
        uow.publish(opened("a"))
    with pytest.raises(RuntimeError, match="outside"):
        await uow.commit()


async def test_nothing_is_published_or_committed_after_the_commit() -> None:
    uow = FakeUnitOfWork(Repos())
    async with uow:
        uow.publish(opened("a"))
        await uow.commit()
        with pytest.raises(RuntimeError, match="after commit"):
            uow.publish(opened("b"))
        with pytest.raises(RuntimeError, match="twice"):
            await uow.commit()
    assert uow.committed == 1 and [e.dossier_code for e in uow.events_of(CaseOpened)] == ["a"]


def test_use_case_must_take_a_uow() -> None:
    with pytest.raises(TypeError, match="uow"):

        @use_case
        async def no_uow(code: str) -> None: ...
