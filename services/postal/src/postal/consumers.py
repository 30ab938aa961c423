"""Thin consumers: the kit validates each event and opens the transaction (with the inbox); here each
type becomes a command for one use case."""

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
from postal.domain.catalogue import Centre, Procedure
from postal.service import catalogue, deliveries
from postal.service.common import Rules
from postal.store import UoW


def consumer_specs(rules: Rules) -> list[ConsumerSpec]:
    async def on_received(event: DossierReceived, uow: UoW, _: Envelope) -> None:
        command = deliveries.PlanDelivery(
            dossier_code=event.dossier_code,
            centre_code=event.centre_code,
            return_channel=event.return_channel,
            recipient_name=event.applicant.full_name,
            recipient_phone=event.applicant.phone,
            address_text=event.delivery_address or event.applicant.address or "",
            appointment_at=event.appointment_at,
        )
        await deliveries.plan(command, uow, rules=rules)

    async def on_resolved(event: DossierResolved, uow: UoW, _: Envelope) -> None:
        await deliveries.record_resolution(deliveries.RecordResolution(event.dossier_code, event.resolved_at), uow)

    async def on_centre(event: CentreChanged, uow: UoW, _: Envelope) -> None:
        await catalogue.save_centre(Centre.of(event), uow)

    async def on_procedure(event: ProcedureChanged, uow: UoW, _: Envelope) -> None:
        await catalogue.save_procedure(Procedure.of(event), uow)

    async def on_calendar(event: CalendarChanged, uow: UoW, _: Envelope) -> None:
        await catalogue.save_calendar(event, uow)

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
