"""Postal's composition root: nothing connects at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from motcua_kit.logs import configure_logging
from motcua_kit.runtime import ServiceRuntime
from motcua_kit.web import attach_runtime, build_app
from postal import store
from postal.api.routes import router
from postal.consumers import consumer_specs
from postal.settings import PostalSettings


def create_app(settings: PostalSettings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or PostalSettings()
        configure_logging("postal", s.log_level)
        async with ServiceRuntime(
            service="postal", settings=s, indexes=store.INDEXES, consumers=consumer_specs()
        ) as rt:
            attach_runtime(app, rt, s)
            yield

    return build_app(
        title="motcua postal",
        version="0.1.0",
        lifespan=lifespan,
        routers=[router],
        description="Home collection of dossiers and delivery of results by the public postal service.",
    )
