"""Thin consumers: the kit validates each event and opens the transaction (with the inbox); each handler
builds the command from the event and calls one use case."""

from __future__ import annotations

from motcua_kit.events import CalendarChanged, DossierReceived, DossierWithdrawn, Envelope, SupplementReceived
from motcua_kit.events.topics import RECEPTION_CATALOGUE, RECEPTION_DOSSIERS
from motcua_kit.runtime import ConsumerSpec
from motcua_kit.uow import UnitOfWork
from processing.domain.case import ChainLink
from processing.service.cases import (
    KeepCalendar,
    OpenCase,
    ResumeAfterSupplement,
    WithdrawCase,
    keep_calendar,
    open_case,
    resume_after_supplement,
    withdraw_case,
)
from processing.store import Repositories


def open_case_command(event: DossierReceived) -> OpenCase:
    return OpenCase(
        code=event.dossier_code,
        procedure=event.procedure.model_dump(),
        centre_code=event.centre_code,
        centre_name=event.centre_name,
        province_name=event.province_name,
        applicant_name=event.applicant.full_name,
        competent_agency=event.competent_agency,
        chain=[ChainLink(s.agency_code, s.share, s.agency_name) for s in event.agency_chain],
        received_at=event.received_at,
        clock_started_at=event.clock_started_at,
        appointment_at=event.appointment_at,
        limit_working_hours=event.limit_working_hours,
    )


async def on_received(event: DossierReceived, uow: UnitOfWork[Repositories], _: Envelope) -> None:
    await open_case(open_case_command(event), uow)


async def on_supplement(event: SupplementReceived, uow: UnitOfWork[Repositories], _: Envelope) -> None:
    await resume_after_supplement(
        ResumeAfterSupplement(
            code=event.dossier_code,
            received_at=event.received_at,
            received_by=event.received_by,
            paused_working_hours=event.paused_working_hours,
            appointment_at=event.appointment_at,
        ),
        uow,
    )


async def on_withdrawn(event: DossierWithdrawn, uow: UnitOfWork[Repositories], _: Envelope) -> None:
    await withdraw_case(
        WithdrawCase(
            code=event.dossier_code,
            reason=event.reason,
            withdrawn_at=event.withdrawn_at,
            recorded_by=event.recorded_by,
        ),
        uow,
    )


async def on_calendar(event: CalendarChanged, uow: UnitOfWork[Repositories], _: Envelope) -> None:
    await keep_calendar(KeepCalendar(event), uow)


def consumer_specs() -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            "dossiers",
            [RECEPTION_DOSSIERS],
            {DossierReceived: on_received, SupplementReceived: on_supplement, DossierWithdrawn: on_withdrawn},
        ),
        ConsumerSpec("catalogue", [RECEPTION_CATALOGUE], {CalendarChanged: on_calendar}),
    ]
