"""Run all stand-ins in one asyncio process: four uvicorn servers and the SMTP mailbox.

The servers: the SMS gateway, a second (backup) SMS gateway with its own port and
API key (the product's failover provider), the postal carrier and the mailbox's
HTTP API; plus the mailbox's SMTP server, whose bounces can be POSTed to a webhook
(``mail_bounce_webhook_url``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from .carrier import create_carrier_app
from .mailbox import (
    MailboxController,
    MailStore,
    create_mailbox_app,
    start_mailbox_smtp,
)
from .sms_gateway import create_sms_gateway_app

logger = logging.getLogger(__name__)

_STARTUP_TIMEOUT_SECONDS = 10.0


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to whoever runs the event loop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
        0
    ]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


@dataclass
class HttpServerHandle:
    """A running uvicorn server; ``port`` is the real one even when 0 was asked for."""

    name: str
    host: str
    port: int
    server: uvicorn.Server
    task: asyncio.Task[None]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.shield(self.task)


async def _wait_started(server: uvicorn.Server, task: asyncio.Task[None], name: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"{name}: server stopped during startup")
        if loop.time() > deadline:
            server.should_exit = True
            raise TimeoutError(f"{name}: server did not start in {_STARTUP_TIMEOUT_SECONDS} s")
        await asyncio.sleep(0.01)


async def start_http_server(
    app: FastAPI,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    name: str = "http",
    graceful_shutdown_seconds: int = 2,
) -> HttpServerHandle:
    """Serve ``app`` with a uvicorn ``Server`` in the running loop; returns once it accepts connections."""
    sock = _bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=graceful_shutdown_seconds,
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn-{name}")
    try:
        await _wait_started(server, task, name)
    except BaseException:
        sock.close()
        raise
    logger.info("stand-in listening", extra={"fields": {"standin": name, "host": host, "port": bound_port}})
    return HttpServerHandle(name=name, host=host, port=bound_port, server=server, task=task)


SMS_BACKUP_PORT = 8094


@dataclass(frozen=True)
class StandinsConfig:
    """Where and how the stand-ins run; every port may be 0 (a free port).

    ``sms_backup_port`` left at None becomes 8094, or 0 when ``sms_port`` is 0, so
    callers that ask for free ports (tests) never bind a fixed port for the backup.
    """

    host: str = "127.0.0.1"
    sms_port: int = 8091
    carrier_port: int = 8092
    smtp_port: int = 1025
    mailbox_http_port: int = 8093
    sms_api_key: str = "local-sms-key"
    sms_backup_port: int | None = None
    sms_backup_api_key: str = "local-sms-backup-key"
    carrier_api_key: str = "local-carrier-key"
    carrier_webhook_secret: str = "local-webhook-secret"
    mail_dir: Path | str | None = None
    # Where the mailbox POSTs bounce events (None: bounces only produce a DSN mail).
    mail_bounce_webhook_url: str | None = None
    # The carrier's life (see motcua_devstack.standins.carrier). Off here, so tests drive
    # parcels by hand; the CLI (``motcua up``) turns it on with its own defaults.
    carrier_auto_advance: bool = False
    carrier_step_delay_seconds: float = 1.0
    carrier_failure_rate: float = 0.0
    carrier_redelivery_delay_seconds: float = 5.0

    def __post_init__(self) -> None:
        if self.sms_backup_port is None:
            object.__setattr__(self, "sms_backup_port", 0 if self.sms_port == 0 else SMS_BACKUP_PORT)


@dataclass(frozen=True)
class RunningStandins:
    sms: HttpServerHandle
    sms_backup: HttpServerHandle
    carrier: HttpServerHandle
    mailbox_http: HttpServerHandle
    smtp: MailboxController
    mail_store: MailStore

    @property
    def smtp_port(self) -> int:
        return int(self.smtp.port)


async def _start_smtp(stack: contextlib.AsyncExitStack, store: MailStore, host: str, port: int) -> MailboxController:
    controller = await asyncio.to_thread(start_mailbox_smtp, store, host, port)
    stack.push_async_callback(asyncio.to_thread, controller.stop)
    return controller


async def _start_http(
    stack: contextlib.AsyncExitStack, app: FastAPI, host: str, port: int, name: str
) -> HttpServerHandle:
    handle = await start_http_server(app, host, port, name=name)
    stack.push_async_callback(handle.stop)
    return handle


@contextlib.asynccontextmanager
async def open_standins(config: StandinsConfig) -> AsyncIterator[RunningStandins]:
    """Start every stand-in (ports may be 0); stop them all, in reverse order, on exit."""
    store = MailStore(config.mail_dir)
    async with contextlib.AsyncExitStack() as stack:
        smtp = await _start_smtp(stack, store, config.host, config.smtp_port)
        sms_app = create_sms_gateway_app(config.sms_api_key)
        sms_backup_app = create_sms_gateway_app(config.sms_backup_api_key)
        carrier_app = create_carrier_app(
            config.carrier_api_key,
            webhook_secret=config.carrier_webhook_secret,
            auto_advance=config.carrier_auto_advance,
            step_delay_seconds=config.carrier_step_delay_seconds,
            failure_rate=config.carrier_failure_rate,
            redelivery_delay_seconds=config.carrier_redelivery_delay_seconds,
        )
        # The main SMS gateway comes last: once its port answers, everything else does too
        # (the launcher waits on that port).
        carrier = await _start_http(stack, carrier_app, config.host, config.carrier_port, "carrier")
        mailbox_app = create_mailbox_app(store, config.mail_bounce_webhook_url)
        mailbox_http = await _start_http(stack, mailbox_app, config.host, config.mailbox_http_port, "mailbox")
        backup_port = int(config.sms_backup_port or 0)
        sms_backup = await _start_http(stack, sms_backup_app, config.host, backup_port, "sms_gateway_backup")
        sms = await _start_http(stack, sms_app, config.host, config.sms_port, "sms_gateway")
        running = RunningStandins(
            sms=sms,
            sms_backup=sms_backup,
            carrier=carrier,
            mailbox_http=mailbox_http,
            smtp=smtp,
            mail_store=store,
        )
        try:
            yield running
        finally:
            logger.info("stand-ins stopping")


async def serve_standins(
    host: str,
    sms_port: int,
    carrier_port: int,
    smtp_port: int,
    mailbox_http_port: int,
    *,
    sms_api_key: str,
    carrier_api_key: str,
    carrier_webhook_secret: str,
    mail_dir: Path | str | None,
    ready: asyncio.Event | None = None,
    sms_backup_port: int | None = None,
    sms_backup_api_key: str = StandinsConfig.sms_backup_api_key,
    mail_bounce_webhook_url: str | None = None,
    carrier_auto_advance: bool = StandinsConfig.carrier_auto_advance,
    carrier_step_delay_seconds: float = StandinsConfig.carrier_step_delay_seconds,
    carrier_failure_rate: float = StandinsConfig.carrier_failure_rate,
    carrier_redelivery_delay_seconds: float = StandinsConfig.carrier_redelivery_delay_seconds,
) -> None:
    """Run the stand-ins until this coroutine is cancelled, then shut everything down cleanly.

    ``ready`` (optional) is set once every server accepts connections. ``sms_backup_port``
    None is 8094 (0 when ``sms_port`` is 0). The ``carrier_*`` options set the carrier's
    life (see :class:`StandinsConfig`).
    """
    config = StandinsConfig(
        host=host,
        sms_port=sms_port,
        carrier_port=carrier_port,
        smtp_port=smtp_port,
        mailbox_http_port=mailbox_http_port,
        sms_api_key=sms_api_key,
        sms_backup_port=sms_backup_port,
        sms_backup_api_key=sms_backup_api_key,
        carrier_api_key=carrier_api_key,
        carrier_webhook_secret=carrier_webhook_secret,
        mail_dir=mail_dir,
        mail_bounce_webhook_url=mail_bounce_webhook_url,
        carrier_auto_advance=carrier_auto_advance,
        carrier_step_delay_seconds=carrier_step_delay_seconds,
        carrier_failure_rate=carrier_failure_rate,
        carrier_redelivery_delay_seconds=carrier_redelivery_delay_seconds,
    )
    async with open_standins(config) as running:
        endpoints = {
            "sms_gateway": running.sms.url,
            "sms_gateway_backup": running.sms_backup.url,
            "carrier": running.carrier.url,
            "mailbox_http": running.mailbox_http.url,
            "smtp": f"{host}:{running.smtp_port}",
        }
        logger.info("stand-ins ready", extra={"fields": {"endpoints": endpoints}})
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
