"""Outgoing callbacks (SMS receipts, carrier webhooks) and the background tasks behind them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel

from ._http import encode_json, utc_now_iso

logger = logging.getLogger(__name__)

Signer = Callable[[bytes], Mapping[str, str]]
"""Given the exact body bytes, return extra headers (e.g. a signature) for one attempt."""


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard a stand-in tries to deliver a callback before giving up (and logging it)."""

    timeout_seconds: float = 5.0
    attempts: int = 3
    backoff_seconds: float = 0.5


class DeliveryRecord(BaseModel):
    """What happened to one callback; listed by the control endpoints."""

    kind: str
    url: str
    payload: dict[str, Any]
    attempts: int = 0
    delivered: bool = False
    last_status: int | None = None
    last_error: str | None = None
    finished_at: str | None = None


async def _attempt(client: httpx.AsyncClient, record: DeliveryRecord, body: bytes, sign: Signer | None) -> bool:
    headers = {"Content-Type": "application/json", **(sign(body) if sign else {})}
    try:
        response = await client.post(record.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        record.last_error = f"{type(exc).__name__}: {exc}"
        return False
    record.last_status = response.status_code
    if response.is_success:
        record.last_error = None
        return True
    record.last_error = f"HTTP {response.status_code}"
    return False


async def deliver(record: DeliveryRecord, policy: DeliveryPolicy, sign: Signer | None = None) -> bool:
    """POST ``record.payload`` as JSON to ``record.url``; never raises for delivery failures."""
    body = encode_json(record.payload)
    timeout = httpx.Timeout(policy.timeout_seconds)
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
        for attempt in range(1, policy.attempts + 1):
            record.attempts = attempt
            if await _attempt(client, record, body, sign):
                record.delivered = True
                break
            if attempt < policy.attempts:
                await asyncio.sleep(policy.backoff_seconds * attempt)
    record.finished_at = utc_now_iso()
    _log_outcome(record)
    return record.delivered


def _log_outcome(record: DeliveryRecord) -> None:
    fields = {"kind": record.kind, "attempts": record.attempts, "status": record.last_status}
    if record.delivered:
        logger.info("callback delivered", extra={"fields": fields})
    else:
        logger.warning("callback given up", extra={"fields": {**fields, "error": record.last_error}})


class TaskSet:
    """Keeps references to fire-and-forget tasks and cancels them on shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "background task failed", exc_info=task.exception(), extra={"fields": {"task": task.get_name()}}
            )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """While an app runs: its tasks are cancelled when it stops."""
        try:
            yield
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
