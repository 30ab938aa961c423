"""Thin consumers: validate (done by the kit), then call one use case."""

from __future__ import annotations

from motcua_kit.events import DossierReceived, Envelope
from motcua_kit.events.topics import RECEPTION_DOSSIERS
from motcua_kit.outbox import Tx
from motcua_kit.runtime import ConsumerSpec
from postal import service


async def on_received(event: DossierReceived, tx: Tx, _: Envelope) -> None:
    await service.plan_result_delivery(tx, event)


def consumer_specs() -> list[ConsumerSpec]:
    return [ConsumerSpec("dossiers", [RECEPTION_DOSSIERS], {DossierReceived: on_received})]
