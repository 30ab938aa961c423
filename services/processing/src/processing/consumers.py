"""Thin consumers: validate (done by the kit), then call one use case."""

from __future__ import annotations

from motcua_kit.events import DossierReceived, Envelope
from motcua_kit.events.topics import RECEPTION_DOSSIERS
from motcua_kit.outbox import Tx
from motcua_kit.runtime import ConsumerSpec
from motcua_worktime import WorkCalendar
from processing import service


def consumer_specs(calendar: WorkCalendar) -> list[ConsumerSpec]:
    async def on_received(event: DossierReceived, tx: Tx, _: Envelope) -> None:
        await service.open_case(tx, event, calendar)

    return [ConsumerSpec("dossiers", [RECEPTION_DOSSIERS], {DossierReceived: on_received})]
