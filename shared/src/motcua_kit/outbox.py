"""The transactional outbox: events are written with the state change, then relayed to Kafka.

A use case ``publish``es events on its unit of work (``motcua_kit.uow``): they are written to ``outbox``
in the same transaction as the state change, so both commit or neither does. The relay, one active
instance per service (a lease in MongoDB), publishes unsent events with ``acks=all`` in
per-key sequence order, marks them sent, and retries with backoff while the broker is away.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from motcua_kit import metrics
from motcua_kit.events.base import Envelope
from motcua_kit.logs import get_logger
from motcua_kit.mongo import Document, Indexes
from motcua_kit.settings import RelaySettings
from motcua_kit.uow import OUTBOX, OUTBOX_SEQUENCES

__all__ = ["OUTBOX", "OUTBOX_INDEXES", "OUTBOX_SEQUENCES", "OutboxRelay", "outbox_backlog"]
log = get_logger(__name__)

OUTBOX_LEASE = "outbox_lease"
SENT_RETENTION = timedelta(days=7)

OUTBOX_INDEXES = (
    Indexes(
        OUTBOX,
        (
            IndexModel([("sent", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)], name="unsent_in_order"),
            IndexModel([("key", ASCENDING), ("seq", ASCENDING)], name="key_seq", unique=True),
            IndexModel(
                [("sent_at", ASCENDING)], name="sent_ttl", expireAfterSeconds=int(SENT_RETENTION.total_seconds())
            ),
        ),
    ),
)


class OutboxRelay:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        producer: AIOKafkaProducer,
        settings: RelaySettings,
        *,
        topic_prefix: str = "",
    ) -> None:
        self.db = db
        self.topic_prefix = topic_prefix
        self.producer = producer
        self.settings = settings
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._lease_until: datetime | None = None
        self._last_gauges = 0.0
        self.has_lease = False

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        while True:
            # Every replica reports the backlog, so a standby's gauges never go stale.
            with contextlib.suppress(Exception):
                await self._update_gauges()
            if not await self._hold_lease():
                await asyncio.sleep(self.settings.lease_seconds / 2)
                continue
            try:
                published = await self.publish_batch()
                failures = 0
            except Exception as exc:  # broker away, database away: back off and try again
                failures += 1
                delay = min(self.settings.backoff_max_seconds, self.settings.idle_poll_seconds * 2**failures)
                log.warning("outbox relay failed, retrying", error=repr(exc), retry_in_seconds=delay)
                await asyncio.sleep(delay)
                continue
            if published == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.idle_poll_seconds)

    async def _hold_lease(self) -> bool:
        now = datetime.now(UTC)
        lease = timedelta(seconds=self.settings.lease_seconds)
        if self._lease_until and now < self._lease_until - lease / 2:
            return True
        try:
            await self.db[OUTBOX_LEASE].find_one_and_update(
                {"_id": "relay", "$or": [{"owner": self.owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + lease}},
                upsert=True,
            )
        except DuplicateKeyError:  # somebody else holds a live lease
            self._lease_until = None
            self.has_lease = False
            return False
        self._lease_until = now + lease
        self.has_lease = True
        return True

    async def publish_batch(self) -> int:
        """Publishes one batch of unsent events; returns how many were published."""
        limit = self.settings.batch_size
        docs = await self.db[OUTBOX].find({"sent": False}).sort([("created_at", 1), ("_id", 1)]).to_list(limit)
        by_key: dict[str, list[Document]] = defaultdict(list)
        for doc in docs:
            by_key[doc["key"]].append(doc)
        if len(docs) == limit:
            # The batch may have cut a key's sequence: only send keys with no earlier unsent event.
            for key, group in list(by_key.items()):
                first = min(d["seq"] for d in group)
                if await self.db[OUTBOX].find_one({"key": key, "sent": False, "seq": {"$lt": first}}, {"_id": 1}):
                    del by_key[key]
        results = await asyncio.gather(*(self._publish_key(g) for g in by_key.values()), return_exceptions=True)
        sent_ids: list[str] = []
        errors: list[BaseException] = []
        for result in results:
            if isinstance(result, BaseException):
                errors.append(result)
                continue
            ids, error = result
            sent_ids.extend(ids)
            if error is not None:
                errors.append(error)
        if sent_ids:
            await self.db[OUTBOX].update_many(
                {"_id": {"$in": sent_ids}}, {"$set": {"sent": True, "sent_at": datetime.now(UTC)}}
            )
        if errors:
            raise errors[0]
        return len(sent_ids)

    async def _publish_key(self, docs: list[Document]) -> tuple[list[str], BaseException | None]:
        sent: list[str] = []
        for doc in sorted(docs, key=lambda d: d["seq"]):
            envelope = Envelope.model_validate(doc["envelope"])
            try:
                await self.producer.send_and_wait(
                    self.topic_prefix + doc["topic"],
                    doc["value"].encode(),
                    key=doc["key"].encode(),
                    headers=envelope.to_headers(),
                )
            except Exception as exc:
                return sent, exc  # stop this key here: the next ones must wait, in order
            metrics.record_published(doc["topic"], envelope.event_type)
            sent.append(doc["_id"])
        return sent, None

    async def _update_gauges(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._last_gauges < 2.0:
            return
        self._last_gauges = now
        backlog = await self.db[OUTBOX].count_documents({"sent": False})
        oldest = await self.db[OUTBOX].find_one({"sent": False}, sort=[("created_at", 1)])
        age = (datetime.now(UTC) - oldest["created_at"]).total_seconds() if oldest else 0.0
        metrics.record_outbox(backlog, age)


async def outbox_backlog(db: AsyncDatabase[Document]) -> dict[str, Any]:
    """What is waiting to be published: for health pages and tests."""
    return {"unsent": await db[OUTBOX].count_documents({"sent": False})}
