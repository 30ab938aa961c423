"""Carrier reports (webhooks, polls, the partner's own reports) applied to shipments, and the scans
for silent and late shipments."""

from __future__ import annotations

import hmac
import json
import time
from datetime import datetime, timedelta
from hashlib import sha256
from typing import Any

from pydantic import ConfigDict, ValidationError

from motcua_kit.errors import AppError, Invalid, NotFound
from motcua_kit.events import (
    DeliveryAttemptFailed,
    PickupCollected,
    ResultDelivered,
    ShipmentLate,
    ShipmentReturned,
    ShipmentStatusChanged,
)
from motcua_kit.logs import get_logger
from motcua_kit.mongo import Document
from motcua_worktime import WorkCalendar
from postal import metrics, store
from postal.clients.carrier import Carrier, CarrierError, CarrierStep
from postal.domain.tracking import Report, failed_attempt, is_ahead, status_after
from postal.service.common import Rules, history_entry, load_calendar, local_day, now_utc, target_for, task, transaction
from postal.store import UoW

log = get_logger(__name__)


class WebhookRefused(AppError):
    status_code = 401
    code = "webhook_refused"


async def apply_report(uow: UoW, *, shipment_id: str, event_id: str, report: Report, source: str, rules: Rules) -> str:
    """Applies one carrier step to a shipment: ``accepted``, ``duplicate`` (this step was seen) or
    ``stale`` (the shipment is already past it). Runs inside the caller's transaction."""
    seen = uow.repos.db[store.CARRIER_EVENTS]
    key = f"{rules.carrier}:{event_id}"
    if await seen.find_one({"_id": key}, {"_id": 1}, session=uow.repos.session):
        return "duplicate"
    shipment = await uow.repos.db[store.SHIPMENTS].find_one({"_id": shipment_id}, session=uow.repos.session)
    if shipment is None:
        raise NotFound(f"no shipment {shipment_id}")
    ahead = is_ahead(report, shipment.get("carrier_status"), shipment.get("carrier_attempt"))
    now = now_utc()
    await seen.insert_one(
        {
            "_id": key,
            "shipment_id": shipment_id,
            "status": report.status,
            "source": source,
            "outcome": "accepted" if ahead else "stale",
            "received_at": now,
        },
        session=uow.repos.session,
    )
    if not ahead:
        return "stale"
    calendar = await load_calendar(uow.repos.db, uow.repos.session)
    changes, events = _effects(shipment, report, source, rules, calendar, now)
    entry = history_entry(
        changes["status"], report.at, source, attempt=report.attempt, reason=report.reason, kind=report.failure_kind
    )
    await uow.repos.db[store.SHIPMENTS].update_one(
        {"_id": shipment_id}, {"$set": changes, "$push": {"history": entry}}, session=uow.repos.session
    )
    for event in events:
        uow.publish(event)
    return "accepted"


def _effects(
    shipment: Document, report: Report, source: str, rules: Rules, calendar: WorkCalendar, now: datetime
) -> tuple[Document, list[Any]]:
    purpose = shipment["purpose"]
    tracking = shipment["tracking_number"]
    code = shipment.get("dossier_code")
    changes: Document = {
        "status": status_after(purpose, report),
        "carrier_status": report.status,
        "carrier_attempt": report.attempt or shipment.get("carrier_attempt"),
        "last_carrier_update_at": now,
        "updated_at": now,
    }
    events: list[Any] = []
    if purpose == "delivery":
        events.append(
            ShipmentStatusChanged(
                dossier_code=code,
                tracking_number=tracking,
                status=report.status,
                at=report.at,
                attempt=report.attempt,
                reason=report.reason,
                source=source,  # type: ignore[arg-type]
            )
        )
    if report.status in ("picked_up", "in_transit") and not shipment.get("target_date"):
        # J is the day the carrier took the parcel (a collection) unless the hand-over minutes came first.
        changes["target_date"] = target_for(shipment, local_day(calendar, report.at), rules)
    if report.status == "picked_up" and purpose == "pickup":
        events.append(
            PickupCollected(pickup_id=shipment["pickup_id"], collected_at=report.at, tracking_number=tracking)
        )
    if report.status == "delivery_failed" and purpose == "delivery":
        failure = failed_attempt(
            report,
            shipment.get("failures", 0),
            calendar,
            max_attempts=rules.max_attempts,
            redelivery_working_days=rules.redelivery_working_days,
        )
        changes |= {"failures": failure.failures, "next_attempt_after": failure.next_attempt_after}
        if failure.give_up:
            changes["task"] = task("request_return", now)
        metrics.record_attempt(rules.carrier, "failed")
        events.append(
            DeliveryAttemptFailed(
                dossier_code=code,
                tracking_number=tracking,
                attempt=failure.attempt,
                reason=report.reason or "Không phát được",
                failed_at=report.at,
                next_attempt_after=failure.next_attempt_after,
                kind=failure.kind,
            )
        )
    if report.status == "delivered":
        late = (
            bool(shipment.get("target_date")) and local_day(calendar, report.at).isoformat() > shipment["target_date"]
        )
        proof = report.proof
        changes |= {
            "open": False,
            "task": None,
            "late": late,
            "next_attempt_after": None,
            "delivered": {
                "at": report.at,
                "recipient_name": proof.recipient_name if proof else None,
                "relation": proof.relation if proof else None,
                "id_checked": bool(proof and proof.id_checked),
                "id_document": proof.id_document if proof else None,
            },
        }
        if purpose == "delivery":
            metrics.record_attempt(rules.carrier, "delivered")
            events.append(
                ResultDelivered(
                    dossier_code=code,
                    tracking_number=tracking,
                    delivered_at=report.at,
                    recipient_checked=bool(proof and proof.id_checked),
                    recipient_relation=proof.relation if proof else "self",
                    late=late,
                )
            )
        else:
            changes["open"] = True  # arrived at the centre: open until the hand-over minutes are signed
    if report.status == "returned_to_sender":
        reason = report.reason or "Chuyển hoàn"
        changes |= {
            "open": False,
            "task": None,
            "next_attempt_after": None,
            "returned": {"at": report.at, "reason": reason},
        }
        if purpose == "delivery":
            events.append(
                ShipmentReturned(
                    dossier_code=code,
                    tracking_number=tracking,
                    returned_at=report.at,
                    reason=reason,
                    attempts=max(shipment.get("failures", 0), report.attempt or 0),
                )
            )
    return changes, events


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


async def receive_webhook(
    uow: UoW,
    *,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    secret: str,
    tolerance_seconds: float,
    rules: Rules,
    now: float | None = None,
) -> str:
    """Checks and applies one carrier callback. Refused callbacks raise a 401, unreadable ones a 422,
    unknown tracking numbers a 404 (the carrier retries: the order may not be recorded yet)."""
    problem = verify_signature(
        secret,
        timestamp or "",
        body,
        signature or "",
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
    shipment = await uow.repos.db[store.SHIPMENTS].find_one({"tracking_number": step.tracking_number}, {"_id": 1})
    if shipment is None:
        metrics.record_webhook(rules.carrier, "unknown_shipment")
        raise NotFound(f"no shipment with tracking number {step.tracking_number}", code="unknown_shipment")
    outcome = await transaction(
        uow,
        lambda tx: apply_report(
            tx, shipment_id=shipment["_id"], event_id=step.event_id, report=step.report(), source="webhook", rules=rules
        ),
    )
    metrics.record_webhook(rules.carrier, outcome)
    metrics.record_report("webhook", outcome)
    return outcome


# --- the polling fallback and the late flag --------------------------------------------------------


async def poll_silent(uow: UoW, carrier: Carrier, rules: Rules, *, silence_seconds: float) -> int:
    """Asks the carrier about open shipments it has not reported on for ``silence_seconds``; applies
    every step it missed. Returns how many shipments were polled."""
    now = now_utc()
    threshold = now - timedelta(seconds=silence_seconds)
    candidates = (
        await uow.repos.db[store.SHIPMENTS]
        .find(
            {"open": True, "carrier_status": {"$ne": None}, "last_carrier_update_at": {"$lt": threshold}},
            {"_id": 1, "tracking_number": 1, "last_polled_at": 1},
        )
        .to_list(500)
    )
    polled = 0
    for doc in candidates:
        if doc.get("last_polled_at") and doc["last_polled_at"] >= threshold:
            continue
        # Claim it: another replica scanning at the same time skips it.
        claimed = await uow.repos.db[store.SHIPMENTS].update_one(
            {"_id": doc["_id"], "last_polled_at": doc.get("last_polled_at")}, {"$set": {"last_polled_at": now}}
        )
        if claimed.modified_count == 0:
            continue
        polled += 1
        try:
            tracking = await carrier.get_tracking(doc["tracking_number"])
        except CarrierError as exc:
            metrics.record_carrier_error(rules.carrier, "get_order", retryable=exc.retryable)
            metrics.record_poll("carrier_error")
            log.warning("tracking poll failed", error=exc.message)
            continue
        applied = 0
        for step in tracking.steps:
            outcome = await transaction(
                uow,
                lambda tx, s=step, i=doc["_id"]: apply_report(
                    tx, shipment_id=i, event_id=s.event_id, report=s.report, source="poll", rules=rules
                ),
            )
            metrics.record_report("poll", outcome)
            applied += outcome == "accepted"
        metrics.record_poll("caught_up" if applied else "nothing_new")
    return polled


async def flag_late(uow: UoW, rules: Rules) -> int:
    """Flags open shipments past their target date, once each; a result delivery publishes ShipmentLate."""
    calendar = await load_calendar(uow.repos.db)
    now = now_utc()
    today = local_day(calendar, now).isoformat()
    late = (
        await uow.repos.db[store.SHIPMENTS]
        .find({"open": True, "late": {"$ne": True}, "target_date": {"$lt": today}}, {"_id": 1})
        .to_list(1000)
    )

    async def flag(uow: UoW, shipment_id: str) -> bool:
        doc = await uow.repos.db[store.SHIPMENTS].find_one({"_id": shipment_id}, session=uow.repos.session)
        if doc is None or doc.get("late") or not doc.get("open") or doc["status"] == "arrived":
            return False
        await uow.repos.db[store.SHIPMENTS].update_one(
            {"_id": shipment_id}, {"$set": {"late": True, "late_flagged_at": now}}, session=uow.repos.session
        )
        if doc["purpose"] == "delivery":
            uow.publish(
                ShipmentLate(
                    dossier_code=doc["dossier_code"],
                    tracking_number=doc["tracking_number"],
                    target_date=datetime.fromisoformat(doc["target_date"]).date(),
                    flagged_at=now,
                )
            )
        return True

    flagged = 0
    for doc in late:
        flagged += await transaction(uow, lambda tx, i=doc["_id"]: flag(tx, i))
    return flagged


async def refresh_gauges(uow: UoW) -> None:
    """Shipments by purpose, status and carrier (open ones, and those closed in the last 30 days)."""
    counts: dict[tuple[str, str, str], int] = {}
    late: dict[tuple[str, str], int] = {}
    waiting: dict[str, int] = {}
    fields = {"purpose": 1, "status": 1, "carrier": 1, "late": 1, "open": 1, "task": 1}
    recent = now_utc() - timedelta(days=30)
    open_docs = await uow.repos.db[store.SHIPMENTS].find({"open": True}, fields).to_list(None)
    closed = (
        await uow.repos.db[store.SHIPMENTS].find({"open": False, "updated_at": {"$gte": recent}}, fields).to_list(None)
    )
    for doc in [*open_docs, *closed]:
        carrier = doc.get("carrier") or ""
        key = (doc["purpose"], doc["status"], carrier)
        counts[key] = counts.get(key, 0) + 1
        if doc.get("open") and doc.get("late"):
            late[(doc["purpose"], carrier)] = late.get((doc["purpose"], carrier), 0) + 1
        if doc.get("task"):
            waiting[doc["task"]["kind"]] = waiting.get(doc["task"]["kind"], 0) + 1
    metrics.set_shipments([(*k, n) for k, n in counts.items()], [(*k, n) for k, n in late.items()])
    metrics.set_commands_waiting(waiting)


async def report_by_partner(
    uow: UoW, *, tracking_number: str, report_id: str, report: Report, partner_scope: str, rules: Rules
) -> str:
    """The postal partner reports a step itself, where the carrier has no webhook; ``report_id`` makes
    a repeated report harmless."""
    shipment = await uow.repos.db[store.SHIPMENTS].find_one(
        {"tracking_number": tracking_number}, {"_id": 1, "partner": 1}
    )
    if shipment is None or shipment.get("partner") != partner_scope:
        raise NotFound(f"no shipment with tracking number {tracking_number} for partner {partner_scope}")
    outcome = await transaction(
        uow,
        lambda tx: apply_report(
            tx,
            shipment_id=shipment["_id"],
            event_id=f"partner:{report_id}",
            report=report,
            source="partner",
            rules=rules,
        ),
    )
    metrics.record_report("partner", outcome)
    return outcome
