"""Thin consumers: the kit validates each event; here each type calls one use case."""

from __future__ import annotations

from motcua_kit.events import (
    CalendarChanged,
    CentreChanged,
    DossierReceived,
    DossierResolved,
    Envelope,
    ProcedureChanged,
)
from motcua_kit.events.topics import PROCESSING_CASES, RECEPTION_CATALOGUE, RECEPTION_DOSSIERS
from motcua_kit.runtime import ConsumerSpec
from postal.service import catalogue, deliveries
from postal.service.common import Rules
from postal.store import UoW


def consumer_specs(rules: Rules) -> list[ConsumerSpec]:
    async def on_received(event: DossierReceived, uow: UoW, _: Envelope) -> None:
        await deliveries.plan(uow, event, rules)

    async def on_resolved(event: DossierResolved, uow: UoW, _: Envelope) -> None:
        await deliveries.on_resolved(uow, event)

    async def on_centre(event: CentreChanged, uow: UoW, _: Envelope) -> None:
        await catalogue.save_centre(uow, event)

    async def on_procedure(event: ProcedureChanged, uow: UoW, _: Envelope) -> None:
        await catalogue.save_procedure(uow, event)

    async def on_calendar(event: CalendarChanged, uow: UoW, _: Envelope) -> None:
        await catalogue.save_calendar(uow, event)

    return [
        ConsumerSpec(
            "dossiers",
            [RECEPTION_DOSSIERS, PROCESSING_CASES],
            {DossierReceived: on_received, DossierResolved: on_resolved},
        ),
        ConsumerSpec(
            "catalogue",
            [RECEPTION_CATALOGUE],
            {CentreChanged: on_centre, ProcedureChanged: on_procedure, CalendarChanged: on_calendar},
        ),
    ]
