"""Notify's composition root: the FastAPI app, its runtime, clients and background sender."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI

from motcua_kit.logs import configure_logging, get_logger
from motcua_kit.runtime import ServiceRuntime, Worker
from motcua_kit.web import attach_runtime, build_app
from notify import service, store
from notify.api.routes import router
from notify.clients.email import SmtpEmailClient
from notify.clients.sms import SmsGatewayClient
from notify.consumers import consumer_specs
from notify.settings import NotifySettings

log = get_logger(__name__)


def sender_worker(sms: SmsGatewayClient, email: SmtpEmailClient, settings: NotifySettings) -> Worker:
    """The background sender: sends what is due, then waits ``sender_poll_seconds``."""

    async def run(rt: ServiceRuntime) -> None:
        while True:
            try:
                await service.send_due(rt.db, rt.uow, sms, email, settings, datetime.now(UTC))
            except Exception as exc:
                log.warning("sender round failed", error=repr(exc))
            await asyncio.sleep(settings.sender_poll_seconds)

    return run


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    s = settings or NotifySettings()  # type: ignore[call-arg]  # read from NOTIFY_... variables

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("notify", s.log_level)
        sms, email = SmsGatewayClient(s.sms), SmtpEmailClient(s.smtp)
        try:
            runtime = ServiceRuntime(
                service="notify",
                settings=s,
                indexes=store.INDEXES,
                consumers=consumer_specs(s.tz),
                workers={"sender": sender_worker(sms, email, s)},
            )
            async with runtime as rt:
                attach_runtime(app, rt, s)
                yield
        finally:
            await sms.aclose()
            await email.aclose()

    return build_app(
        title="motcua notify",
        version="0.1.0",
        lifespan=lifespan,
        routers=[router],
        description="Tells citizens by SMS and e-mail what happens to their dossiers.",
    )
