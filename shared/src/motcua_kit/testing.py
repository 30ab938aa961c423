"""In-memory stand-ins for the unit of work and repositories: fast use-case tests with no servers.

A service's tests build their fake repositories on :class:`InMemoryRepository` (adding the queries their
use cases need) and hand them to :class:`FakeUnitOfWork`::

    uow = FakeUnitOfWork(Repos(dossiers=FakeDossiers()))
    await withdraw(WithdrawDossier(code=...), uow)
    assert uow.committed == 1
    assert [type(e) for e in uow.events] == [DossierWithdrawn]

The fake behaves like the real one where a use case can tell: events and after-commit hooks only count once a
commit happened, a block left without commit rolls back what the repositories hold, nested blocks join the
outer one, and ``fail_commits(n)`` makes the next commits fail as a transient conflict would (so a test sees
:func:`motcua_kit.uow.use_case` run the function again).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from pymongo.errors import OperationFailure

from motcua_kit.events.base import Envelope, Event
from motcua_kit.uow import TRANSIENT, ConcurrencyConflict, UnitOfWork

A = TypeVar("A")
R = TypeVar("R")


class InMemoryRepository(Generic[A]):
    """Aggregates by key, copied in and out (like a database), with the same version check as MongoRepository."""

    def __init__(self, items: Iterable[A] = (), *, key: Callable[[A], Any] | None = None) -> None:
        self._key = key or self.key
        self.items: dict[Any, A] = {}
        for item in items:
            item.version = getattr(item, "version", 0) or 1  # type: ignore[attr-defined]
            self.items[self._key(item)] = copy.deepcopy(item)
        self._snapshot: dict[Any, A] | None = None

    def key(self, aggregate: A) -> Any:
        """The aggregate's id; override, or pass ``key=``."""
        raise NotImplementedError

    async def get(self, key: Any) -> A | None:
        item = self.items.get(key)
        return copy.deepcopy(item) if item is not None else None

    async def add(self, aggregate: A) -> None:
        key = self._key(aggregate)
        if key in self.items:
            raise DuplicateKey(key)
        aggregate.version = 1  # type: ignore[attr-defined]
        self.items[key] = copy.deepcopy(aggregate)

    async def save(self, aggregate: A) -> None:
        key = self._key(aggregate)
        stored = self.items.get(key)
        loaded: int = aggregate.version  # type: ignore[attr-defined]
        if stored is None or stored.version != loaded:  # type: ignore[attr-defined]
            raise ConcurrencyConflict(f"{key!r} changed since it was loaded")
        aggregate.version = loaded + 1  # type: ignore[attr-defined]
        self.items[key] = copy.deepcopy(aggregate)

    def all(self) -> list[A]:
        return [copy.deepcopy(item) for item in self.items.values()]

    def snapshot(self) -> None:
        self._snapshot = copy.deepcopy(self.items)

    def restore(self) -> None:
        if self._snapshot is not None:
            self.items = self._snapshot
        self._snapshot = None


class DuplicateKey(Exception):
    """What an in-memory repository raises where MongoDB would raise a ``DuplicateKeyError``."""


class FakeInbox:
    def __init__(self) -> None:
        self.handled: set[tuple[str, str]] = set()
        self._snapshot: set[tuple[str, str]] | None = None

    async def seen(self, consumer: str, event_id: str) -> bool:
        return (consumer, event_id) in self.handled

    async def record(self, consumer: str, envelope: Envelope, key: str) -> None:
        self.handled.add((consumer, envelope.event_id))

    def snapshot(self) -> None:
        self._snapshot = set(self.handled)

    def restore(self) -> None:
        if self._snapshot is not None:
            self.handled = self._snapshot
        self._snapshot = None


class FakeUnitOfWork(UnitOfWork[R]):
    """A unit of work on in-memory repositories; ``events`` lists what committed transactions published."""

    def __init__(self, repos: R, *, producer: str = "test") -> None:
        super().__init__(producer=producer)
        self.repos = repos
        self.inbox = FakeInbox()
        self.committed = 0
        self.rolled_back = 0
        self.envelopes: list[Envelope] = []
        self.events: list[Event] = []
        self._fail_commits = 0

    def fail_commits(self, times: int = 1) -> None:
        """The next ``times`` commits fail as a write conflict does (TransientTransactionError)."""
        self._fail_commits = times

    def events_of(self, cls: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    def _stores(self) -> list[Any]:
        holders = [self.inbox, *vars(self.repos).values()] if hasattr(self.repos, "__dict__") else [self.inbox]
        return [h for h in holders if hasattr(h, "snapshot") and hasattr(h, "restore")]

    async def _begin(self) -> None:
        for store in self._stores():
            store.snapshot()

    async def _write_events(self, events: Sequence[tuple[Event, Envelope]]) -> None:
        return None

    async def _commit(self) -> None:
        if self._fail_commits:
            self._fail_commits -= 1
            raise OperationFailure("write conflict (fake)", code=112, details={"errorLabels": [TRANSIENT]})
        self.committed += 1
        self.events.extend(e for e, _ in self._events)
        self.envelopes.extend(env for _, env in self._events)

    async def _abort(self) -> None:
        self.rolled_back += 1
        for store in self._stores():
            store.restore()
