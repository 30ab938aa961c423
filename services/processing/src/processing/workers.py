"""Processing's background loops (the runtime supervises them): the legal clock."""

from __future__ import annotations

import asyncio

from motcua_kit.logs import get_logger
from motcua_kit.runtime import ServiceRuntime
from processing.service.clock import ScanDeadlines, refresh_step_gauges, scan_deadlines
from processing.store import Repositories

log = get_logger(__name__)


async def clock_loop(rt: ServiceRuntime[Repositories], *, interval_seconds: float, warn_working_hours: float) -> None:
    """Scans the deadlines every ``interval_seconds`` in every replica (each alert is published once)."""
    while True:
        try:
            published = await scan_deadlines(ScanDeadlines(warn_working_hours=warn_working_hours), rt.uow())
            if published:
                log.info("deadline alerts published", count=published)
            await refresh_step_gauges(rt.uow())
        except Exception as exc:  # the next scan tries again
            log.warning("deadline scan failed", error=repr(exc))
        await asyncio.sleep(interval_seconds)
