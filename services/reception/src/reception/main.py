"""Reception's composition root: nothing connects at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from motcua_kit.logs import configure_logging
from motcua_kit.runtime import ServiceRuntime
from motcua_kit.web import attach_runtime, build_app
from reception import store
from reception.api.routers import ROUTERS
from reception.consumers import consumer_specs
from reception.settings import ReceptionSettings


def create_app(settings: ReceptionSettings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or ReceptionSettings()
        configure_logging("reception", s.log_level)
        async with ServiceRuntime(
            service="reception",
            settings=s,
            repositories=store.Repositories,
            indexes=[*store.INDEXES, *store.CATALOGUE_INDEXES, *store.REPORT_INDEXES],
            consumers=consumer_specs(lookup_base_url=s.lookup_base_url),
        ) as rt:
            attach_runtime(app, rt, s)
            yield

    return build_app(
        title="motcua reception",
        version="0.1.0",
        lifespan=lifespan,
        routers=ROUTERS,
        description="The one-stop counter: intake, the dossier register, the citizen's view.",
    )
