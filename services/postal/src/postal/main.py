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
from postal.clients.carrier import Carrier, VNPostCarrier
from postal.consumers import consumer_specs
from postal.service.common import Rules
from postal.settings import PostalSettings
from postal.workers import workers


def build_carrier(s: PostalSettings) -> VNPostCarrier:
    c = s.carrier
    return VNPostCarrier(
        code=c.code,
        base_url=c.url,
        api_key=c.api_key,
        timeout_seconds=c.timeout_seconds,
        attempts=c.call_attempts,
        backoff_initial_seconds=c.call_backoff_initial_seconds,
        backoff_max_seconds=c.call_backoff_max_seconds,
    )


def create_app(settings: PostalSettings | None = None, *, carrier: Carrier | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or PostalSettings()
        configure_logging("postal", s.log_level)
        owned = build_carrier(s) if carrier is None else None
        client: Carrier = carrier or owned  # type: ignore[assignment]
        try:
            async with ServiceRuntime(
                service="postal",
                settings=s,
                repositories=store.Repositories,
                indexes=store.INDEXES,
                consumers=consumer_specs(Rules.from_settings(s)),
                workers=workers(client, s),
            ) as rt:
                attach_runtime(app, rt, s)
                app.state.carrier = client
                app.state.rules = Rules.from_settings(s)
                yield
        finally:
            if owned is not None:
                await owned.aclose()

    return build_app(
        title="motcua postal",
        version="0.1.0",
        lifespan=lifespan,
        routers=[router],
        description="Home collection of dossiers and delivery of results by the public postal service.",
    )
