"""Intake on the three channels: at the counter, online, and by post (from postal's hand-over).

Every channel registers the dossier the same way (``_register``): a code from the daily sequence of
the receiving centre, allocated inside the registering transaction, so codes never repeat and
never skip, whatever the number of officers and replicas.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from motcua_kit.auth import Principal
from motcua_kit.consumer import PermanentError
from motcua_kit.errors import Conflict, Forbidden, Invalid, NotFound
from motcua_kit.events.base import Event
from motcua_kit.mongo import Document
from motcua_kit.uow import use_case
from motcua_worktime import WorkCalendar
from reception import metrics
from reception.domain.catalogue import Procedure
from reception.domain.dossier import (
    AppointmentError,
    Dossier,
    DossierDraft,
    DossierRuleError,
    Outcome,
    RegisterSearch,
    dossier_code,
    new_lookup_code,
    sequence_key,
)
from reception.service import UoW, as_app_error
from reception.store import Duplicate, IdempotencyRecord, document_of

_SEQUENCE_LOCKS: dict[str, asyncio.Lock] = {}


# --- commands ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiveAtCounter:
    """An officer registers a dossier with a decision: receive it, ask for a supplement, refuse it."""

    officer: Principal
    draft: DossierDraft
    outcome: Literal["receive", "request_supplement", "refuse"] = "receive"
    reasons: tuple[str, ...] = ()
    lookup_base_url: str = ""
    idempotency_key: str | None = None
    now: datetime | None = None


@dataclass(frozen=True)
class SubmitOnline:
    """A citizen's online submission to a centre: status 1 until a counter officer decides."""

    centre_code: str
    draft: DossierDraft
    lookup_base_url: str = ""
    idempotency_key: str | None = None
    now: datetime | None = None


@dataclass(frozen=True)
class RegisterPickup:
    """Postal's hand-over minutes were signed at the centre (from ``PickupHandedOver``)."""

    pickup_id: str
    centre_code: str
    draft: DossierDraft
    handed_over_at: datetime
    officer: str
    postal_worker: str
    lookup_base_url: str = ""


@dataclass(frozen=True)
class _Actor:
    """Who registers: an officer, the citizen online, or the postal hand-over."""

    subject: str
    name: str | None
    channel: Literal[1, 2, 3]


# --- the three channels -----------------------------------------------------------------------------


@use_case
async def receive_at_counter(cmd: ReceiveAtCounter, uow: UoW) -> tuple[Dossier, bool]:
    """The officer registers the dossier with a decision; returns it and whether this call created it.

    A retried request with the same ``Idempotency-Key`` returns the first dossier.
    """
    officer = cmd.officer
    centre = await _centre(uow, officer.scope)
    actor = _Actor(officer.subject, officer.name, 1)
    key = f"{officer.subject}:{cmd.idempotency_key}" if cmd.idempotency_key else None
    fingerprint = _fingerprint(cmd.draft, cmd.outcome, list(cmd.reasons))
    return await _idempotent(
        uow,
        key,
        fingerprint,
        lambda: _register(
            uow,
            centre,
            cmd.draft,
            actor,
            cmd.outcome,
            list(cmd.reasons),
            cmd.lookup_base_url,
            cmd.now,
            key,
            fingerprint,
        ),
    )


@use_case
async def submit_online(cmd: SubmitOnline, uow: UoW) -> tuple[Dossier, bool]:
    """A citizen's online submission: status 1 until a counter officer of the centre decides."""
    centre = await _centre(uow, cmd.centre_code, public=True)
    actor = _Actor("citizen", None, 2)
    applicant = cmd.draft.applicant
    key = f"online:{applicant.id_number or applicant.phone}:{cmd.idempotency_key}" if cmd.idempotency_key else None
    fingerprint = _fingerprint(cmd.draft, "submit", [], centre=cmd.centre_code)
    return await _idempotent(
        uow,
        key,
        fingerprint,
        lambda: _register(uow, centre, cmd.draft, actor, "submit", [], cmd.lookup_base_url, cmd.now, key, fingerprint),
    )


@use_case
async def register_pickup(cmd: RegisterPickup, uow: UoW) -> Dossier | None:
    """Postal's hand-over minutes were signed at the centre: the clock starts at that moment.

    A complete dossier is received at once; one that fails the checks waits (status 1) for an
    officer, with the problems in its history. Runs inside the consumer's transaction.
    """
    async with uow:
        repos = uow.repos
        if await repos.dossiers.has_pickup(cmd.pickup_id):
            return None  # registered already (a second replica, a replay): nothing more to do
        centre = await repos.centres.get(cmd.centre_code)
        raw = await repos.procedures.get(cmd.draft.procedure_code)
        if centre is None or raw is None:
            raise PermanentError(f"pickup {cmd.pickup_id} names an unknown centre or procedure")
        procedure = Procedure.model_validate(raw)
        problems = cmd.draft.problems(procedure, channel=3)
        outcome: Outcome = "submit" if problems else "receive"
        actor = _Actor(f"postal:{cmd.postal_worker}", cmd.officer, 3)
        calendar = await repos.calendar.work_calendar()
        dossier = await _write(
            uow,
            centre,
            raw,
            procedure,
            cmd.draft,
            actor,
            outcome,
            [message for _, message in problems],
            cmd.lookup_base_url,
            cmd.handed_over_at,
            calendar,
            pickup_id=cmd.pickup_id,
        )
        await uow.commit()
    return dossier


# --- registration, shared by the channels ------------------------------------------------------------


async def _centre(uow: UoW, code: str, *, public: bool = False) -> Document:
    centre = await uow.repos.centres.get(code)
    if centre is None:
        if public:
            raise Invalid(f"{code} is not a centre of this province", code="unknown_centre")
        raise Forbidden(
            f"your scope {code} is not a centre of this province; only counter officers of a centre receive dossiers"
        )
    return centre


async def _register(
    uow: UoW,
    centre: Document,
    draft: DossierDraft,
    actor: _Actor,
    outcome: Outcome,
    reasons: list[str],
    lookup_base_url: str,
    now: datetime | None,
    idempotency_key: str | None,
    fingerprint: str,
) -> Dossier:
    raw = await uow.repos.procedures.get(draft.procedure_code)
    if raw is None:
        metrics.record_refused("unknown_procedure")
        raise Invalid(f"procedure {draft.procedure_code} is not in the catalogue", code="unknown_procedure")
    procedure = Procedure.model_validate(raw)
    problems = draft.problems(procedure, channel=actor.channel)
    if problems and outcome == "receive":
        metrics.record_refused(problems[0][0])
        raise Invalid("the dossier cannot be received as it is", code=problems[0][0], details=[p[1] for p in problems])
    calendar = await uow.repos.calendar.work_calendar()
    at = now or datetime.now(UTC)
    key = sequence_key(centre["_id"], at.astimezone(calendar.zone).date())
    await uow.repos.sequences.ensure(key)  # outside the transaction
    # Every intake of a centre's day increments one counter. Queue them inside this process instead
    # of letting their transactions collide and retry; replicas still serialise in the database.
    async with _SEQUENCE_LOCKS.setdefault(key, asyncio.Lock()), uow:
        dossier = await _write(
            uow, centre, raw, procedure, draft, actor, outcome, reasons, lookup_base_url, at, calendar
        )
        if idempotency_key:  # same transaction: two concurrent retries cannot both create a dossier
            record = IdempotencyRecord(idempotency_key, fingerprint, dossier.code)
            await uow.repos.idempotency.add(record, at=at)
        await uow.commit()
    return dossier


async def _write(
    uow: UoW,
    centre: Document,
    raw_procedure: Document,
    procedure: Procedure,
    draft: DossierDraft,
    actor: _Actor,
    outcome: Outcome,
    reasons: list[str],
    lookup_base_url: str,
    at: datetime,
    calendar: WorkCalendar,
    *,
    pickup_id: str | None = None,
) -> Dossier:
    """Registers the dossier in the open transaction: the code, the decision, the event, the metric."""
    repos = uow.repos
    local_day = at.astimezone(calendar.zone).date()
    seq = await repos.sequences.next(sequence_key(centre["_id"], local_day))
    code = dossier_code(centre["_id"], local_day, seq)
    province = await repos.province.province()
    dossier = Dossier.register(
        code=code,
        centre_code=centre["_id"],
        centre_name=centre["name"],
        procedure=procedure,
        procedure_version=int(raw_procedure.get("version", 1)),
        draft=draft,
        channel=actor.channel,
        at=at,
        by=actor.subject,
        by_name=actor.name,
        lookup_base_url=lookup_base_url,
        lookup_code=new_lookup_code(),
        pickup_id=pickup_id,
        # The agencies' and the province's names, which the agencies print on their forms.
        agency_names=await repos.agencies.names(list(procedure.agency_chain)),
        province_name=province.get("name") if province else None,
    )
    uow.publish(*decided(dossier, outcome, reasons, at=at, by=actor.subject, calendar=calendar))
    await repos.dossiers.add(dossier)
    channel, centre_code = actor.channel, dossier.centre_code
    uow.after_commit(lambda: _count(outcome, channel, centre_code))
    return dossier


def decided(
    dossier: Dossier, outcome: Outcome, reasons: list[str], *, at: datetime, by: str, calendar: WorkCalendar
) -> list[Event]:
    """The domain's decision, its refusals said as the API says them."""
    try:
        return dossier.decide(outcome, reasons, at=at, by=by, calendar=calendar)
    except AppointmentError as exc:
        metrics.record_appointment_error()
        raise Invalid(str(exc), code=exc.code) from exc
    except DossierRuleError as exc:
        raise as_app_error(exc) from exc


def _count(outcome: Outcome, channel: int, centre: str) -> None:
    if outcome == "receive":
        metrics.record_received(channel, centre)
    elif outcome == "submit":
        metrics.record_submitted(channel, centre)
    elif outcome == "request_supplement":
        metrics.record_supplement(centre)
    else:
        metrics.record_dossier_refused(centre)


# --- idempotency --------------------------------------------------------------------------------------


def _fingerprint(draft: DossierDraft, outcome: str, reasons: list[str], *, centre: str | None = None) -> str:
    body = {"draft": asdict(draft), "outcome": outcome, "reasons": reasons, "centre": centre}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


async def _idempotent(
    uow: UoW, key: str | None, fingerprint: str, create: Callable[[], Awaitable[Dossier]]
) -> tuple[Dossier, bool]:
    """Runs ``create`` once per key: a retry with the same key and body returns the first dossier."""
    if key is None:
        return await create(), True
    previous = await uow.repos.idempotency.get(key)
    if previous:
        return await _replayed(uow, previous, fingerprint), False
    try:
        return await create(), True
    except Duplicate:  # a concurrent retry with the same key won: its transaction holds the dossier
        previous = await uow.repos.idempotency.get(key)
        if previous is None:
            raise
        return await _replayed(uow, previous, fingerprint), False


async def _replayed(uow: UoW, previous: IdempotencyRecord, fingerprint: str) -> Dossier:
    if previous.fingerprint != fingerprint:
        raise Conflict("this Idempotency-Key was already used for a different dossier", code="idempotency_key_reused")
    dossier = await uow.repos.dossiers.get(previous.dossier_code)
    if dossier is None:
        raise NotFound("the dossier of this Idempotency-Key no longer exists")
    return dossier


# --- reading ------------------------------------------------------------------------------------------


async def get_dossier(uow: UoW, *, code: str, viewer: Principal) -> Dossier:
    """The dossier, for staff of its centre and auditors (anyone else: 404)."""
    dossier = await uow.repos.dossiers.get(code)
    if dossier is None or not dossier.may_be_seen_by(viewer.role.value, viewer.scope):
        raise NotFound(f"no dossier {code} in your centre")
    return dossier


async def get_dossier_document(uow: UoW, *, code: str, viewer: Principal) -> Document:
    """The stored document of the dossier (the forms read it), with the same rule as ``get_dossier``."""
    return document_of(await get_dossier(uow, code=code, viewer=viewer))


async def search_register(
    uow: UoW, search: RegisterSearch, *, viewer: Principal, limit: int, offset: int
) -> tuple[int, list[Document]]:
    """A page of the register of the viewer's centre (auditors: any centre, or all)."""
    if viewer.role.value == "auditor":
        scoped = search
    else:
        if search.centre_code and search.centre_code != viewer.scope:
            raise Forbidden("you may only search the register of your own centre")
        scoped = replace(search, centre_code=viewer.scope)
    if scoped.received_from and scoped.received_to and scoped.received_from > scoped.received_to:
        raise Invalid("received_from is after received_to")
    return await uow.repos.dossiers.search(scoped, limit=limit, offset=offset)


def public_view(dossier: Dossier) -> Document:
    """The dossier as staff read it: the stored fields, ``code`` for ``_id``."""
    return {k: v for k, v in document_of(dossier).items() if k != "_id"} | {"code": dossier.code}
