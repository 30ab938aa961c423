"""What a counter officer does with a dossier already registered: decide on a submitted one,
ask for or record a supplement, refuse, record a withdrawal, hand back the result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from motcua_kit.auth import Principal
from motcua_kit.errors import Conflict, Invalid, NotFound
from motcua_kit.events import (
    DossierRefused,
    DossierWithdrawn,
    ResultReturned,
    SupplementReceived,
    SupplementRequested,
)
from motcua_kit.mongo import Document
from motcua_worktime import WorkCalendar
from reception import metrics, store
from reception.api.schemas import DocumentIn
from reception.domain.catalogue import Procedure
from reception.domain.dossier import (
    Status,
    SubmittedDocument,
    TransitionRefused,
    check_action,
    pause_hours,
)
from reception.service import Tx, transaction
from reception.service.intake import Actor, add_history, apply_receipt, load_calendar, may_view, received_event, recheck

Change = Callable[[Tx, Document], Awaitable[Any]]


async def _act(uow: Tx, officer: Principal, code: str, action: str, change: Change) -> Document:
    """Loads the officer's dossier in a transaction, checks the action, applies ``change``, saves."""

    async def work(tx: Tx) -> Document:
        dossier = await tx.repos.db[store.DOSSIERS].find_one({"_id": code}, session=tx.repos.session)
        if dossier is None or not (may_view(officer, dossier) and officer.role.value == "counter_officer"):
            raise NotFound(f"no dossier {code} in your centre")
        try:
            check_action(action, dossier["status"], clock_running=dossier.get("received_at") is not None)
        except TransitionRefused as exc:
            raise Conflict(str(exc), code="illegal_transition") from exc
        await change(tx, dossier)
        await tx.repos.db[store.DOSSIERS].replace_one({"_id": code}, dossier, session=tx.repos.session)
        return dossier

    return await transaction(uow, work)


async def receive_submitted(uow: Tx, *, officer: Principal, code: str, now: datetime | None = None) -> Document:
    """An officer accepts a dossier submitted online or brought by the post: the clock starts now
    (for the post: at the signed hand-over, already recorded as ``submitted_at``)."""
    calendar = await load_calendar(uow.repos.db)

    async def change(tx: Tx, dossier: Document) -> None:
        problems = recheck(dossier, _documents(dossier["documents"]))
        if problems:
            raise Invalid("the dossier cannot be received as it is", code="missing_documents", details=problems)
        at = dossier["submitted_at"] if dossier["intake_channel"] == 3 else (now or datetime.now(UTC))
        procedure = Procedure.model_validate(dossier["procedure_snapshot"])
        apply_receipt(dossier, procedure, calendar, at, Actor(officer.subject, officer.name, dossier["intake_channel"]))
        dossier["received_by"] = officer.subject
        tx.publish(received_event(dossier))
        metrics.record_received(dossier["intake_channel"], dossier["centre_code"])

    return await _act(uow, officer, code, "receive", change)


async def request_supplement(
    uow: Tx, *, officer: Principal, code: str, reasons: list[str], now: datetime | None = None
) -> Document:
    """Mẫu 02. Before receipt there is no clock; after it, the clock pauses until the supplement."""
    at = now or datetime.now(UTC)

    async def change(tx: Tx, dossier: Document) -> None:
        running = dossier["received_at"] is not None
        dossier["supplement_requests"].append(
            {
                "requested_at": at,
                "requested_by": officer.subject,
                "origin": "counter",
                "agency_code": None,
                "position": None,
                "reasons": reasons,
                "clock_running": running,
                "resumed_at": None,
            }
        )
        if running:
            dossier["paused_at"] = at
        add_history(
            dossier, Status.SUPPLEMENT_REQUESTED, at, officer.subject, dossier["centre_code"], "; ".join(reasons)
        )
        tx.publish(
            SupplementRequested(
                dossier_code=code, reasons=reasons, requested_at=at, requested_by=officer.subject, clock_paused=running
            )
        )
        metrics.record_supplement(dossier["centre_code"])

    return await _act(uow, officer, code, "request_supplement", change)


async def receive_supplement(
    uow: Tx,
    *,
    officer: Principal,
    code: str,
    documents: list[DocumentIn],
    note: str | None,
    now: datetime | None = None,
) -> Document:
    """The citizen brings the papers. With the clock paused, it resumes and the appointment moves by
    the paused working time; before receipt, a now complete dossier is received."""
    calendar = await load_calendar(uow.repos.db)
    at = now or datetime.now(UTC)

    async def change(tx: Tx, dossier: Document) -> None:
        dossier["documents"] = _merge(dossier["documents"], documents)
        request = dossier["supplement_requests"][-1]
        request["resumed_at"] = at
        if dossier["received_at"] is None:
            problems = recheck(dossier, _documents(dossier["documents"]))
            if problems:
                raise Invalid(
                    "the supplement still leaves the dossier incomplete", code="missing_documents", details=problems
                )
            add_history(
                dossier,
                Status.SUPPLEMENT_REQUESTED,
                at,
                officer.subject,
                dossier["centre_code"],
                note or "Công dân đã bổ sung hồ sơ",
            )
            procedure = Procedure.model_validate(dossier["procedure_snapshot"])
            apply_receipt(
                dossier, procedure, calendar, at, Actor(officer.subject, officer.name, dossier["intake_channel"])
            )
            tx.publish(_supplement_event(dossier, officer, at, None, 0.0, request))
            tx.publish(received_event(dossier))
            metrics.record_received(dossier["intake_channel"], dossier["centre_code"])
            return
        paused_at = dossier["paused_at"] or request["requested_at"]
        paused = pause_hours(calendar, paused_at, at)
        dossier["appointment_at"] = calendar.extend_for_pause(dossier["appointment_at"], paused_at, at).astimezone(UTC)
        dossier["paused_working_hours"] = dossier.get("paused_working_hours", 0.0) + paused
        dossier["paused_at"] = None
        back = (
            Status.PROCESSING if any(h["status"] == Status.PROCESSING for h in dossier["history"]) else Status.RECEIVED
        )
        add_history(
            dossier,
            back,
            at,
            officer.subject,
            dossier["centre_code"],
            note or f"Công dân đã bổ sung hồ sơ; ngày hẹn trả mới {_local(dossier['appointment_at'], calendar)}",
        )
        tx.publish(_supplement_event(dossier, officer, at, paused_at, paused, request))

    return await _act(uow, officer, code, "receive_supplement", change)


def _supplement_event(
    dossier: Document,
    officer: Principal,
    at: datetime,
    paused_at: datetime | None,
    paused: float,
    request: dict[str, Any],
) -> SupplementReceived:
    return SupplementReceived(
        dossier_code=dossier["_id"],
        received_at=at,
        paused_at=paused_at,
        paused_working_hours=round(paused, 4),
        appointment_at=dossier["appointment_at"],
        step_position=request.get("position"),
        received_by=officer.subject,
    )


async def refuse(
    uow: Tx, *, officer: Principal, code: str, reasons: list[str], now: datetime | None = None
) -> Document:
    """Mẫu 03: a dossier not yet received is refused, with the specific reasons."""
    at = now or datetime.now(UTC)

    async def change(tx: Tx, dossier: Document) -> None:
        dossier.update(refusal_reasons=reasons, refused_at=at)
        add_history(dossier, Status.REFUSED, at, officer.subject, dossier["centre_code"], "; ".join(reasons))
        tx.publish(DossierRefused(dossier_code=code, reasons=reasons, refused_at=at, refused_by=officer.subject))
        metrics.record_dossier_refused(dossier["centre_code"])

    return await _act(uow, officer, code, "refuse", change)


async def withdraw(uow: Tx, *, officer: Principal, code: str, reason: str, now: datetime | None = None) -> Document:
    """The citizen asks to withdraw the dossier (status 7); processing stops its case on the event."""
    at = now or datetime.now(UTC)

    async def change(tx: Tx, dossier: Document) -> None:
        dossier["withdrawn_at"] = at
        add_history(dossier, Status.WITHDRAWN, at, officer.subject, dossier["centre_code"], reason)
        tx.publish(DossierWithdrawn(dossier_code=code, reason=reason, withdrawn_at=at, recorded_by=officer.subject))

    return await _act(uow, officer, code, "withdraw", change)


async def return_result(
    uow: Tx,
    *,
    officer: Principal,
    code: str,
    recipient_name: str | None,
    note: str | None,
    now: datetime | None = None,
) -> Document:
    """The result handed over at the counter (status 10)."""
    at = now or datetime.now(UTC)

    async def change(tx: Tx, dossier: Document) -> None:
        dossier["returned_at"] = at
        who = f"Trả kết quả tại quầy cho {recipient_name}" if recipient_name else "Trả kết quả tại quầy"
        add_history(
            dossier, Status.RETURNED, at, officer.subject, dossier["centre_code"], f"{who}. {note}" if note else who
        )
        tx.publish(ResultReturned(dossier_code=code, returned_at=at, channel="counter", recorded_by=officer.subject))
        metrics.record_returned("counter")

    return await _act(uow, officer, code, "return_result", change)


def _documents(docs: list[dict[str, Any]]) -> list[SubmittedDocument]:
    return [SubmittedDocument(d["name"], d["originals"], d["copies"]) for d in docs]


def _merge(existing: list[dict[str, Any]], added: list[DocumentIn]) -> list[dict[str, Any]]:
    """Adds the supplement's papers to what was received; a paper brought again replaces the old count."""
    by_name = {d["name"].strip().casefold(): dict(d) for d in existing}
    for doc in added:
        by_name[doc.name.strip().casefold()] = doc.model_dump()
    return list(by_name.values())


def _local(at: datetime, calendar: WorkCalendar) -> str:
    return at.astimezone(calendar.zone).strftime("%H:%M ngày %d/%m/%Y")
