"""Thin consumers: the kit validates each event; each type calls one use case."""

from __future__ import annotations

from typing import Any

from motcua_kit.events import CalendarChanged, DossierReceived, DossierWithdrawn, Envelope, SupplementReceived
from motcua_kit.events.topics import RECEPTION_CATALOGUE, RECEPTION_DOSSIERS
from motcua_kit.runtime import ConsumerSpec
from motcua_kit.uow import MongoUnitOfWork
from processing import service

Tx = MongoUnitOfWork[Any]


async def on_received(event: DossierReceived, tx: Tx, _: Envelope) -> None:
    await service.open_case(tx, event)


async def on_supplement(event: SupplementReceived, tx: Tx, _: Envelope) -> None:
    await service.resume_after_supplement(tx, event)


async def on_withdrawn(event: DossierWithdrawn, tx: Tx, _: Envelope) -> None:
    await service.withdraw(tx, event)


async def on_calendar(event: CalendarChanged, tx: Tx, _: Envelope) -> None:
    await service.save_calendar(tx, event)


def consumer_specs() -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            "dossiers",
            [RECEPTION_DOSSIERS],
            {DossierReceived: on_received, SupplementReceived: on_supplement, DossierWithdrawn: on_withdrawn},
        ),
        ConsumerSpec("catalogue", [RECEPTION_CATALOGUE], {CalendarChanged: on_calendar}),
    ]
