"""The composition root every service uses in its FastAPI lifespan.

It builds the MongoDB client, the Kafka producer, the outbox relay and the consumers,
creates indexes and topics, supervises the background loops and answers readiness.
Nothing connects before ``__aenter__``; tests pass their own settings.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, TypeVar

from motcua_kit.auth import TokenVerifier
from motcua_kit.consumer import INBOX_INDEXES, EventConsumer, Handler
from motcua_kit.events.base import Event
from motcua_kit.kafka import ensure_topics, make_producer, wait_for_broker
from motcua_kit.logs import get_logger
from motcua_kit.mongo import Indexes, connect, ensure_indexes, ping
from motcua_kit.outbox import OUTBOX_INDEXES, OutboxRelay
from motcua_kit.settings import ServiceSettings
from motcua_kit.uow import MongoUnitOfWork, RepositoriesFactory

log = get_logger(__name__)

R = TypeVar("R")
Worker = Callable[["ServiceRuntime[Any]"], Awaitable[None]]


@dataclass(frozen=True)
class ConsumerSpec:
    """One consumer group of the service: ``<service>.<name>``."""

    name: str
    topics: Sequence[str]
    handlers: Mapping[type[Event], Handler]


def no_repositories(db: Any, session: Any) -> Any:
    return None


@dataclass
class ServiceRuntime(Generic[R]):
    service: str
    settings: ServiceSettings
    repositories: RepositoriesFactory[R] = no_repositories
    """Builds the service's repositories (``store.Repositories``) for each unit of work."""
    indexes: Sequence[Indexes] = ()
    consumers: Sequence[ConsumerSpec] = ()
    workers: Mapping[str, Worker] = field(default_factory=dict)
    restart_delay_seconds: float = 2.0
    shutdown_timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []
        self.event_consumers: list[EventConsumer] = []

    async def __aenter__(self) -> ServiceRuntime[R]:
        s = self.settings
        self.client = connect(s.mongo)
        self.db = self.client[s.mongo.database]
        await ping(self.client)
        await ensure_indexes(self.db, [*OUTBOX_INDEXES, *INBOX_INDEXES, *self.indexes])
        await wait_for_broker(s.kafka, client_id=self.service)
        await ensure_topics(s.kafka, client_id=self.service)
        self.producer = make_producer(s.kafka, client_id=self.service)
        await self.producer.start()
        self.relay = OutboxRelay(self.db, self.producer, s.relay, topic_prefix=s.kafka.topic_prefix)
        self.verifier = TokenVerifier(s.auth)
        if s.run_workers:
            self._start("outbox-relay", self.relay.run)
            for spec in self.consumers:
                consumer = EventConsumer(
                    service=self.service,
                    name=spec.name,
                    topics=spec.topics,
                    handlers=spec.handlers,
                    uow=self.uow,
                    kafka=s.kafka,
                    settings=s.consumer,
                    dlq_producer=self.producer,
                )
                self.event_consumers.append(consumer)
                self._start(consumer.group_id, consumer.run)
            for name, worker in self.workers.items():
                self._start(name, lambda w=worker: w(self))  # type: ignore[misc]
        log.info("service started", workers=s.run_workers)
        return self

    async def __aexit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # A loop stuck inside a driver call may ignore cancellation for a while: do not let
            # it hold the shutdown. What it was doing is redone by the next start (outbox, inbox).
            _, stuck = await asyncio.wait(self._tasks, timeout=self.shutdown_timeout_seconds)
            for task in stuck:
                log.warning("background loop did not stop in time", loop=task.get_name())
        with contextlib.suppress(Exception):
            await self.producer.stop()
        await self.client.close()
        log.info("service stopped")

    def _start(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        self._tasks.append(asyncio.create_task(self._supervise(name, loop), name=name))

    async def _supervise(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """Keeps a background loop alive: a crash is logged and the loop restarted."""
        while True:
            try:
                await loop()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("background loop crashed, restarting", loop=name, error=repr(exc))
                await asyncio.sleep(self.restart_delay_seconds)

    def uow(self) -> MongoUnitOfWork[R]:
        """A new unit of work on this service's database and repositories: one per request or message."""
        return MongoUnitOfWork(
            self.client, self.db, self.repositories, producer=self.service, on_events=self.relay.wake
        )

    async def readiness(self) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        try:
            await asyncio.wait_for(ping(self.client), 2.0)
            checks["database"] = True
        except Exception:
            checks["database"] = False
        try:
            await asyncio.wait_for(self.producer.client.force_metadata_update(), 2.0)
            checks["broker"] = bool(self.producer.client.cluster.brokers())
        except Exception:
            checks["broker"] = False
        for consumer in self.event_consumers:
            checks[f"consumer:{consumer.group_id}"] = consumer.joined
        return checks

    def status(self) -> dict[str, Any]:
        return {"relay_has_lease": self.relay.has_lease, "consumers": [c.group_id for c in self.event_consumers]}
