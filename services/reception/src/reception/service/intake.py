"""Intake on the three channels: at the counter, online, and by post (from postal's hand-over).

Every channel registers the dossier the same way (``_register``): a code from the daily sequence of
the receiving centre, allocated inside the registering transaction, so codes never repeat and
never skip, whatever the number of officers and replicas.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from motcua_kit.auth import Principal
from motcua_kit.errors import Conflict, Forbidden, Invalid, NotFound
from motcua_kit.events import DossierReceived, DossierRefused, DossierSubmitted, PickupHandedOver, SupplementRequested
from motcua_kit.events.reception import Applicant, ChainStep, ProcedureRef
from motcua_kit.mongo import Document
from motcua_worktime import WorkCalendar
from reception import metrics, store
from reception.api.schemas import DossierIn, IntakeRequest, OnlineSubmission
from reception.domain.catalogue import Procedure
from reception.domain.dossier import (
    LOOKUP_ALPHABET,
    Status,
    SubmittedDocument,
    appointment_for,
    dossier_code,
    missing_documents,
    search_name,
    sequence_key,
)
from reception.service import Tx, transaction

Outcome = Literal["receive", "request_supplement", "refuse", "submit"]
_SEQUENCE_LOCKS: dict[str, asyncio.Lock] = {}


@dataclass(frozen=True)
class Actor:
    """Who registers: an officer, the citizen online, or the postal hand-over."""

    subject: str
    name: str | None
    channel: Literal[1, 2, 3]


async def load_calendar(db: AsyncDatabase[Document]) -> WorkCalendar:
    config = await store.get_calendar_config(db)
    return WorkCalendar.from_config(config) if config else WorkCalendar()


# --- the three channels -----------------------------------------------------------------------------


async def receive_at_counter(
    uow: Tx,
    *,
    officer: Principal,
    request: IntakeRequest,
    lookup_base_url: str,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Document, bool]:
    """The officer registers the dossier with a decision; returns it and whether this call created it.

    A retried request with the same ``Idempotency-Key`` returns the first dossier.
    """
    centre = await _centre(uow.repos.db, officer.scope)
    actor = Actor(officer.subject, officer.name, 1)
    key = f"{officer.subject}:{idempotency_key}" if idempotency_key else None
    return await _idempotent(
        uow,
        request,
        key,
        lambda: _register(uow, centre, request, actor, request.outcome, request.reasons, lookup_base_url, now, key),
    )


async def submit_online(
    uow: Tx,
    *,
    request: OnlineSubmission,
    lookup_base_url: str,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Document, bool]:
    """A citizen's online submission: status 1 until a counter officer of the centre decides."""
    centre = await _centre(uow.repos.db, request.centre_code, public=True)
    actor = Actor("citizen", None, 2)
    key = (
        f"online:{request.applicant.id_number or request.applicant.phone}:{idempotency_key}"
        if idempotency_key
        else None
    )
    return await _idempotent(
        uow, request, key, lambda: _register(uow, centre, request, actor, "submit", [], lookup_base_url, now, key)
    )


async def register_pickup(tx: Tx, event: PickupHandedOver, *, lookup_base_url: str) -> Document | None:
    """Postal's hand-over minutes were signed at the centre: the clock starts at that moment.

    A complete dossier is received at once; one that fails the checks waits (status 1) for an
    officer, with the problems in its history. Runs inside the consumer's transaction.
    """
    if await tx.repos.db[store.DOSSIERS].find_one({"pickup_id": event.pickup_id}, {"_id": 1}, session=tx.repos.session):
        return None  # registered already (a second replica, a replay): nothing more to do
    centre = await store.get_centre(tx.repos.db, event.centre_code)
    raw = await store.get_procedure(tx.repos.db, event.procedure_code)
    if centre is None or raw is None:
        from motcua_kit.consumer import PermanentError

        raise PermanentError(f"pickup {event.pickup_id} names an unknown centre or procedure")
    request = DossierIn.model_validate(
        {
            "procedure_code": event.procedure_code,
            "content": event.content,
            "applicant": event.applicant.model_dump(),
            "documents": [d.model_dump() for d in event.documents],
            "return_channel": event.return_channel,
            "delivery_address": event.delivery_address,
            "notify_channels": event.notify_channels,
        }
    )
    procedure = Procedure.model_validate(raw)
    problems = _intake_problems(procedure, request, channel=3)
    outcome: Outcome = "submit" if problems else "receive"
    actor = Actor(f"postal:{event.postal_worker}", event.officer, 3)
    calendar = await load_calendar(tx.repos.db)
    return await _write(
        tx,
        centre,
        raw,
        procedure,
        request,
        actor,
        outcome,
        [message for _, message in problems],
        lookup_base_url,
        event.handed_over_at,
        calendar,
        pickup_id=event.pickup_id,
    )


# --- registration, shared by the channels ------------------------------------------------------------


async def _centre(db: AsyncDatabase[Document], code: str, *, public: bool = False) -> Document:
    centre = await store.get_centre(db, code)
    if centre is None:
        if public:
            raise Invalid(f"{code} is not a centre of this province", code="unknown_centre")
        raise Forbidden(
            f"your scope {code} is not a centre of this province; only counter officers of a centre receive dossiers"
        )
    return centre


async def _register(
    uow: Tx,
    centre: Document,
    request: DossierIn,
    actor: Actor,
    outcome: Outcome,
    reasons: list[str],
    lookup_base_url: str,
    now: datetime | None,
    idempotency_key: str | None,
) -> Document:
    raw = await store.get_procedure(uow.repos.db, request.procedure_code)
    if raw is None:
        metrics.record_refused("unknown_procedure")
        raise Invalid(f"procedure {request.procedure_code} is not in the catalogue", code="unknown_procedure")
    procedure = Procedure.model_validate(raw)
    problems = _intake_problems(procedure, request, channel=actor.channel)
    if problems and outcome == "receive":
        metrics.record_refused(problems[0][0])
        raise Invalid("the dossier cannot be received as it is", code=problems[0][0], details=[p[1] for p in problems])
    calendar = await load_calendar(uow.repos.db)
    at = now or datetime.now(UTC)
    local_day = at.astimezone(ZoneInfo(calendar.timezone)).date()
    key = sequence_key(centre["_id"], local_day)
    await store.ensure_sequence(uow.repos.db, key)
    idempotency = (
        {"_id": idempotency_key, "fingerprint": _fingerprint(request), "created_at": at} if idempotency_key else None
    )
    # Every intake of a centre's day increments one counter. Queue them inside this process instead
    # of letting their transactions collide and retry; replicas still serialise in the database.
    async with _SEQUENCE_LOCKS.setdefault(key, asyncio.Lock()):
        return await transaction(
            uow,
            lambda tx: _write(
                tx,
                centre,
                raw,
                procedure,
                request,
                actor,
                outcome,
                reasons,
                lookup_base_url,
                at,
                calendar,
                idempotency=idempotency,
            ),
        )


async def _write(
    tx: Tx,
    centre: Document,
    raw_procedure: Document,
    procedure: Procedure,
    request: DossierIn,
    actor: Actor,
    outcome: Outcome,
    reasons: list[str],
    lookup_base_url: str,
    at: datetime,
    calendar: WorkCalendar,
    *,
    pickup_id: str | None = None,
    idempotency: dict[str, Any] | None = None,
) -> Document:
    local_day = at.astimezone(ZoneInfo(calendar.timezone)).date()
    seq = await store.next_sequence(tx.repos.db, tx.repos.session, sequence_key(centre["_id"], local_day))
    code = dossier_code(centre["_id"], local_day, seq)
    version = int(raw_procedure.get("version", 1))
    dossier = new_dossier(code, centre, procedure, version, request, actor, at, lookup_base_url, pickup_id)
    await _add_names(tx, dossier)
    if outcome == "receive":
        apply_receipt(dossier, procedure, calendar, at, actor)
    elif outcome == "submit":
        note = "Nộp hồ sơ trực tuyến" if actor.channel == 2 else "Bưu chính chuyển hồ sơ đến trung tâm"
        if reasons:
            note += ": cần cán bộ kiểm tra (" + "; ".join(reasons) + ")"
        add_history(dossier, Status.SUBMITTED, at, actor.subject, centre["_id"], note)
    elif outcome == "request_supplement":
        dossier["supplement_requests"].append(_supplement_entry(at, actor.subject, reasons, clock_running=False))
        add_history(dossier, Status.SUPPLEMENT_REQUESTED, at, actor.subject, centre["_id"], "; ".join(reasons))
    else:
        dossier.update(refusal_reasons=reasons, refused_at=at)
        add_history(dossier, Status.REFUSED, at, actor.subject, centre["_id"], "; ".join(reasons))
    await tx.repos.db[store.DOSSIERS].insert_one(dossier, session=tx.repos.session)
    if idempotency:  # same transaction: two concurrent retries cannot both create a dossier
        await tx.repos.db[store.IDEMPOTENCY].insert_one({**idempotency, "dossier_code": code}, session=tx.repos.session)
    tx.publish(_event_for(outcome, dossier, reasons, actor, at))
    _count(outcome, actor.channel, centre["_id"])
    return dossier


def new_dossier(
    code: str,
    centre: Document,
    procedure: Procedure,
    version: int,
    request: DossierIn,
    actor: Actor,
    at: datetime,
    lookup_base_url: str,
    pickup_id: str | None,
) -> Document:
    return {
        "_id": code,
        "centre_code": centre["_id"],
        "centre_name": centre["name"],
        "procedure": {
            "code": procedure.code,
            "name": procedure.name,
            "field": procedure.field,
            "level": procedure.level,
            "version": version,
        },
        "procedure_snapshot": procedure.model_dump(),
        "competent_agency": procedure.competent_agency,
        "agency_chain": [
            {"agency_code": a, "share": s} for a, s in zip(procedure.agency_chain, procedure.shares(), strict=True)
        ],
        "intake_channel": actor.channel,
        "return_channel": request.return_channel,
        "delivery_address": request.delivery_address
        or (request.applicant.address if request.return_channel == "post" else None),
        "notify_channels": list(request.notify_channels),
        "applicant": request.applicant.model_dump(),
        "search_name": search_name(request.applicant.full_name),
        "content": request.content,
        "documents": [d.model_dump() for d in request.documents],
        "status": int(Status.SUBMITTED),
        "submitted_at": at if actor.channel != 1 else None,
        "received_at": None,
        "clock_started_at": None,
        "appointment_at": None,
        "original_appointment_at": None,
        "limit_working_hours": None,
        "paused_at": None,
        "paused_working_hours": 0.0,
        "supplement_requests": [],
        "refusal_reasons": [],
        "lookup_url": f"{lookup_base_url}?code={code}",
        "lookup_code": "".join(secrets.choice(LOOKUP_ALPHABET) for _ in range(8)),
        "received_by": actor.subject if actor.channel == 1 else None,
        "officer_name": actor.name,
        "history": [],
        # Only pickups carry it: the unique sparse index must not see a null on every other dossier.
        **({"pickup_id": pickup_id} if pickup_id else {}),
    }


async def _add_names(tx: Tx, dossier: Document) -> None:
    """The agencies' and the province's names, which the agencies print on their forms."""
    codes = [s["agency_code"] for s in dossier["agency_chain"]]
    names = {
        a["_id"]: a["name"]
        for a in await tx.repos.db[store.AGENCIES].find({"_id": {"$in": codes}}, session=tx.repos.session).to_list(None)
    }
    for step in dossier["agency_chain"]:
        step["agency_name"] = names.get(step["agency_code"])
    province = await tx.repos.db[store.SETTINGS].find_one({"_id": "province"}, session=tx.repos.session)
    dossier["province_name"] = province.get("name") if province else None


def apply_receipt(dossier: Document, procedure: Procedure, calendar: WorkCalendar, at: datetime, actor: Actor) -> None:
    """Status 2: the legal clock starts and the appointment is fixed."""
    try:
        appointment = appointment_for(calendar, procedure, at, online=dossier["intake_channel"] == 2)
    except ValueError as exc:
        metrics.record_appointment_error()
        raise Invalid(f"cannot compute the appointment: {exc}", code="appointment_error") from exc
    dossier.update(
        status=int(Status.RECEIVED),
        received_at=at,
        clock_started_at=appointment.clock_started_at.astimezone(UTC),
        appointment_at=appointment.appointment_at.astimezone(UTC),
        original_appointment_at=appointment.appointment_at.astimezone(UTC),
        limit_working_hours=appointment.limit_working_hours,
        received_by=dossier["received_by"] or actor.subject,
    )
    notes = {1: "Tiếp nhận hồ sơ tại quầy", 2: "Tiếp nhận hồ sơ nộp trực tuyến", 3: "Tiếp nhận hồ sơ qua bưu chính"}
    add_history(dossier, Status.RECEIVED, at, actor.subject, dossier["centre_code"], notes[dossier["intake_channel"]])


def add_history(dossier: Document, status: Status, at: datetime, by: str, agency: str, note: str | None) -> None:
    dossier["status"] = int(status)
    dossier["history"].append({"status": int(status), "at": at, "by": by, "agency": agency, "note": note})


def _supplement_entry(at: datetime, by: str, reasons: list[str], *, clock_running: bool) -> dict[str, Any]:
    return {
        "requested_at": at,
        "requested_by": by,
        "origin": "counter",
        "agency_code": None,
        "position": None,
        "reasons": reasons,
        "clock_running": clock_running,
        "resumed_at": None,
    }


def received_event(dossier: Document) -> DossierReceived:
    return DossierReceived(
        **_facts(dossier),
        competent_agency=dossier["competent_agency"],
        agency_chain=[ChainStep(**s) for s in dossier["agency_chain"]],
        province_name=dossier.get("province_name"),
        received_at=dossier["received_at"],
        clock_started_at=dossier["clock_started_at"],
        appointment_at=dossier["appointment_at"],
        limit_working_hours=dossier["limit_working_hours"],
        received_by=dossier["received_by"],
    )


def _facts(dossier: Document) -> dict[str, Any]:
    return {
        "dossier_code": dossier["_id"],
        "centre_code": dossier["centre_code"],
        "centre_name": dossier["centre_name"],
        "procedure": ProcedureRef(**{k: dossier["procedure"][k] for k in ("code", "name", "field", "version")}),
        "intake_channel": dossier["intake_channel"],
        "return_channel": dossier["return_channel"],
        "notify_channels": dossier["notify_channels"],
        "applicant": Applicant(**dossier["applicant"]),
        "delivery_address": dossier["delivery_address"],
        "lookup_url": dossier["lookup_url"],
        "pickup_id": dossier.get("pickup_id"),
    }


def _event_for(outcome: Outcome, dossier: Document, reasons: list[str], actor: Actor, at: datetime) -> Any:
    if outcome == "receive":
        return received_event(dossier)
    if outcome == "submit":
        return DossierSubmitted(**_facts(dossier), submitted_at=at)
    if outcome == "request_supplement":
        return SupplementRequested(
            dossier_code=dossier["_id"],
            reasons=reasons,
            requested_at=at,
            requested_by=actor.subject,
            clock_paused=False,
        )
    return DossierRefused(dossier_code=dossier["_id"], reasons=reasons, refused_at=at, refused_by=actor.subject)


def _count(outcome: Outcome, channel: int, centre: str) -> None:
    if outcome == "receive":
        metrics.record_received(channel, centre)
    elif outcome == "submit":
        metrics.record_submitted(channel, centre)
    elif outcome == "request_supplement":
        metrics.record_supplement(centre)
    else:
        metrics.record_dossier_refused(centre)


# --- checks -----------------------------------------------------------------------------------------


def _intake_problems(procedure: Procedure, request: DossierIn, *, channel: int) -> list[tuple[str, str]]:
    """Everything that stops the dossier from being received, each as (code, message)."""
    problems: list[tuple[str, str]] = []
    if not procedure.active:
        problems.append(("inactive_procedure", f"procedure {procedure.code} is no longer in force"))
    if channel == 3 and not procedure.postal_intake:
        problems.append(("postal_intake_not_allowed", f"procedure {procedure.code} may not be submitted by post"))
    if channel == 2 and procedure.online_level not in ("partial", "full"):
        problems.append(("online_not_allowed", f"procedure {procedure.code} may not be submitted online"))
    if request.return_channel == "post" and not procedure.postal_return:
        problems.append(
            ("postal_return_not_allowed", f"procedure {procedure.code} does not allow returning the result by post")
        )
    documents = [SubmittedDocument(d.name, d.originals, d.copies) for d in request.documents]
    problems += [("missing_documents", p) for p in missing_documents(procedure, documents)]
    for channel_name in request.notify_channels:
        contact = request.applicant.phone if channel_name == "sms" else request.applicant.email
        if not contact:
            what = "phone number" if channel_name == "sms" else "e-mail address"
            problems.append(("missing_contact", f"notification by {channel_name} needs the applicant's {what}"))
    return problems


def recheck(dossier: Document, documents: list[SubmittedDocument]) -> list[str]:
    """The mandatory documents still missing once a supplement is added to what was received."""
    procedure = Procedure.model_validate(dossier["procedure_snapshot"])
    return missing_documents(procedure, documents)


# --- idempotency --------------------------------------------------------------------------------------


def _fingerprint(request: DossierIn) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


async def _idempotent(uow: Tx, request: DossierIn, key: str | None, create: Any) -> tuple[Document, bool]:
    """Runs ``create`` once per key: a retry with the same key and body returns the first dossier."""
    if key is None:
        return await create(), True
    db = uow.repos.db
    previous = await db[store.IDEMPOTENCY].find_one({"_id": key})
    if previous:
        return await _replayed(db, previous, request), False
    try:
        return await create(), True
    except DuplicateKeyError:  # a concurrent retry with the same key won: its transaction holds the dossier
        previous = await db[store.IDEMPOTENCY].find_one({"_id": key})
        if previous is None:
            raise
        return await _replayed(db, previous, request), False


async def _replayed(db: AsyncDatabase[Document], previous: Document, request: DossierIn) -> Document:
    if previous["fingerprint"] != _fingerprint(request):
        raise Conflict("this Idempotency-Key was already used for a different dossier", code="idempotency_key_reused")
    dossier = await store.get_dossier(db, previous["dossier_code"])
    if dossier is None:
        raise NotFound("the dossier of this Idempotency-Key no longer exists")
    return dossier


# --- reading ------------------------------------------------------------------------------------------


async def get_dossier(db: AsyncDatabase[Document], *, code: str, viewer: Principal) -> Document:
    dossier = await store.get_dossier(db, code)
    if dossier is None or not may_view(viewer, dossier):
        raise NotFound(f"no dossier {code} in your centre")
    return dossier


def may_view(viewer: Principal, dossier: Document) -> bool:
    return viewer.role.value == "auditor" or viewer.scope == dossier["centre_code"]


def public_view(dossier: Document) -> dict[str, Any]:
    return {k: v for k, v in dossier.items() if k != "_id"} | {"code": dossier["_id"]}
