"""Notify's composition root: the FastAPI app, its runtime, clients and background sender."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI

from motcua_kit.logs import configure_logging, get_logger
from motcua_kit.runtime import ServiceRuntime, Worker
from motcua_kit.web import attach_runtime, build_app
from notify import metrics, sending, store
from notify.api.callbacks import router as callbacks_router
from notify.api.preferences import router as preferences_router
from notify.api.routes import router
from notify.clients.email import SmtpEmailClient
from notify.clients.sms import SmsGatewayClient
from notify.consumers import consumer_specs
from notify.settings import NotifySettings

log = get_logger(__name__)


def sender_worker(senders: sending.Senders, settings: NotifySettings) -> Worker:
    """The background sender: sends what is due, then waits ``sender_poll_seconds``."""

    async def run(rt: ServiceRuntime) -> None:
        last_gauge = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await sending.send_due(rt.db, rt.uow, senders, settings, datetime.now(UTC))
            except Exception as exc:
                log.warning("sender round failed", error=repr(exc))
            if loop.time() - last_gauge > 5:
                last_gauge = loop.time()
                with contextlib.suppress(Exception):
                    metrics.set_waiting(await store.count_deferred(rt.db, datetime.now(UTC)))
            await asyncio.sleep(settings.sender_poll_seconds)

    return run


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    s = settings or NotifySettings()  # type: ignore[call-arg]  # read from NOTIFY_... variables

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("notify", s.log_level)
        sms, email = SmsGatewayClient(s.sms), SmtpEmailClient(s.smtp)
        backup = SmsGatewayClient(s.sms_backup) if s.sms_backup else None
        senders = sending.Senders(sms=sms, email=email, sms_backup=backup)
        try:
            runtime = ServiceRuntime(
                service="notify",
                settings=s,
                indexes=store.INDEXES,
                consumers=consumer_specs(s.tz),
                workers={"sender": sender_worker(senders, s)},
            )
            async with runtime as rt:
                attach_runtime(app, rt, s)
                yield
        finally:
            for client in (sms, backup, email):
                if client is not None:
                    await client.aclose()

    return build_app(
        title="motcua notify",
        version="0.1.0",
        lifespan=lifespan,
        routers=[router, callbacks_router, preferences_router],
        description="Tells citizens by SMS and e-mail what happens to their dossiers.",
    )
