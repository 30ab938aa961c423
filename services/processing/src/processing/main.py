"""Processing's composition root: nothing connects at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from motcua_kit.logs import configure_logging
from motcua_kit.runtime import ServiceRuntime
from motcua_kit.web import attach_runtime, build_app
from processing import store
from processing.api.routes import router
from processing.consumers import consumer_specs
from processing.settings import ProcessingSettings
from processing.store import Repositories
from processing.workers import clock_loop


def create_app(settings: ProcessingSettings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or ProcessingSettings()
        configure_logging("processing", s.log_level)
        async with ServiceRuntime(
            service="processing",
            settings=s,
            repositories=Repositories,
            indexes=store.INDEXES,
            consumers=consumer_specs(),
            workers={
                "clock": lambda rt: clock_loop(
                    rt, interval_seconds=s.clock_interval_seconds, warn_working_hours=s.warn_working_hours
                )
            },
        ) as rt:
            attach_runtime(app, rt, s)
            yield

    return build_app(
        title="motcua processing",
        version="0.1.0",
        lifespan=lifespan,
        routers=[router],
        description="Agency work queues, inter-agency chains and the legal clock.",
    )
