"""Reception's use cases, one module per area."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from motcua_kit.uow import UnitOfWork, retry_transient
from reception.store import Repositories

T = TypeVar("T")
Tx = UnitOfWork[Repositories]


async def transaction(uow: Tx, work: Callable[[Tx], Awaitable[T]]) -> T:
    """Runs ``work`` in one transaction of ``uow`` (joining an open one), again on transient conflicts."""

    async def attempt() -> T:
        async with uow:
            result = await work(uow)
            await uow.commit()
        return result

    return await retry_transient(attempt, uow)
