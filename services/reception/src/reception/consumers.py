"""Thin consumers: the kit validates each event into its schema; here each type calls one use case."""

from __future__ import annotations

from typing import Any

from motcua_kit.events import Envelope, PickupHandedOver
from motcua_kit.events.topics import NOTIFY_NOTIFICATIONS, POSTAL_SHIPMENTS, PROCESSING_CASES
from motcua_kit.runtime import ConsumerSpec
from reception.service import Tx, intake, register


def consumer_specs(*, lookup_base_url: str) -> list[ConsumerSpec]:
    def call(use_case: Any) -> Any:
        async def handler(event: Any, uow: Tx, _: Envelope) -> None:
            await use_case(uow, event)

        return handler

    async def on_pickup(event: PickupHandedOver, uow: Tx, _: Envelope) -> None:
        await intake.register_pickup(uow, event, lookup_base_url=lookup_base_url)

    handlers = {cls: call(fn) for cls, fn in register.HANDLERS.items()} | {PickupHandedOver: on_pickup}
    return [ConsumerSpec("register", [PROCESSING_CASES, POSTAL_SHIPMENTS, NOTIFY_NOTIFICATIONS], handlers)]
