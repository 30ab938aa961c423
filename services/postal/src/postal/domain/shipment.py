"""Shipments: a result carried to the citizen (purpose ``delivery``) or a dossier collected at home (a
:class:`Pickup`), with the life the carrier reports.

Each transition checks its rule, changes the state and returns the events to publish; nothing here reads
or writes anything. The stored document keeps these field names (``store.ShipmentRepository``).

Life of a delivery: ``awaiting_result`` (planned at receipt) -> ``ordering`` (resolved: the carrier order
is a task) -> ``created`` (the carrier took the order) -> ``handed_to_post`` (both signed the minutes) ->
the carrier's steps (``picked_up`` ... ``delivered`` | ``delivery_failed`` ... ``returned_to_sender``).
``order_rejected`` when the order cannot be placed (an address or phone problem, a carrier refusal).
A pickup: ``ordering`` -> ``created`` -> the carrier's steps -> ``arrived`` (at the centre) ->
``handed_over`` (both signed: reception registers the dossier).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from motcua_kit.errors import Conflict, Invalid
from motcua_kit.events import (
    DeliveryAttemptFailed,
    Event,
    PickupCollected,
    PickupHandedOver,
    PickupRequested,
    ResultDelivered,
    ResultDeliveryPlanned,
    ResultHandedToPost,
    ShipmentCreated,
    ShipmentLate,
    ShipmentReturned,
    ShipmentStatusChanged,
)
from motcua_kit.events.postal import HandedOverDocument
from motcua_kit.events.reception import Applicant
from motcua_kit.values import normalise_phone
from motcua_worktime import WorkCalendar
from postal.domain.addresses import AddressProblem, PostalAddress, parse_address
from postal.domain.tracking import Purpose, Report, failed_attempt, is_ahead, status_after
from postal.domain.transit import TransitRules, target_date

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TaskKind = Literal["create_order", "request_return"]
HandoverKind = Literal["result", "pickup"]
# What may go on hand-over minutes: results the carrier has not carried away, collections at the centre.
HANDABLE: dict[str, tuple[str, ...]] = {
    "result": ("created", "picked_up", "in_transit"),
    "pickup": ("created", "picked_up", "in_transit", "arrived"),
}
CORRECTABLE = ("awaiting_result", "ordering", "order_rejected")


def delivery_id(dossier_code: str) -> str:
    """One delivery per dossier, however many times it is resolved."""
    return f"delivery:{dossier_code}"


def pickup_shipment_id(pickup_id: str) -> str:
    return f"pickup:{pickup_id}"


def local_day(calendar: WorkCalendar, at: datetime) -> date:
    return at.astimezone(calendar.zone).date()


@dataclass(frozen=True)
class Policy:
    """The rules a shipment's life follows (from settings)."""

    transit: TransitRules = field(default_factory=TransitRules)
    max_attempts: int = 2
    redelivery_working_days: int = 2


@dataclass
class Contact:
    """A sender or recipient: the address is None while the text cannot be read as one."""

    name: str
    phone: str | None
    address: PostalAddress | None = None
    text: str | None = None


@dataclass
class Task:
    """The carrier call to make (a worker claims it under a lease)."""

    kind: TaskKind
    due_at: datetime
    attempts: int = 0
    lease_until: datetime = EPOCH
    last_error: str | None = None
    stuck: bool = False


@dataclass
class Problem:
    """What an officer must fix before the shipment can go on."""

    kind: str
    reason: str
    at: datetime | None = None


@dataclass
class Delivered:
    at: datetime
    recipient_name: str | None
    relation: str | None
    id_checked: bool
    id_document: str | None


@dataclass
class Returned:
    at: datetime
    reason: str


@dataclass
class PickupRequest:
    """What the citizen asked to be collected, and what reception needs to register it."""

    procedure_code: str
    procedure_name: str | None
    applicant: dict[str, Any]
    window_start: datetime
    window_end: datetime
    window_day: str
    return_channel: str
    delivery_address: str | None
    notify_channels: list[str]
    content: str | None
    requested_by: str


def history_entry(status: str, at: datetime, source: str, **details: Any) -> dict[str, Any]:
    return {"status": status, "at": at, "source": source, **{k: v for k, v in details.items() if v is not None}}


@dataclass
class Shipment:
    id: str
    purpose: Purpose
    centre_code: str
    carrier: str
    partner: str
    status: str
    open: bool = True
    dossier_code: str | None = None
    pickup_id: str | None = None
    sender: Contact | None = None
    recipient: Contact | None = None
    problem: Problem | None = None
    task: Task | None = None
    cod_amount_vnd: int = 0
    failures: int = 0
    late: bool = False
    note: str | None = None
    tracking_number: str | None = None
    carrier_status: str | None = None
    carrier_attempt: int | None = None
    target_date: str | None = None
    next_attempt_after: datetime | None = None
    handover_id: str | None = None
    handed_over_at: datetime | None = None
    delivered: Delivered | None = None
    returned: Returned | None = None
    pickup: PickupRequest | None = None
    appointment_at: datetime | None = None
    resolved_at: datetime | None = None
    planned_at: datetime | None = None
    requested_at: datetime | None = None
    ordered_at: datetime | None = None
    updated_at: datetime | None = None
    last_carrier_update_at: datetime | None = None
    last_polled_at: datetime | None = None
    return_requested_at: datetime | None = None
    late_flagged_at: datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0

    # --- planning and ordering a result delivery ----------------------------------------------------

    @classmethod
    def plan_delivery(
        cls,
        *,
        dossier_code: str,
        centre_code: str,
        carrier: str,
        partner: str,
        name: str,
        phone: str | None,
        address_text: str,
        appointment_at: datetime | None,
        resolved_at: datetime | None,
        now: datetime,
    ) -> tuple[Shipment, list[Event]]:
        """A citizen chose return by post: the delivery waits for the result (or, when the resolution was
        read first, is ordered at once). An unreadable address or no phone is a problem for an officer."""
        recipient = Contact(name=name, phone=normalise_phone(phone), text=address_text)
        problem = None
        try:
            recipient.address = parse_address(address_text)
        except AddressProblem as exc:
            problem = Problem("address_problem", str(exc), now)
        if recipient.phone is None:
            problem = problem or Problem("no_phone", "the applicant gave no valid phone number", now)
        status = "awaiting_result"
        if resolved_at is not None:
            status = "order_rejected" if problem else "ordering"
        shipment = cls(
            id=delivery_id(dossier_code),
            purpose="delivery",
            dossier_code=dossier_code,
            centre_code=centre_code,
            carrier=carrier,
            partner=partner,
            status=status,
            recipient=recipient,
            problem=problem,
            task=Task("create_order", now) if status == "ordering" else None,
            appointment_at=appointment_at,
            resolved_at=resolved_at,
            planned_at=now,
            updated_at=now,
            history=[history_entry(status, now, "reception")],
        )
        planned = ResultDeliveryPlanned(
            dossier_code=dossier_code, centre_code=centre_code, destination=address_text, planned_at=now
        )
        return shipment, [planned]

    def resolve(self, resolved_at: datetime, now: datetime) -> bool:
        """The result is ready: order the shipment (once), unless a problem must be fixed first."""
        if self.status != "awaiting_result":
            return False
        self.status = "order_rejected" if self.problem else "ordering"
        self.resolved_at = resolved_at
        self.task = None if self.problem else Task("create_order", now)
        self._touch(now, history_entry(self.status, now, "processing"))
        return True

    def correct_recipient(
        self, *, address_text: str, phone: str | None, name: str | None, by: str, now: datetime
    ) -> None:
        """An officer fixes the recipient before the carrier has the shipment; a refused order goes again."""
        try:
            address = parse_address(address_text)
        except AddressProblem as exc:
            raise Invalid(str(exc), code="address_problem") from exc
        assert self.recipient is not None
        normalised = normalise_phone(phone) if phone is not None else self.recipient.phone
        if phone is not None and normalised is None:
            raise Invalid("phone must be a Vietnamese phone number, like 0905123456", code="invalid_phone")
        if normalised is None:
            raise Invalid("the recipient has no valid phone number: give one", code="invalid_phone")
        if self.status not in CORRECTABLE:
            raise Conflict(
                f"the carrier already has this shipment (status {self.status}); its address can no longer change",
                code="already_ordered",
            )
        self.recipient.address = address
        self.recipient.text = address_text
        self.recipient.phone = normalised
        if name:
            self.recipient.name = name
        self.problem = None
        if self.status == "order_rejected" or (self.status == "ordering" and self.task is None):
            self.status = "ordering"
            self.task = Task("create_order", now)
        self._touch(now, history_entry("recipient_corrected", now, "centre", by=by))

    # --- the carrier calls ---------------------------------------------------------------------------

    def awaits(self, kind: TaskKind) -> bool:
        return self.task is not None and self.task.kind == kind

    def order_placed(
        self,
        *,
        tracking_number: str,
        sender: Contact,
        recipient: Contact,
        carrier: str,
        j: date,
        transit: TransitRules,
        now: datetime,
    ) -> list[Event]:
        """The carrier took the order: a delivery publishes ShipmentCreated with its estimated target."""
        if not self.awaits("create_order"):
            raise Conflict("no carrier order is waiting for this shipment", code="not_ordering")
        self.tracking_number = tracking_number
        self.status = "created"
        self.carrier_status = "created"
        self.carrier_attempt = None
        self.sender = sender
        self.recipient = recipient
        self.task = None
        self.problem = None
        self.ordered_at = now
        self.last_carrier_update_at = now
        self._touch(now, history_entry("created", now, "carrier", tracking_number=tracking_number))
        if self.purpose != "delivery":
            return []
        assert self.dossier_code is not None
        return [
            ShipmentCreated(
                dossier_code=self.dossier_code,
                tracking_number=tracking_number,
                carrier=carrier,
                target_date=date.fromisoformat(self.target_for(j, transit)),
                created_at=now,
            )
        ]

    def call_failed(
        self, kind: TaskKind, error: str, *, counted: bool, delay_seconds: float, stuck_after: int, now: datetime
    ) -> bool:
        """A retryable failure (or what the call needs is not known yet): try again later. Returns whether
        the call just became stuck (operators are told once)."""
        if self.task is None or self.task.kind != kind:
            return False
        was_stuck = self.task.stuck
        self.task.attempts += 1 if counted else 0
        self.task.due_at = now + timedelta(seconds=delay_seconds)
        self.task.lease_until = now
        self.task.last_error = error
        self.task.stuck = self.task.attempts >= stuck_after
        return self.task.stuck and not was_stuck

    def call_refused(self, kind: TaskKind, message: str, now: datetime) -> None:
        """A permanent refusal: an officer must look (a refused order can be placed again once corrected)."""
        status = "order_rejected" if kind == "create_order" else None
        if status:
            self.status = status
        self.task = None
        self.problem = Problem(f"{kind}_refused", message, now)
        self._touch(now, history_entry(status or "return_refused", now, "carrier", reason=message))

    def return_requested(self, now: datetime) -> None:
        if not self.awaits("request_return"):
            return
        self.task = None
        self.return_requested_at = now
        self.history.append(history_entry("return_requested", now, "postal"))

    # --- the carrier's reports -----------------------------------------------------------------------

    def accepts(self, report: Report) -> bool:
        """Whether the report moves the shipment forward (else it is stale: it changes nothing)."""
        return is_ahead(report, self.carrier_status, self.carrier_attempt)

    def apply(
        self, report: Report, *, source: str, calendar: WorkCalendar, policy: Policy, now: datetime
    ) -> list[Event]:
        """Applies one carrier step that is ahead of what is known; returns the events to publish.

        Attempts are ordered, delivered and returned to sender are final; a failed attempt schedules the
        next on the n-th working day, or asks for the return after the last attempt or a refusal; a
        delivery after the target date is late.
        """
        if not self.accepts(report):
            raise Conflict("the shipment is already past this step", code="stale_report")
        tracking = self.tracking_number or ""
        code = self.dossier_code or ""
        delivery = self.purpose == "delivery"
        self.status = status_after(self.purpose, report)
        self.carrier_status = report.status
        self.carrier_attempt = report.attempt or self.carrier_attempt
        self.last_carrier_update_at = now
        self.updated_at = now
        events: list[Event] = []
        if delivery:
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
        if report.status in ("picked_up", "in_transit") and not self.target_date:
            # J is the day the carrier took the parcel (a collection) unless the hand-over minutes came first.
            self.target_date = self.target_for(local_day(calendar, report.at), policy.transit)
        if report.status == "picked_up" and not delivery:
            assert self.pickup_id is not None
            events.append(PickupCollected(pickup_id=self.pickup_id, collected_at=report.at, tracking_number=tracking))
        if report.status == "delivery_failed" and delivery:
            failure = failed_attempt(
                report,
                self.failures,
                calendar,
                max_attempts=policy.max_attempts,
                redelivery_working_days=policy.redelivery_working_days,
            )
            self.failures = failure.failures
            self.next_attempt_after = failure.next_attempt_after
            if failure.give_up:
                self.task = Task("request_return", now)
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
            late = bool(self.target_date) and local_day(calendar, report.at).isoformat() > (self.target_date or "")
            proof = report.proof
            # A collection arrived at the centre: open until the hand-over minutes are signed.
            self.open = not delivery
            self.task = None
            self.late = late
            self.next_attempt_after = None
            self.delivered = Delivered(
                at=report.at,
                recipient_name=proof.recipient_name if proof else None,
                relation=proof.relation if proof else None,
                id_checked=bool(proof and proof.id_checked),
                id_document=proof.id_document if proof else None,
            )
            if delivery:
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
        if report.status == "returned_to_sender":
            reason = report.reason or "Chuyển hoàn"
            self.open = False
            self.task = None
            self.next_attempt_after = None
            self.returned = Returned(at=report.at, reason=reason)
            if delivery:
                events.append(
                    ShipmentReturned(
                        dossier_code=code,
                        tracking_number=tracking,
                        returned_at=report.at,
                        reason=reason,
                        attempts=max(self.failures, report.attempt or 0),
                    )
                )
        self.history.append(
            history_entry(
                self.status, report.at, source, attempt=report.attempt, reason=report.reason, kind=report.failure_kind
            )
        )
        return events

    def is_late_on(self, today: date) -> bool:
        """Open, past its target date, and not flagged yet (a collection at the centre is not late)."""
        return (
            self.open
            and not self.late
            and self.status != "arrived"
            and bool(self.target_date)
            and (self.target_date or "") < today.isoformat()
        )

    def flag_late(self, today: date, now: datetime) -> list[Event]:
        """Flags the shipment late once; a result delivery publishes ShipmentLate."""
        if not self.is_late_on(today):
            return []
        self.late = True
        self.late_flagged_at = now
        if self.purpose != "delivery":
            return []
        assert self.dossier_code is not None and self.target_date is not None
        return [
            ShipmentLate(
                dossier_code=self.dossier_code,
                tracking_number=self.tracking_number or "",
                target_date=date.fromisoformat(self.target_date),
                flagged_at=now,
            )
        ]

    # --- hand-over minutes ---------------------------------------------------------------------------

    def put_on_minutes(self, handover_id: str, kind: HandoverKind) -> None:
        """Listed on hand-over minutes: once, and only while it can still change hands."""
        ref = self.tracking_number if kind == "result" else self.pickup_id
        if self.handover_id or self.handed_over_at:
            raise Conflict(f"{ref} is already on hand-over minutes {self.handover_id}", code="already_listed")
        if self.status not in HANDABLE[kind]:
            raise Conflict(f"{ref} cannot be handed over: its status is {self.status}", code="not_handable")
        self.handover_id = handover_id

    def off_minutes(self, handover_id: str) -> None:
        """The minutes were rejected: the shipment can go on new minutes."""
        if self.handover_id == handover_id:
            self.handover_id = None

    def hand_to_post(self, *, j: date, transit: TransitRules, now: datetime) -> list[Event]:
        """Both signed: the result is the post's now; J for the transit target unless the carrier's came first."""
        assert self.dossier_code is not None
        target = self.target_date or self.target_for(j, transit)
        self.handed_over_at = now
        self.target_date = target
        if self.status == "created":
            self.status = "handed_to_post"
        self._touch(now, history_entry("handed_to_post", now, "handover"))
        return [
            ResultHandedToPost(
                dossier_code=self.dossier_code,
                tracking_number=self.tracking_number or "",
                handed_over_at=now,
                target_date=date.fromisoformat(target),
            )
        ]

    # --- helpers -------------------------------------------------------------------------------------

    def target_for(self, j: date, transit: TransitRules) -> str:
        """The transit target (ISO date) when J is ``j``: a collection also carries the appointment slip."""
        assert self.sender is not None and self.recipient is not None
        assert self.sender.address is not None and self.recipient.address is not None
        return target_date(
            j, self.sender.address, self.recipient.address, transit, with_appointment_slip=self.purpose == "pickup"
        ).isoformat()

    def as_dict(self) -> dict[str, Any]:
        """The shipment as plain values (what the API shows and the store keeps)."""
        return asdict(self)

    def _touch(self, now: datetime, entry: dict[str, Any]) -> None:
        self.updated_at = now
        self.history.append(entry)


@dataclass
class Pickup(Shipment):
    """A home collection: a shipment from the citizen to the centre, registered at reception once handed over."""

    @property
    def request(self) -> PickupRequest:
        assert self.pickup is not None
        return self.pickup

    @classmethod
    def requested(
        cls,
        *,
        pickup_id: str,
        centre_code: str,
        carrier: str,
        partner: str,
        sender: Contact,
        request: PickupRequest,
        cod_amount_vnd: int,
        note: str | None,
        source: str,
        now: datetime,
    ) -> tuple[Pickup, list[Event]]:
        pickup = cls(
            id=pickup_shipment_id(pickup_id),
            purpose="pickup",
            pickup_id=pickup_id,
            centre_code=centre_code,
            carrier=carrier,
            partner=partner,
            status="ordering",
            sender=sender,
            cod_amount_vnd=cod_amount_vnd,
            task=Task("create_order", now),
            note=note,
            pickup=request,
            requested_at=now,
            updated_at=now,
            history=[history_entry("requested", now, source)],
        )
        event = PickupRequested(
            pickup_id=pickup_id,
            centre_code=centre_code,
            procedure_code=request.procedure_code,
            requested_at=now,
            window_start=request.window_start,
            window_end=request.window_end,
        )
        return pickup, [event]

    def hand_over(
        self,
        *,
        documents: list[dict[str, Any]],
        fees_collected_vnd: int,
        officer: str,
        postal_worker: str,
        now: datetime,
    ) -> list[Event]:
        """Both signed: the collected dossier is the centre's; reception registers it, the clock starts now."""
        p = self.request
        assert self.pickup_id is not None
        self.status = "handed_over"
        self.handed_over_at = now
        self.open = False
        self.task = None
        self._touch(now, history_entry("handed_over", now, "handover"))
        return [
            PickupHandedOver(
                pickup_id=self.pickup_id,
                centre_code=self.centre_code,
                procedure_code=p.procedure_code,
                applicant=Applicant.model_validate(p.applicant),
                documents=[HandedOverDocument.model_validate(d) for d in documents],
                return_channel=p.return_channel,  # type: ignore[arg-type]
                delivery_address=p.delivery_address,
                notify_channels=p.notify_channels,  # type: ignore[arg-type]
                content=p.content,
                handed_over_at=now,
                officer=officer,
                postal_worker=postal_worker,
                fees_collected_vnd=fees_collected_vnd,
            )
        ]
