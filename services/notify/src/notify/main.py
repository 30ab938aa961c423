"""Notify's composition root: the FastAPI app, its runtime (repositories, consumer, sender worker) and clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from motcua_kit.logs import configure_logging, get_logger
from motcua_kit.runtime import ServiceRuntime
from motcua_kit.web import attach_runtime, build_app
from notify import store, workers
from notify.api.callbacks import router as callbacks_router
from notify.api.preferences import router as preferences_router
from notify.api.routes import router
from notify.clients.email import SmtpEmailClient
from notify.clients.sms import SmsGatewayClient
from notify.consumers import consumer_specs
from notify.service.sending import Senders
from notify.settings import NotifySettings

log = get_logger(__name__)


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    s = settings or NotifySettings()  # read from NOTIFY_... variables

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("notify", s.log_level)
        sms, email = SmsGatewayClient(s.sms), SmtpEmailClient(s.smtp)
        backup = SmsGatewayClient(s.sms_backup) if s.sms_backup else None
        senders = Senders(sms=sms, email=email, sms_backup=backup)
        try:
            runtime = ServiceRuntime(
                service="notify",
                settings=s,
                repositories=store.Repositories,
                indexes=store.INDEXES,
                consumers=consumer_specs(s.tz),
                workers={"sender": workers.sender_worker(senders, s)},
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
