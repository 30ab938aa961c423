"""Fault injection and rate limiting for the HTTP stand-ins' business endpoints."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from ._http import StandinError

FaultMode = Literal["none", "error_500", "throttle_429", "timeout"]

RETRY_AFTER_SECONDS = 1

logger = logging.getLogger(__name__)


class FaultSettings(BaseModel):
    """Body of ``POST /_control/faults``; ``count`` null means "until changed"."""

    model_config = ConfigDict(extra="forbid")

    mode: FaultMode
    count: int | None = Field(default=None, ge=1)


class FaultState(BaseModel):
    mode: FaultMode
    remaining: int | None


class RateLimitSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_per_second: int | None = Field(default=None, ge=1)


def throttled_error(message: str) -> StandinError:
    return StandinError(429, "rate_limited", message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class FaultInjector:
    """Makes the next ``count`` business requests fail (or hang) on purpose.

    ``timeout`` mode models a slow server: it sleeps ``delay_seconds`` and then
    handles the request normally, so a client that gave up does not know
    whether its request went through.
    """

    def __init__(self, service: str, delay_seconds: float = 30.0) -> None:
        self._service = service
        self._delay_seconds = delay_seconds
        self._mode: FaultMode = "none"
        self._remaining: int | None = None

    def configure(self, settings: FaultSettings) -> FaultState:
        self._mode = settings.mode
        self._remaining = None if settings.mode == "none" else settings.count
        logger.info("faults configured", extra={"fields": {"service": self._service, **self.state().model_dump()}})
        return self.state()

    def state(self) -> FaultState:
        return FaultState(mode=self._mode, remaining=self._remaining)

    def _take(self) -> FaultMode:
        mode = self._mode
        if mode == "none" or self._remaining is None:
            return mode
        self._remaining -= 1
        if self._remaining <= 0:
            self._mode, self._remaining = "none", None
        return mode

    async def apply(self) -> None:
        """FastAPI dependency: raise or sleep according to the current fault."""
        mode = self._take()
        if mode == "none":
            return
        logger.info("injecting fault", extra={"fields": {"service": self._service, "mode": mode}})
        if mode == "error_500":
            raise StandinError(500, "internal_error", "injected fault: error_500")
        if mode == "throttle_429":
            raise throttled_error("injected fault: throttle_429")
        await asyncio.sleep(self._delay_seconds)


class RateLimiter:
    """Sliding one-second window; ``max_per_second=None`` means unlimited."""

    def __init__(self, max_per_second: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_per_second = max_per_second
        self._clock = clock
        self._accepted: deque[float] = deque()

    def allow(self) -> bool:
        if self.max_per_second is None:
            return True
        now = self._clock()
        while self._accepted and self._accepted[0] <= now - 1.0:
            self._accepted.popleft()
        if len(self._accepted) >= self.max_per_second:
            return False
        self._accepted.append(now)
        return True

    async def check(self) -> None:
        """FastAPI dependency: 429 + ``Retry-After`` when over the limit."""
        if not self.allow():
            raise throttled_error(f"more than {self.max_per_second} requests per second")


def fault_control_router(injector: FaultInjector) -> APIRouter:
    router = APIRouter(prefix="/_control")

    @router.get("/faults")
    async def get_faults() -> FaultState:
        return injector.state()

    @router.post("/faults")
    async def set_faults(settings: FaultSettings) -> FaultState:
        return injector.configure(settings)

    return router


def rate_limit_control_router(limiter: RateLimiter) -> APIRouter:
    router = APIRouter(prefix="/_control")

    @router.get("/rate-limit")
    async def get_rate_limit() -> RateLimitSettings:
        return RateLimitSettings(max_per_second=limiter.max_per_second)

    @router.post("/rate-limit")
    async def set_rate_limit(settings: RateLimitSettings) -> RateLimitSettings:
        limiter.max_per_second = settings.max_per_second
        return settings

    return router
