"""What a counter officer does with a dossier already registered: decide on a submitted one,
ask for or record a supplement, refuse, record a withdrawal, hand back the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from motcua_kit.auth import Principal
from motcua_kit.errors import Invalid, NotFound
from motcua_kit.events import DossierReceived
from motcua_kit.events.base import Event
from motcua_kit.uow import use_case
from motcua_worktime import WorkCalendar
from reception import metrics
from reception.domain.dossier import AppointmentError, Dossier, DossierRuleError, SubmittedDocument
from reception.service import UoW, as_app_error


@dataclass(frozen=True)
class AcceptSubmitted:
    """An officer accepts a dossier submitted online or brought by the post."""

    officer: Principal
    code: str
    now: datetime | None = None


@dataclass(frozen=True)
class RequestSupplement:
    officer: Principal
    code: str
    reasons: tuple[str, ...]
    now: datetime | None = None


@dataclass(frozen=True)
class ReceiveSupplement:
    officer: Principal
    code: str
    documents: tuple[SubmittedDocument, ...]
    note: str | None = None
    now: datetime | None = None


@dataclass(frozen=True)
class Refuse:
    officer: Principal
    code: str
    reasons: tuple[str, ...]
    now: datetime | None = None


@dataclass(frozen=True)
class Withdraw:
    officer: Principal
    code: str
    reason: str
    now: datetime | None = None


@dataclass(frozen=True)
class ReturnResult:
    officer: Principal
    code: str
    recipient_name: str | None = None
    note: str | None = None
    now: datetime | None = None


Change = Callable[[Dossier, WorkCalendar], list[Event]]
Count = Callable[[Dossier, list[Event]], None]


async def _act(uow: UoW, officer: Principal, code: str, change: Change, count: Count | None = None) -> Dossier:
    """Loads the officer's dossier in a transaction, applies the domain's transition, saves, publishes."""
    async with uow:
        dossier = await uow.repos.dossiers.get(code)
        if dossier is None or not (
            dossier.may_be_seen_by(officer.role.value, officer.scope) and officer.role.value == "counter_officer"
        ):
            raise NotFound(f"no dossier {code} in your centre")
        calendar = await uow.repos.calendar.work_calendar()
        try:
            events = change(dossier, calendar)
        except AppointmentError as exc:
            metrics.record_appointment_error()
            raise Invalid(str(exc), code=exc.code) from exc
        except DossierRuleError as exc:
            raise as_app_error(exc) from exc
        uow.publish(*events)
        await uow.repos.dossiers.save(dossier)
        if count is not None:
            uow.after_commit(lambda: count(dossier, events))
        await uow.commit()
    return dossier


def _at(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


@use_case
async def accept_submitted(cmd: AcceptSubmitted, uow: UoW) -> Dossier:
    """An officer accepts a dossier submitted online or brought by the post: the clock starts now
    (for the post: at the signed hand-over, already recorded as ``submitted_at``)."""
    at = _at(cmd.now)
    return await _act(
        uow,
        cmd.officer,
        cmd.code,
        lambda d, calendar: d.accept(at=at, by=cmd.officer.subject, calendar=calendar),
        lambda d, _: metrics.record_received(d.intake_channel, d.centre_code),
    )


@use_case
async def request_supplement(cmd: RequestSupplement, uow: UoW) -> Dossier:
    """Mẫu 02. Before receipt there is no clock; after it, the clock pauses until the supplement."""
    at = _at(cmd.now)
    return await _act(
        uow,
        cmd.officer,
        cmd.code,
        lambda d, _: d.request_supplement(list(cmd.reasons), at=at, by=cmd.officer.subject),
        lambda d, _: metrics.record_supplement(d.centre_code),
    )


@use_case
async def receive_supplement(cmd: ReceiveSupplement, uow: UoW) -> Dossier:
    """The citizen brings the papers. With the clock paused, it resumes and the appointment moves by
    the paused working time; before receipt, a now complete dossier is received."""
    at = _at(cmd.now)

    def change(d: Dossier, calendar: WorkCalendar) -> list[Event]:
        return d.receive_supplement(
            list(cmd.documents), note=cmd.note, at=at, by=cmd.officer.subject, calendar=calendar
        )

    def count(d: Dossier, events: list[Event]) -> None:
        if any(isinstance(e, DossierReceived) for e in events):  # complete at last: received now
            metrics.record_received(d.intake_channel, d.centre_code)

    return await _act(uow, cmd.officer, cmd.code, change, count)


@use_case
async def refuse(cmd: Refuse, uow: UoW) -> Dossier:
    """Mẫu 03: a dossier not yet received is refused, with the specific reasons."""
    at = _at(cmd.now)
    return await _act(
        uow,
        cmd.officer,
        cmd.code,
        lambda d, _: d.refuse(list(cmd.reasons), at=at, by=cmd.officer.subject),
        lambda d, _: metrics.record_dossier_refused(d.centre_code),
    )


@use_case
async def withdraw(cmd: Withdraw, uow: UoW) -> Dossier:
    """The citizen asks to withdraw the dossier (status 7); processing stops its case on the event."""
    at = _at(cmd.now)
    return await _act(uow, cmd.officer, cmd.code, lambda d, _: d.withdraw(cmd.reason, at=at, by=cmd.officer.subject))


@use_case
async def return_result(cmd: ReturnResult, uow: UoW) -> Dossier:
    """The result handed over at the counter (status 10)."""
    at = _at(cmd.now)
    return await _act(
        uow,
        cmd.officer,
        cmd.code,
        lambda d, _: d.return_at_counter(
            recipient_name=cmd.recipient_name, note=cmd.note, at=at, by=cmd.officer.subject
        ),
        lambda d, _: metrics.record_returned("counter"),
    )
