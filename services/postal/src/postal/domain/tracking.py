"""The shipment's life: what a carrier report changes, in any order, any number of times.

Carriers deliver callbacks at least once and not always in order, and the polling fallback reads the
same steps again. A report moves a shipment only forward: steps are ranked within a delivery
attempt, attempts in their order, and delivered / returned to sender are final. A report that is not
ahead of what is known is stale and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

from motcua_worktime import WorkCalendar

Purpose = Literal["delivery", "pickup"]
CarrierStatus = Literal[
    "created", "picked_up", "in_transit", "out_for_delivery", "delivered", "delivery_failed", "returned_to_sender"
]
FailureKind = Literal["recipient_absent", "address_problem", "refused", "other"]

STATUS_RANK: dict[str, int] = {
    "created": 0,
    "picked_up": 1,
    "in_transit": 2,
    "out_for_delivery": 3,
    "delivery_failed": 4,
    "delivered": 5,
    "returned_to_sender": 5,
}
"""The carrier's statuses in order within one delivery attempt: a failed attempt comes after going out for
delivery, and the next attempt (attempt + 1) goes out again. The one definition for the client and the
shipment; the carrier stand-in is checked against it by a test."""
FINAL = frozenset({"delivered", "returned_to_sender"})

# Postal's own statuses around the carrier's: before the order, and the hand-overs at the centre.
DELIVERY_OPEN = ("awaiting_result", "ordering", "order_rejected", "created")
PICKUP_OPEN = ("ordering", "order_rejected", "created")


@dataclass(frozen=True)
class Proof:
    """How the recipient was identified at delivery (never the ID number itself)."""

    recipient_name: str
    relation: Literal["self", "authorised"]
    id_checked: bool
    id_document: str | None = None


@dataclass(frozen=True)
class Report:
    """One step of a shipment's life as the carrier (or the postal partner) reported it."""

    status: CarrierStatus
    at: datetime
    attempt: int | None = None
    reason: str | None = None
    failure_kind: FailureKind | None = None
    proof: Proof | None = None


def _position(status: str, attempt: int | None) -> tuple[int, int]:
    """(delivery attempt, rank of the step in it); the steps before the first attempt are attempt 0."""
    before_delivery = status in ("created", "picked_up", "in_transit")
    return (0 if before_delivery else attempt or 0), STATUS_RANK[status]


def is_ahead(report: Report, known_status: str | None, known_attempt: int | None) -> bool:
    """Whether ``report`` moves the shipment forward from the last carrier step known."""
    if known_status is None:
        return True
    if known_status in FINAL:
        return False
    if report.status in FINAL:
        return True
    return _position(report.status, report.attempt) > _position(known_status, known_attempt)


def status_after(purpose: Purpose, report: Report) -> str:
    """Postal's status once ``report`` is applied. A collected dossier that reached the centre has
    'arrived' and waits for the hand-over minutes."""
    if purpose == "pickup" and report.status == "delivered":
        return "arrived"
    return report.status


@dataclass(frozen=True)
class FailedAttempt:
    attempt: int
    failures: int
    next_attempt_after: datetime | None
    kind: FailureKind

    @property
    def give_up(self) -> bool:
        return self.next_attempt_after is None


def failed_attempt(
    report: Report,
    failures_so_far: int,
    calendar: WorkCalendar,
    *,
    max_attempts: int,
    redelivery_working_days: int,
) -> FailedAttempt:
    """A failed delivery: the next attempt on the ``redelivery_working_days``-th working day after the
    failure's day, or none left (after ``max_attempts`` failures, or when the recipient refused): the
    result goes back."""
    attempt = report.attempt or failures_so_far + 1
    failures = max(failures_so_far + 1, attempt)
    kind: FailureKind = report.failure_kind or "other"
    if kind == "refused" or failures >= max_attempts:
        return FailedAttempt(attempt, failures, None, kind)
    return FailedAttempt(attempt, failures, next_attempt_from(calendar, report.at, redelivery_working_days), kind)


def next_attempt_from(calendar: WorkCalendar, failed_at: datetime, working_days: int) -> datetime:
    """The start of the ``working_days``-th working day after the day of ``failed_at``: attempts
    are that many working days apart whatever the hour of the failure."""
    day = failed_at.astimezone(calendar.zone).date()
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        counted += calendar.is_working_day(day)
    return calendar.next_working_instant(datetime.combine(day, time(0), calendar.zone))


Party = Literal["centre", "postal"]


def party_of(role: str) -> Party:
    return "postal" if role == "postal_partner" else "centre"


def confirmation_problem(prepared_by: Party, confirming: Party) -> str | None:
    """Hand-over minutes are signed by both sides: the side that did not prepare them confirms."""
    if prepared_by == confirming:
        other = "the postal partner" if prepared_by == "centre" else "a counter officer of the centre"
        return f"these minutes were prepared by the {prepared_by} side; {other} must confirm them"
    return None
