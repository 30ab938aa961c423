"""Notify's background loops: the sender (what is due goes to the providers) and its waiting gauge."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from motcua_kit.logs import get_logger
from motcua_kit.runtime import ServiceRuntime, Worker
from motcua_kit.uow import UnitOfWork
from notify import metrics
from notify.service.sending import Defer, Senders, defer, send_claimed
from notify.settings import NotifySettings
from notify.store import Repositories

log = get_logger(__name__)
GAUGE_SECONDS = 5.0


async def send_due(
    new_uow: Callable[[], UnitOfWork[Repositories]], senders: Senders, settings: NotifySettings, now: datetime
) -> int:
    """Sends every notification due at ``now``; returns how many were processed.

    ``sender_concurrency`` claims run side by side (each claim is atomic, so no two take the same
    message); a message put back for later is due after ``now``, so each loop ends. One unit of work
    per message.
    """
    lease = timedelta(seconds=settings.sending_lease_seconds)
    health = await new_uow().repos.provider_health.states()
    processed = 0

    async def loop() -> None:
        nonlocal health, processed
        while True:
            uow = new_uow()
            claimed = await uow.repos.notifications.claim_due(now, lease)
            if claimed is None:
                return
            try:
                outcome = await send_claimed(claimed, uow, senders, settings, now, health)
            except Exception as exc:  # the database failed us mid-way: give it back, not held until the lease ends
                log.warning("send interrupted, the message goes back", notification_id=claimed.id, error=repr(exc))
                await defer(
                    Defer(claimed.id, until=now + timedelta(seconds=1), reason="interrupted", at=now), new_uow()
                )
                return
            processed += 1
            if outcome != "sent":
                health = await uow.repos.provider_health.states()

    await asyncio.gather(*(loop() for _ in range(settings.sender_concurrency)))
    return processed


def sender_worker(senders: Senders, settings: NotifySettings) -> Worker:
    """The background sender: sends what is due, then waits ``sender_poll_seconds``."""

    async def run(rt: ServiceRuntime[Repositories]) -> None:
        last_gauge = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await send_due(rt.uow, senders, settings, datetime.now(UTC))
            except Exception as exc:
                log.warning("sender round failed", error=repr(exc))
            if loop.time() - last_gauge > GAUGE_SECONDS:
                last_gauge = loop.time()
                with contextlib.suppress(Exception):
                    metrics.set_waiting(await rt.uow().repos.notifications.count_deferred(datetime.now(UTC)))
            await asyncio.sleep(settings.sender_poll_seconds)

    return run
