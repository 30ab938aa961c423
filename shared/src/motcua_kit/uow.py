"""The unit of work: one MongoDB transaction for a use case's state changes and the events it publishes.

Shaped like cosmicpython's::

    @use_case
    async def withdraw(cmd: WithdrawDossier, uow: UnitOfWork[Repositories]) -> Dossier:
        async with uow:
            dossier = await uow.repos.dossiers.get(cmd.code)
            uow.publish(*dossier.withdraw(by=cmd.by, at=cmd.at))
            await uow.repos.dossiers.save(dossier)
            uow.after_commit(lambda: metrics.record_withdrawn(dossier.centre_code))
            await uow.commit()
        return dossier

- ``uow.repos`` are the service's repositories, bound to the transaction inside ``async with`` (outside it
  they read without one: views).
- ``publish`` adds events to the outbox; they are written in the same transaction, at commit.
- ``commit`` commits once; leaving the block without it rolls everything back. ``after_commit`` hooks
  (metrics, wake-ups) run only after a commit that happened, once, never on a retried attempt.
- Blocks nest: an inner ``async with uow`` joins the outer transaction, and its ``commit`` is left to the
  outer one. So a consumer's inbox entry and the use case's changes commit together.
- :func:`use_case` runs the whole function again when the database reports a transient conflict (two writers
  on one document, a lost primary) or a repository's optimistic version check fails, as the driver's
  ``with_transaction`` did: everything it changed was in the unit of work, so a new attempt starts clean.

:class:`MongoUnitOfWork` is the real one; ``motcua_kit.testing.FakeUnitOfWork`` keeps everything in memory.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, Generic, ParamSpec, Protocol, Self, TypeVar

from asgi_correlation_id import correlation_id
from pymongo import AsyncMongoClient, InsertOne, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from motcua_kit.events.base import Envelope, Event
from motcua_kit.logs import get_logger
from motcua_kit.mongo import Document

R = TypeVar("R")
A = TypeVar("A")
T = TypeVar("T")
P = ParamSpec("P")
log = get_logger(__name__)

OUTBOX = "outbox"
OUTBOX_SEQUENCES = "outbox_sequences"
INBOX = "inbox"
RETRY_SECONDS = 120.0  # as long as the driver's with_transaction keeps retrying
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"
TRANSIENT = "TransientTransactionError"


class ConcurrencyConflict(Exception):
    """Somebody saved the aggregate since it was loaded: the use case runs again on fresh state."""


def current_correlation_id() -> str:
    cid = correlation_id.get()
    if not cid:
        cid = uuid.uuid4().hex
        correlation_id.set(cid)
    return cid


def is_transient(exc: BaseException) -> bool:
    """Errors after which the same use case, run again from the start, may well succeed."""
    if isinstance(exc, ConcurrencyConflict):
        return True
    return isinstance(exc, PyMongoError) and exc.has_error_label(TRANSIENT)


class InboxPort(Protocol):
    """Which events each consumer group has handled."""

    async def seen(self, consumer: str, event_id: str) -> bool: ...

    async def record(self, consumer: str, envelope: Envelope, key: str) -> None: ...


class UnitOfWork(Generic[R]):
    """What every unit of work does; the storage is the subclass's (MongoDB, or memory in tests)."""

    repos: R
    """The service's repositories: inside ``async with`` they work in the transaction."""
    inbox: InboxPort

    def __init__(self, *, producer: str) -> None:
        self.producer = producer
        self._depth = 0
        self._committed = False
        self._events: list[tuple[Event, Envelope]] = []
        self._hooks: list[Callable[[], None]] = []

    # --- what use cases call --------------------------------------------------------------------

    def publish(self, *events: Event) -> list[Envelope]:
        """Adds events to the outbox of this transaction; the relay sends them once it committed."""
        if not self._depth:
            raise RuntimeError("publish() outside 'async with uow'")
        if self._committed:
            raise RuntimeError("publish() after commit: the events would never be written")
        envelopes = []
        for event in events:
            envelope = Envelope(
                event_type=event.event_type,
                schema_version=event.schema_version,
                correlation_id=current_correlation_id(),
                producer=self.producer,
            )
            self._events.append((event, envelope))
            envelopes.append(envelope)
        return envelopes

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Runs ``hook`` once the transaction committed (never if it rolls back or is retried)."""
        if not self._depth:
            raise RuntimeError("after_commit() outside 'async with uow'")
        self._hooks.append(hook)

    async def commit(self) -> None:
        """Commits the transaction; inside a nested block, the outer block commits."""
        if not self._depth:
            raise RuntimeError("commit() outside 'async with uow'")
        if self._depth > 1:
            return
        if self._committed:
            raise RuntimeError("commit() twice in one 'async with uow'")
        if self._events:
            await self._write_events(self._events)
        await self._commit()
        self._committed = True
        hooks, self._hooks = self._hooks, []
        for hook in hooks:
            try:
                hook()
            except Exception as exc:  # a metric must never undo a committed use case
                log.warning("after-commit hook failed", error=repr(exc))

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @property
    def published(self) -> Sequence[tuple[Event, Envelope]]:
        """The events of the current (or last committed) transaction, for tests and logs."""
        return tuple(self._events)

    # --- the block ------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._depth == 0:
            self._committed = False
            self._events = []
            self._hooks = []
            await self._begin()
        self._depth += 1
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._depth -= 1
        if self._depth:
            return
        try:
            if not self._committed:
                await self._abort()
        finally:
            await self._end()

    # --- the storage's part ---------------------------------------------------------------------

    async def _begin(self) -> None:
        raise NotImplementedError

    async def _write_events(self, events: Sequence[tuple[Event, Envelope]]) -> None:
        raise NotImplementedError

    async def _commit(self) -> None:
        raise NotImplementedError

    async def _abort(self) -> None:
        raise NotImplementedError

    async def _end(self) -> None:
        return None


RepositoriesFactory = Callable[[AsyncDatabase[Document], AsyncClientSession | None], R]
"""Builds a service's repositories on a database, bound to a session or (for views) to none."""


class MongoUnitOfWork(UnitOfWork[R]):
    """One MongoDB transaction. Build a new one per request or message (``ServiceRuntime.uow()``)."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        repositories: RepositoriesFactory[R],
        *,
        producer: str,
        on_events: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(producer=producer)
        self.client = client
        self.db = db
        self._factory = repositories
        self._on_events = on_events
        self.session: AsyncClientSession | None = None
        self.repos = repositories(db, None)
        self.inbox = Inbox(db, None)

    async def _begin(self) -> None:
        self.session = self.client.start_session()
        await self.session.start_transaction()
        self.repos = self._factory(self.db, self.session)
        self.inbox = Inbox(self.db, self.session)

    async def _write_events(self, events: Sequence[tuple[Event, Envelope]]) -> None:
        now = datetime.now(UTC)
        docs = []
        for event, envelope in events:
            counter = await self.db[OUTBOX_SEQUENCES].find_one_and_update(
                {"_id": event.key},
                {"$inc": {"seq": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
                session=self.session,
            )
            docs.append(
                InsertOne(
                    {
                        "_id": envelope.event_id,
                        "topic": event.topic,
                        "key": event.key,
                        "seq": counter["seq"] if counter else 1,
                        "value": event.model_dump_json(),
                        "envelope": envelope.model_dump(mode="json"),
                        "created_at": now,
                        "sent": False,
                    }
                )
            )
        await self.db[OUTBOX].bulk_write(docs, ordered=True, session=self.session)
        if self._on_events is not None:
            self.after_commit(self._on_events)

    async def _commit(self) -> None:
        assert self.session is not None
        while True:
            try:
                await self.session.commit_transaction()
                return
            except (ConnectionFailure, OperationFailure) as exc:
                # The driver's own rule: an unknown commit result may be committed again, safely.
                if exc.has_error_label(UNKNOWN_COMMIT) and not _max_time_expired(exc):
                    continue
                raise

    async def _abort(self) -> None:
        if self.session is not None and self.session.in_transaction:
            try:
                await self.session.abort_transaction()
            except PyMongoError as exc:  # the server drops an abandoned transaction by itself
                log.warning("abort failed", error=repr(exc))

    async def _end(self) -> None:
        if self.session is not None:
            await self.session.end_session()
        self.session = None
        self.repos = self._factory(self.db, None)
        self.inbox = Inbox(self.db, None)


def _max_time_expired(exc: PyMongoError) -> bool:
    return isinstance(exc, OperationFailure) and exc.code == 50


class Inbox:
    """Which events a consumer group has handled (``inbox``): written in the handler's transaction."""

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.collection: AsyncCollection[Document] = db[INBOX]
        self.session = session

    async def seen(self, consumer: str, event_id: str) -> bool:
        found = await self.collection.find_one({"consumer": consumer, "event_id": event_id}, session=self.session)
        return found is not None

    async def record(self, consumer: str, envelope: Envelope, key: str) -> None:
        await self.collection.insert_one(
            {
                "consumer": consumer,
                "event_id": envelope.event_id,
                "event_type": envelope.event_type,
                "key": key,
                "handled_at": datetime.now(UTC),
            },
            session=self.session,
        )


# --- retrying a whole use case ---------------------------------------------------------------------


async def retry_transient(
    work: Callable[[], Awaitable[T]], uow: UnitOfWork[Any] | None = None, *, seconds: float = RETRY_SECONDS
) -> T:
    """Runs ``work`` again while it fails with a transient error, for at most ``seconds``.

    Inside an open transaction (a nested use case) nothing is retried here: the transaction is lost,
    and the outer block's own retry starts it again.
    """
    deadline = time.monotonic() + seconds
    attempt = 0
    while True:
        attempt += 1
        try:
            return await work()
        except Exception as exc:
            if not is_transient(exc) or (uow is not None and uow.in_transaction) or time.monotonic() > deadline:
                raise
            delay = min(0.5, 0.005 * 2**attempt) * random.uniform(0.5, 1.0)
            log.debug("transient conflict, running the use case again", attempt=attempt, error=repr(exc))
            await asyncio.sleep(delay)


def use_case(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Marks a use case: one async function taking its command and a ``uow``, retried on transient conflicts."""
    signature = inspect.signature(fn)
    if "uow" not in signature.parameters:
        raise TypeError(f"{fn.__qualname__}: a use case takes its unit of work as 'uow'")

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        uow = signature.bind_partial(*args, **kwargs).arguments.get("uow")
        return await retry_transient(lambda: fn(*args, **kwargs), uow)

    return run


# --- repositories ----------------------------------------------------------------------------------


class MongoRepository(Generic[A]):
    """Loads and saves one kind of aggregate in one collection, with an optimistic version check.

    A subclass names its ``collection`` and maps the aggregate to a document (``to_document``, with ``_id``)
    and back (``from_document``). The aggregate has an integer ``version`` attribute: ``add`` stores version 1,
    ``save`` replaces the document only if it still has the version the aggregate was loaded with, else
    :class:`ConcurrencyConflict`. Queries the views need are methods of the subclass.
    """

    collection_name: ClassVar[str]

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None) -> None:
        self.db = db
        self.collection: AsyncCollection[Document] = db[self.collection_name]
        self.session = session

    def to_document(self, aggregate: A) -> Document:
        raise NotImplementedError

    def from_document(self, doc: Document) -> A:
        raise NotImplementedError

    async def get(self, key: Any) -> A | None:
        doc = await self.collection.find_one({"_id": key}, session=self.session)
        return None if doc is None else self.from_document(doc)

    async def add(self, aggregate: A) -> None:
        """Inserts a new aggregate (a ``DuplicateKeyError`` if its id exists)."""
        aggregate.version = 1  # type: ignore[attr-defined]
        await self.collection.insert_one(self.to_document(aggregate), session=self.session)

    async def save(self, aggregate: A) -> None:
        """Replaces the stored aggregate if nobody saved it since it was loaded."""
        loaded: int = aggregate.version  # type: ignore[attr-defined]
        aggregate.version = loaded + 1  # type: ignore[attr-defined]
        doc = self.to_document(aggregate)
        # A document stored before versions existed has none: it counts as version 0.
        expected: Any = loaded if loaded else {"$in": [0, None]}
        result = await self.collection.replace_one({"_id": doc["_id"], "version": expected}, doc, session=self.session)
        if result.matched_count == 0:
            aggregate.version = loaded  # type: ignore[attr-defined]
            raise ConcurrencyConflict(f"{self.collection_name} {doc['_id']!r} changed since it was loaded")

    async def find(self, query: Document, *, sort: Iterable[tuple[str, int]] | None = None, limit: int = 0) -> list[A]:
        cursor = self.collection.find(query, session=self.session)
        if sort:
            cursor = cursor.sort(list(sort))
        if limit:
            cursor = cursor.limit(limit)
        return [self.from_document(doc) async for doc in cursor]
