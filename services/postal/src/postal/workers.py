"""Postal's background loops: carrier calls, and the scan for silent and late shipments. Each round
works on a new unit of work (``rt.uow()``); the runtime restarts a loop that crashed."""

from __future__ import annotations

import asyncio
import contextlib

from motcua_kit.logs import get_logger
from motcua_kit.runtime import ServiceRuntime, Worker
from postal.clients.carrier import Carrier
from postal.service import commands, tracking
from postal.service.common import Rules
from postal.settings import PostalSettings
from postal.store import Repositories

log = get_logger(__name__)


def workers(carrier: Carrier, settings: PostalSettings) -> dict[str, Worker]:
    rules = Rules.from_settings(settings)

    async def carrier_calls(rt: ServiceRuntime[Repositories]) -> None:
        while True:
            done = await commands.run_due(rt.uow(), carrier, settings)
            if not done:
                await asyncio.sleep(settings.command_poll_seconds)

    async def tracking_scan(rt: ServiceRuntime[Repositories]) -> None:
        while True:
            await tracking.poll_silent(rt.uow(), carrier, rules, silence_seconds=settings.silence_seconds)
            await tracking.flag_late(rt.uow(), rules)
            with contextlib.suppress(Exception):
                await tracking.refresh_gauges(rt.uow())
            await asyncio.sleep(settings.tracking_scan_seconds)

    return {"carrier-calls": carrier_calls, "tracking-scan": tracking_scan}
