"""Reception's use cases: one async function each, taking its ports."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from motcua_kit.auth import Principal
from motcua_kit.errors import Conflict, Forbidden, Invalid, NotFound
from motcua_kit.events.reception import Applicant, ChainStep, DossierReceived, ProcedureRef
from motcua_kit.mongo import Document
from motcua_kit.outbox import Tx, UnitOfWork
from motcua_worktime import WorkCalendar
from reception import metrics, store
from reception.api.schemas import IntakeRequest
from reception.domain.catalogue import Procedure
from reception.domain.dossier import (
    Status,
    SubmittedDocument,
    appointment_for,
    dossier_code,
    missing_documents,
    sequence_key,
)


async def load_calendar(db: AsyncDatabase[Document]) -> WorkCalendar:
    config = await store.get_calendar_config(db)
    return WorkCalendar.from_config(config) if config else WorkCalendar()


def _request_fingerprint(request: IntakeRequest) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


async def receive_at_counter(
    uow: UnitOfWork,
    *,
    officer: Principal,
    request: IntakeRequest,
    lookup_base_url: str,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Document, bool]:
    """Receives a dossier at the counter; returns it and whether this call created it.

    A retried request with the same ``Idempotency-Key`` returns the first dossier.
    """
    db = uow.db
    idem_id = f"{officer.subject}:{idempotency_key}" if idempotency_key else None
    if idem_id:
        previous = await db[store.IDEMPOTENCY].find_one({"_id": idem_id})
        if previous:
            return await _replayed(db, previous, request), False

    centre = await store.get_centre(db, officer.scope)
    if centre is None:
        raise Forbidden(
            f"your scope {officer.scope} is not a centre of this province; only counter officers "
            "of a centre receive dossiers"
        )
    raw = await store.get_procedure(db, request.procedure_code)
    if raw is None:
        metrics.record_refused("unknown_procedure")
        raise Invalid(f"procedure {request.procedure_code} is not in the catalogue", code="unknown_procedure")
    procedure = Procedure.model_validate(raw)
    _check_intake(procedure, request)

    calendar = await load_calendar(db)
    received_at = now or datetime.now(UTC)
    appointment = appointment_for(calendar, procedure, received_at, online=False)
    local_day = received_at.astimezone(ZoneInfo(calendar.timezone)).date()

    async def work(tx: Tx) -> Document:
        seq = await store.next_sequence(tx.db, tx.session, sequence_key(centre["_id"], local_day))
        code = dossier_code(centre["_id"], local_day, seq)
        event = DossierReceived(
            dossier_code=code,
            centre_code=centre["_id"],
            centre_name=centre["name"],
            procedure=ProcedureRef(
                code=procedure.code, name=procedure.name, field=procedure.field, version=int(raw.get("version", 1))
            ),
            competent_agency=procedure.competent_agency,
            agency_chain=[
                ChainStep(agency_code=a, share=s)
                for a, s in zip(procedure.agency_chain, procedure.shares(), strict=True)
            ],
            intake_channel=1,
            return_channel=request.return_channel,
            notify_channels=request.notify_channels,
            applicant=Applicant(**request.applicant.model_dump()),
            delivery_address=request.delivery_address,
            received_at=received_at,
            clock_started_at=appointment.clock_started_at,
            appointment_at=appointment.appointment_at,
            limit_working_hours=appointment.limit_working_hours,
            lookup_url=f"{lookup_base_url}?code={code}",
            received_by=officer.subject,
        )
        dossier = {
            "_id": code,
            **event.model_dump(mode="python", exclude={"dossier_code"}),
            "content": request.content,
            "documents": [d.model_dump() for d in request.documents],
            "status": int(Status.RECEIVED),
            "history": [
                {
                    "status": int(Status.RECEIVED),
                    "at": received_at,
                    "by": officer.subject,
                    "agency": centre["_id"],
                    "note": "Tiếp nhận hồ sơ tại quầy",
                }
            ],
        }
        await tx.db[store.DOSSIERS].insert_one(dossier, session=tx.session)
        if idem_id:
            await tx.db[store.IDEMPOTENCY].insert_one(
                {
                    "_id": idem_id,
                    "dossier_code": code,
                    "fingerprint": _request_fingerprint(request),
                    "created_at": received_at,
                },
                session=tx.session,
            )
        await tx.publish(event)
        return dossier

    try:
        dossier = await uow.run(work)
    except DuplicateKeyError:
        if not idem_id:
            raise
        previous = await db[store.IDEMPOTENCY].find_one({"_id": idem_id})  # a concurrent retry won the race
        if previous is None:
            raise
        return await _replayed(db, previous, request), False
    metrics.record_received(1, centre["_id"])
    return dossier, True


async def _replayed(db: AsyncDatabase[Document], previous: Document, request: IntakeRequest) -> Document:
    if previous["fingerprint"] != _request_fingerprint(request):
        raise Conflict("this Idempotency-Key was already used for a different dossier", code="idempotency_key_reused")
    dossier = await store.get_dossier(db, previous["dossier_code"])
    assert dossier is not None
    return dossier


def _check_intake(procedure: Procedure, request: IntakeRequest) -> None:
    if not procedure.active:
        metrics.record_refused("inactive_procedure")
        raise Invalid(f"procedure {procedure.code} is no longer in force", code="inactive_procedure")
    if request.return_channel == "post" and not procedure.postal_return:
        metrics.record_refused("postal_return_not_allowed")
        raise Invalid(
            f"procedure {procedure.code} does not allow returning the result by post", code="postal_return_not_allowed"
        )
    problems = missing_documents(
        procedure, [SubmittedDocument(d.name, d.originals, d.copies) for d in request.documents]
    )
    if problems:
        metrics.record_refused("missing_documents")
        raise Invalid("the dossier lacks mandatory documents", code="missing_documents", details=problems)
    for channel in request.notify_channels:
        contact = request.applicant.phone if channel == "sms" else request.applicant.email
        if not contact:
            raise Invalid(
                f"notification by {channel} needs the applicant's "
                f"{'phone number' if channel == 'sms' else 'e-mail address'}",
                code="missing_contact",
            )


async def get_dossier(db: AsyncDatabase[Document], *, code: str, viewer: Principal) -> Document:
    dossier = await store.get_dossier(db, code)
    if dossier is None or not _may_view(viewer, dossier):
        raise NotFound(f"no dossier {code} in your centre")
    return dossier


def _may_view(viewer: Principal, dossier: Document) -> bool:
    return viewer.role.value == "auditor" or viewer.scope == dossier["centre_code"]


def public_view(dossier: Document) -> dict[str, Any]:
    return {k: v for k, v in dossier.items() if k != "_id"} | {"code": dossier["_id"]}
