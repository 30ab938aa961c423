"""Carrier reports (webhooks, polls, the partner's own reports) applied to shipments, and the scans
for silent and late shipments."""

from __future__ import annotations

import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256
from typing import Literal

from pydantic import ConfigDict, ValidationError

from motcua_kit.errors import AppError, Invalid, NotFound
from motcua_kit.events import DeliveryAttemptFailed, Event, ResultDelivered
from motcua_kit.logs import get_logger
from motcua_kit.uow import use_case
from postal import metrics
from postal.clients.carrier import Carrier, CarrierError, CarrierStep
from postal.domain.shipment import local_day
from postal.domain.tracking import Report
from postal.service.common import Rules, load_calendar, now_utc
from postal.store import UoW

log = get_logger(__name__)
Outcome = Literal["accepted", "duplicate", "stale"]
Source = Literal["webhook", "poll", "partner"]


class WebhookRefused(AppError):
    status_code = 401
    code = "webhook_refused"


@dataclass(frozen=True)
class ApplyReport:
    """One carrier step for one shipment; ``event_id`` identifies the step (a repeat is a duplicate)."""

    shipment_id: str
    event_id: str
    report: Report
    source: Source


@dataclass(frozen=True)
class FlagLate:
    shipment_id: str


def _record_attempts(events: list[Event], carrier: str) -> None:
    for event in events:
        if isinstance(event, DeliveryAttemptFailed):
            metrics.record_attempt(carrier, "failed")
        elif isinstance(event, ResultDelivered):
            metrics.record_attempt(carrier, "delivered")


@use_case
async def apply_report(cmd: ApplyReport, uow: UoW, *, rules: Rules) -> Outcome:
    """Applies one carrier step to a shipment: ``accepted``, ``duplicate`` (this step was seen) or
    ``stale`` (the shipment is already past it)."""
    key = f"{rules.carrier}:{cmd.event_id}"
    async with uow:
        if await uow.repos.carrier_events.seen(key):
            outcome: Outcome = "duplicate"
        else:
            shipment = await uow.repos.shipments.get(cmd.shipment_id)
            if shipment is None:
                raise NotFound(f"no shipment {cmd.shipment_id}")
            ahead = shipment.accepts(cmd.report)
            now = now_utc()
            outcome = "accepted" if ahead else "stale"
            await uow.repos.carrier_events.record(
                key, shipment_id=shipment.id, status=cmd.report.status, source=cmd.source, outcome=outcome, at=now
            )
            if ahead:
                calendar = await load_calendar(uow.repos.calendar)
                events = shipment.apply(cmd.report, source=cmd.source, calendar=calendar, policy=rules.policy, now=now)
                await uow.repos.shipments.save(shipment)
                uow.publish(*events)
                uow.after_commit(lambda: _record_attempts(events, rules.carrier))
        uow.after_commit(lambda: metrics.record_report(cmd.source, outcome))
        await uow.commit()
    return outcome


# --- webhooks ------------------------------------------------------------------------------------


class WebhookBody(CarrierStep):
    model_config = ConfigDict(extra="ignore")

    tracking_number: str
    order_number: str | None = None
    purpose: str | None = None


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: float, now: float
) -> str | None:
    """Why a callback is refused (``bad_signature`` or ``expired``), or None when it is genuine and fresh."""
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, sha256).hexdigest()
    if not signature or not hmac.compare_digest(expected, signature):
        return "bad_signature"
    try:
        age = abs(now - int(timestamp))
    except ValueError:
        return "bad_signature"
    return "expired" if age > tolerance else None


@dataclass(frozen=True)
class CarrierCallback:
    """A tracking callback as it arrived: the raw body and the signature headers."""

    body: bytes
    timestamp: str | None
    signature: str | None


async def receive_webhook(
    cmd: CarrierCallback,
    uow: UoW,
    *,
    secret: str,
    tolerance_seconds: float,
    rules: Rules,
    now: float | None = None,
) -> Outcome:
    """Checks and applies one carrier callback. Refused callbacks raise a 401, unreadable ones a 422,
    unknown tracking numbers a 404 (the carrier retries: the order may not be recorded yet)."""
    body = cmd.body
    problem = verify_signature(
        secret,
        cmd.timestamp or "",
        body,
        cmd.signature or "",
        tolerance=tolerance_seconds,
        now=time.time() if now is None else now,
    )
    if problem is not None:
        metrics.record_webhook(rules.carrier, problem)
        message = (
            "the signature does not match the body"
            if problem == "bad_signature"
            else "the timestamp is too old: a replay"
        )
        raise WebhookRefused(message, code=problem)
    try:
        step = WebhookBody.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        metrics.record_webhook(rules.carrier, "invalid")
        raise Invalid(f"the callback body is not a tracking step: {exc}", code="invalid_callback") from exc
    shipment = await uow.repos.shipments.by_tracking_number(step.tracking_number)
    if shipment is None:
        metrics.record_webhook(rules.carrier, "unknown_shipment")
        raise NotFound(f"no shipment with tracking number {step.tracking_number}", code="unknown_shipment")
    outcome = await apply_report(ApplyReport(shipment.id, step.event_id, step.report(), "webhook"), uow, rules=rules)
    metrics.record_webhook(rules.carrier, outcome)
    return outcome


# --- the polling fallback and the late flag --------------------------------------------------------


async def poll_silent(uow: UoW, carrier: Carrier, rules: Rules, *, silence_seconds: float) -> int:
    """Asks the carrier about open shipments it has not reported on for ``silence_seconds``; applies
    every step it missed. Returns how many shipments were polled."""
    now = now_utc()
    threshold = now - timedelta(seconds=silence_seconds)
    polled = 0
    for shipment_id, tracking_number, last_polled_at in await uow.repos.shipments.silent(threshold):
        if last_polled_at and last_polled_at >= threshold:
            continue
        # Claim it: another replica scanning at the same time skips it.
        if not await uow.repos.shipments.claim_poll(shipment_id, last_polled_at, now):
            continue
        polled += 1
        try:
            tracking = await carrier.get_tracking(tracking_number)
        except CarrierError as exc:
            metrics.record_carrier_error(rules.carrier, "get_order", retryable=exc.retryable)
            metrics.record_poll("carrier_error")
            log.warning("tracking poll failed", error=exc.message)
            continue
        applied = 0
        for step in tracking.steps:
            outcome = await apply_report(ApplyReport(shipment_id, step.event_id, step.report, "poll"), uow, rules=rules)
            applied += outcome == "accepted"
        metrics.record_poll("caught_up" if applied else "nothing_new")
    return polled


@use_case
async def flag_late_shipment(cmd: FlagLate, uow: UoW) -> bool:
    """Flags one shipment past its target date, once; a result delivery publishes ShipmentLate."""
    async with uow:
        shipment = await uow.repos.shipments.get(cmd.shipment_id)
        if shipment is None:
            return False
        calendar = await load_calendar(uow.repos.calendar)
        now = now_utc()
        if not shipment.is_late_on(local_day(calendar, now)):
            return False
        uow.publish(*shipment.flag_late(local_day(calendar, now), now))
        await uow.repos.shipments.save(shipment)
        await uow.commit()
    return True


async def flag_late(uow: UoW, rules: Rules) -> int:
    """Flags open shipments past their target date, once each."""
    calendar = await load_calendar(uow.repos.calendar)
    today = local_day(calendar, now_utc()).isoformat()
    flagged = 0
    for shipment_id in await uow.repos.shipments.late_ids(today):
        flagged += await flag_late_shipment(FlagLate(shipment_id), uow)
    return flagged


async def refresh_gauges(uow: UoW) -> None:
    """Shipments by purpose, status and carrier (open ones, and those closed in the last 30 days)."""
    counts: dict[tuple[str, str, str], int] = {}
    late: dict[tuple[str, str], int] = {}
    waiting: dict[str, int] = {}
    for row in await uow.repos.shipments.gauge_rows(now_utc() - timedelta(days=30)):
        key = (row.purpose, row.status, row.carrier)
        counts[key] = counts.get(key, 0) + 1
        if row.open and row.late:
            late[(row.purpose, row.carrier)] = late.get((row.purpose, row.carrier), 0) + 1
        if row.task_kind:
            waiting[row.task_kind] = waiting.get(row.task_kind, 0) + 1
    metrics.set_shipments([(*k, n) for k, n in counts.items()], [(*k, n) for k, n in late.items()])
    metrics.set_commands_waiting(waiting)


@dataclass(frozen=True)
class PartnerReport:
    tracking_number: str
    report_id: str
    report: Report
    partner_scope: str


async def report_by_partner(cmd: PartnerReport, uow: UoW, *, rules: Rules) -> Outcome:
    """The postal partner reports a step itself, where the carrier has no webhook; ``report_id`` makes
    a repeated report harmless."""
    shipment = await uow.repos.shipments.by_tracking_number(cmd.tracking_number)
    if shipment is None or shipment.partner != cmd.partner_scope:
        raise NotFound(f"no shipment with tracking number {cmd.tracking_number} for partner {cmd.partner_scope}")
    return await apply_report(
        ApplyReport(shipment.id, f"partner:{cmd.report_id}", cmd.report, "partner"), uow, rules=rules
    )
