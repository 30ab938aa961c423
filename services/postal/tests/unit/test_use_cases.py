"""Postal's use cases on the kit's fake unit of work and in-memory repositories: no server."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Conflict, NotFound
from motcua_kit.events import (
    DeliveryAttemptFailed,
    PickupHandedOver,
    PickupRequested,
    ResultDeliveryPlanned,
    ShipmentCreated,
    ShipmentReturned,
    ShipmentStatusChanged,
)
from motcua_kit.testing import FakeUnitOfWork, InMemoryRepository
from postal.clients.carrier import OrderAck
from postal.domain.addresses import PostalAddress
from postal.domain.catalogue import Centre, Procedure
from postal.domain.handovers import HandoverMinutes
from postal.domain.shipment import Pickup, Shipment, pickup_shipment_id
from postal.domain.tracking import Report
from postal.domain.transit import TransitRules
from postal.service import commands, deliveries, handovers, pickups, tracking
from postal.service.common import Rules
from postal.settings import CarrierSettings, PostalSettings

RULES = Rules(carrier="vnpost", partner="VNPOST-KHH", transit=TransitRules(), max_attempts=2, redelivery_working_days=2)
CENTRE = "000.00.06.H56"
CODE = f"{CENTRE}-261203-0001"
HOME = "12 Trần Phú, phường Nha Trang, tỉnh Khánh Hòa"
SECRET = "s3cret"
OFFICER = Principal(subject="officer-lan", role=Role.COUNTER_OFFICER, scope=CENTRE, name="Lan")
POSTMAN = Principal(subject="postman-binh", role=Role.POSTAL_PARTNER, scope="VNPOST-KHH", name="Bình")


# --- in-memory repositories ------------------------------------------------------------------------------


class FakeShipments(InMemoryRepository[Shipment]):
    def key(self, aggregate: Shipment) -> str:
        return aggregate.id

    async def exists(self, shipment_id: str) -> bool:
        return shipment_id in self.items

    def _first(self, **match: Any) -> Shipment | None:
        for item in self.items.values():
            if all(getattr(item, k) == v for k, v in match.items()):
                return copy.deepcopy(item)
        return None

    async def by_tracking_number(self, tracking_number: str) -> Shipment | None:
        return self._first(tracking_number=tracking_number)

    async def by_reference(self, purpose: str, field: str, value: str) -> Shipment | None:
        return self._first(purpose=purpose, **{field: value})

    async def claim_due_task(self, now: datetime, lease_until: datetime) -> Shipment | None:
        due = [s for s in self.items.values() if s.task and s.task.due_at <= now and s.task.lease_until <= now]
        if not due:
            return None
        claimed = min(due, key=lambda s: s.task.due_at)  # type: ignore[union-attr]
        claimed.task.lease_until = lease_until  # type: ignore[union-attr]
        claimed.version += 1
        return copy.deepcopy(claimed)


class FakePickups:
    """Pickups live with the shipments, as in the database."""

    def __init__(self, shipments: FakeShipments) -> None:
        self.shipments = shipments

    async def get(self, pickup_id: str) -> Pickup | None:
        found = await self.shipments.get(pickup_shipment_id(pickup_id))
        return found if isinstance(found, Pickup) else None

    async def add(self, pickup: Pickup) -> None:
        await self.shipments.add(pickup)


class FakeHandovers(InMemoryRepository[HandoverMinutes]):
    def key(self, aggregate: HandoverMinutes) -> str:
        return aggregate.id


class Table:
    """A plain key-value collection that rolls back with the unit of work."""

    def __init__(self, items: dict[str, Any] | None = None) -> None:
        self.items: dict[str, Any] = dict(items or {})
        self._snapshot: dict[str, Any] | None = None

    def snapshot(self) -> None:
        self._snapshot = copy.deepcopy(self.items)

    def restore(self) -> None:
        if self._snapshot is not None:
            self.items = self._snapshot
        self._snapshot = None


class FakeCarrierEvents(Table):
    async def seen(self, key: str) -> bool:
        return key in self.items

    async def record(self, key: str, **fields: Any) -> None:
        self.items[key] = fields


class FakeResolutions(Table):
    async def resolved_at(self, code: str) -> datetime | None:
        return self.items.get(code)

    async def remember(self, code: str, resolved_at: datetime, now: datetime) -> None:
        self.items.setdefault(code, resolved_at)


class FakeKeys(Table):
    async def get(self, key: str) -> tuple[str, str] | None:
        return self.items.get(key)

    async def add(self, key: str, *, shipment_id: str, fingerprint: str, at: datetime) -> None:
        self.items[key] = (shipment_id, fingerprint)


class FakeCatalogue(Table):
    async def get(self, code: str) -> Any:
        return self.items.get(code)

    async def put(self, value: Any) -> None:
        self.items[value.code] = value


class FakeCalendar:
    async def config(self) -> dict[str, Any] | None:
        return None  # the statutory calendar


@dataclass
class FakeRepositories:
    shipments: FakeShipments = field(default_factory=FakeShipments)
    handovers: FakeHandovers = field(default_factory=FakeHandovers)
    carrier_events: FakeCarrierEvents = field(default_factory=FakeCarrierEvents)
    resolutions: FakeResolutions = field(default_factory=FakeResolutions)
    pickup_keys: FakeKeys = field(default_factory=FakeKeys)
    centres: FakeCatalogue = field(default_factory=FakeCatalogue)
    procedures: FakeCatalogue = field(default_factory=FakeCatalogue)
    calendar: FakeCalendar = field(default_factory=FakeCalendar)
    pickups: FakePickups = field(init=False)

    def __post_init__(self) -> None:
        self.pickups = FakePickups(self.shipments)


@pytest.fixture
def uow() -> FakeUnitOfWork[FakeRepositories]:
    repos = FakeRepositories()
    repos.centres.items[CENTRE] = Centre(
        code=CENTRE,
        name="Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa",
        level="province",
        address="26 Hoàng Hoa Thám, phường Nha Trang, tỉnh Khánh Hòa",
        phone="0258 3568 686",
    )
    repos.procedures.items["1.012753"] = Procedure(
        code="1.012753", name="Đăng ký đất đai", version=1, postal_intake=True, postal_return=True, fees_vnd=50000
    )
    return FakeUnitOfWork(repos, producer="postal")


# --- helpers ---------------------------------------------------------------------------------------------


def received(code: str = CODE, **changes: Any) -> deliveries.PlanDelivery:
    values: dict[str, Any] = {
        "dossier_code": code,
        "centre_code": CENTRE,
        "return_channel": "post",
        "recipient_name": "Nguyễn Văn An",
        "recipient_phone": "0905 123 456",
        "address_text": HOME,
    }
    return deliveries.PlanDelivery(**(values | changes))


class FakeCarrier:
    code = "vnpost"

    def __init__(self) -> None:
        self.orders: list[Any] = []
        self.returns: list[tuple[str, str]] = []

    async def create_order(self, order: Any) -> OrderAck:
        self.orders.append(order)
        return OrderAck(tracking_number=f"EB{len(self.orders):09d}VN", created=True)

    async def get_tracking(self, tracking_number: str) -> Any:
        raise AssertionError("not polled in these tests")

    async def request_return(self, tracking_number: str, reason: str) -> None:
        self.returns.append((tracking_number, reason))


def settings() -> PostalSettings:
    return PostalSettings.model_construct(
        carrier=CarrierSettings.model_construct(
            code="vnpost",
            partner="VNPOST-KHH",
            api_key="k",
            webhook_secret=SECRET,
            webhook_url=None,
            service_type="HCC",
            delivery_weight_grams=300,
            pickup_weight_grams=800,
        ),
        transit=TransitRules(),
        max_delivery_attempts=2,
        redelivery_working_days=2,
        command_lease_seconds=60.0,
        command_backoff_initial_seconds=5.0,
        command_backoff_max_seconds=300.0,
        command_alert_after_attempts=10,
    )


async def ordered_delivery(uow: FakeUnitOfWork[FakeRepositories], carrier: FakeCarrier) -> Shipment:
    await deliveries.plan(received(), uow, rules=RULES)
    await deliveries.record_resolution(deliveries.RecordResolution(CODE, datetime.now(UTC)), uow)
    assert await commands.run_due(uow, carrier, settings()) == 1
    shipment = await uow.repos.shipments.get(f"delivery:{CODE}")
    assert shipment is not None and shipment.status == "created"
    return shipment


def step(shipment: Shipment, event_id: str, status: str, attempt: int | None = None, **extra: Any) -> Any:
    report = Report(status=status, at=datetime.now(UTC), attempt=attempt, **extra)  # type: ignore[arg-type]
    return tracking.ApplyReport(shipment.id, event_id, report, "webhook")


# --- result delivery -------------------------------------------------------------------------------------


async def test_a_resolution_orders_the_shipment_once(uow: FakeUnitOfWork[FakeRepositories]) -> None:
    planned = await deliveries.plan(received(), uow, rules=RULES)
    assert planned is not None and planned.status == "awaiting_result"
    assert await deliveries.plan(received(), uow, rules=RULES) is None  # the receipt read again
    assert await deliveries.plan(received("other", return_channel="counter"), uow, rules=RULES) is None
    assert [type(e) for e in uow.events] == [ResultDeliveryPlanned]

    resolution = deliveries.RecordResolution(CODE, datetime.now(UTC))
    assert await deliveries.record_resolution(resolution, uow) is True
    assert await deliveries.record_resolution(resolution, uow) is False
    [shipment] = uow.repos.shipments.all()
    assert shipment.status == "ordering" and shipment.task is not None and shipment.task.kind == "create_order"
    assert [h["status"] for h in shipment.history] == ["awaiting_result", "ordering"]

    carrier = FakeCarrier()
    assert await commands.run_due(uow, carrier, settings()) == 1
    assert await commands.run_due(uow, carrier, settings()) == 0  # nothing left to call
    [order] = carrier.orders
    assert order.order_number == CODE and order.sender.phone == "02583568686"
    assert order.recipient.commune == "phường Nha Trang"
    [created] = uow.events_of(ShipmentCreated)
    assert created.tracking_number == "EB000000001VN" and created.dossier_code == CODE
    # The order recorded again (another replica, a retried call) changes nothing.
    again = commands.RecordOrder(shipment.id, "EB000000001VN", order.sender, order.recipient)
    assert await commands.record_order(again, uow, rules=RULES) is False  # type: ignore[arg-type]
    assert len(uow.events_of(ShipmentCreated)) == 1


async def test_a_resolution_read_before_the_receipt_is_remembered(uow: FakeUnitOfWork[FakeRepositories]) -> None:
    assert await deliveries.record_resolution(deliveries.RecordResolution(CODE, datetime.now(UTC)), uow) is False
    planned = await deliveries.plan(received(), uow, rules=RULES)
    assert planned is not None and planned.status == "ordering" and planned.awaits("create_order")


async def test_a_write_conflict_runs_the_use_case_again_and_publishes_once(
    uow: FakeUnitOfWork[FakeRepositories],
) -> None:
    uow.fail_commits(1)
    await deliveries.plan(received(), uow, rules=RULES)
    assert uow.rolled_back == 1 and uow.committed == 1
    assert len(uow.events_of(ResultDeliveryPlanned)) == 1 and len(uow.repos.shipments.all()) == 1


async def test_a_webhook_step_is_applied_once(uow: FakeUnitOfWork[FakeRepositories]) -> None:
    shipment = await ordered_delivery(uow, FakeCarrier())
    body = json.dumps(
        {
            "event_id": "ev-1",
            "tracking_number": shipment.tracking_number,
            "status": "picked_up",
            "at": datetime.now(UTC).isoformat(),
        }
    ).encode()
    now = 1_800_000_000
    signature = hmac.new(SECRET.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()

    async def deliver() -> str:
        return await tracking.receive_webhook(
            tracking.CarrierCallback(body, str(now), signature),
            uow,
            secret=SECRET,
            tolerance_seconds=300,
            rules=RULES,
            now=now,
        )

    with pytest.raises(tracking.WebhookRefused):
        await tracking.receive_webhook(
            tracking.CarrierCallback(body, str(now), "0" * 64), uow, secret=SECRET, tolerance_seconds=300, rules=RULES
        )
    assert await deliver() == "accepted"
    assert await deliver() == "duplicate"
    [changed] = uow.events_of(ShipmentStatusChanged)
    assert changed.status == "picked_up" and changed.source == "webhook"
    stored = await uow.repos.shipments.get(shipment.id)
    assert stored is not None and stored.status == "picked_up" and stored.target_date is not None
    assert [h["status"] for h in stored.history].count("picked_up") == 1
    # A step the shipment is past is recorded as seen and changes nothing.
    assert await tracking.apply_report(step(stored, "ev-0", "created"), uow, rules=RULES) == "stale"
    assert uow.repos.carrier_events.items["vnpost:ev-0"]["outcome"] == "stale"
    assert len(uow.events_of(ShipmentStatusChanged)) == 1
    with pytest.raises(NotFound):
        await tracking.report_by_partner(
            tracking.PartnerReport("EB999VN", "report-0001", step(stored, "x", "in_transit").report, "VNPOST-KHH"),
            uow,
            rules=RULES,
        )


async def test_two_failed_attempts_send_the_result_back(uow: FakeUnitOfWork[FakeRepositories]) -> None:
    carrier = FakeCarrier()
    shipment = await ordered_delivery(uow, carrier)
    for n, (status, attempt, extra) in enumerate(
        [
            ("picked_up", None, {}),
            ("in_transit", None, {}),
            ("out_for_delivery", 1, {}),
            ("delivery_failed", 1, {"failure_kind": "recipient_absent"}),
            ("out_for_delivery", 2, {}),
            ("delivery_failed", 2, {"failure_kind": "address_problem"}),
        ]
    ):
        assert await tracking.apply_report(step(shipment, f"ev-{n}", status, attempt, **extra), uow, rules=RULES) == (
            "accepted"
        )
    failures = uow.events_of(DeliveryAttemptFailed)
    assert [(f.attempt, f.kind, f.next_attempt_after is None) for f in failures] == [
        (1, "recipient_absent", False),
        (2, "address_problem", True),
    ]
    stored = await uow.repos.shipments.get(shipment.id)
    assert stored is not None and stored.failures == 2 and stored.awaits("request_return")

    # The carrier-call loop asks for the return, once.
    assert await commands.run_due(uow, carrier, settings()) == 1
    assert carrier.returns == [(shipment.tracking_number, carrier.returns[0][1])]
    assert "2 lần" in carrier.returns[0][1]
    stored = await uow.repos.shipments.get(shipment.id)
    assert stored is not None and stored.task is None and stored.return_requested_at is not None

    back = step(shipment, "ev-9", "returned_to_sender", reason="Hết số lần phát, chuyển hoàn")
    assert await tracking.apply_report(back, uow, rules=RULES) == "accepted"
    [returned] = uow.events_of(ShipmentReturned)
    assert returned.attempts == 2 and returned.tracking_number == shipment.tracking_number
    stored = await uow.repos.shipments.get(shipment.id)
    assert stored is not None and stored.status == "returned_to_sender" and not stored.open


async def test_the_recipient_is_corrected_before_the_order_only(uow: FakeUnitOfWork[FakeRepositories]) -> None:
    await deliveries.plan(received(recipient_phone=None), uow, rules=RULES)
    await deliveries.record_resolution(deliveries.RecordResolution(CODE, datetime.now(UTC)), uow)
    [rejected] = uow.repos.shipments.all()
    assert rejected.status == "order_rejected" and rejected.problem is not None
    fix = deliveries.CorrectRecipient(CODE, OFFICER, HOME, phone="0905123456")
    fixed = await deliveries.correct_recipient(fix, uow)
    assert fixed.status == "ordering" and fixed.problem is None and fixed.awaits("create_order")
    other = Principal(subject="x", role=Role.COUNTER_OFFICER, scope="000.00.07.H56")
    with pytest.raises(NotFound):
        await deliveries.correct_recipient(deliveries.CorrectRecipient(CODE, other, HOME), uow)


# --- home collection and hand-over minutes ---------------------------------------------------------------


def pickup_order(**changes: Any) -> pickups.PickupOrder:
    start = datetime.now(UTC) + timedelta(days=1)
    values: dict[str, Any] = {
        "centre_code": CENTRE,
        "procedure_code": "1.012753",
        "applicant": {"full_name": "Trần Thị Bình", "phone": "+84 914 222 333"},
        "address": PostalAddress(street="45 Lê Thánh Tôn", commune="phường Nha Trang", province="tỉnh Khánh Hòa"),
        "window_start": start,
        "window_end": start + timedelta(hours=2),
        "contact_phone": "0914.222.333",
        "return_channel": "post",
        "delivery_address": None,
        "notify_channels": ["sms"],
        "content": None,
        "note": None,
    }
    return pickups.PickupOrder(**(values | changes))


async def test_a_pickup_request_with_the_same_key_gives_the_same_pickup(
    uow: FakeUnitOfWork[FakeRepositories],
) -> None:
    order = pickup_order()
    first = await pickups.request_pickup(pickups.RequestPickup(order, idempotency_key="k1"), uow, rules=RULES)
    again = await pickups.request_pickup(pickups.RequestPickup(order, idempotency_key="k1"), uow, rules=RULES)
    assert again.pickup_id == first.pickup_id and len(uow.repos.shipments.all()) == 1
    assert first.sender is not None and first.sender.phone == "0914222333" and first.cod_amount_vnd == 50000
    assert first.request.applicant["phone"] == "0914222333"
    assert len(uow.events_of(PickupRequested)) == 1
    with pytest.raises(Conflict):
        await pickups.request_pickup(
            pickups.RequestPickup(pickup_order(note="another"), idempotency_key="k1"), uow, rules=RULES
        )


async def test_a_pickup_handed_over_publishes_pickup_handed_over(uow: FakeUnitOfWork[FakeRepositories]) -> None:
    pickup = await pickups.request_pickup(pickups.RequestPickup(pickup_order()), uow, rules=RULES)
    carrier = FakeCarrier()
    assert await commands.run_due(uow, carrier, settings()) == 1
    assert carrier.orders[0].purpose == "pickup" and carrier.orders[0].recipient.address == "26 Hoàng Hoa Thám"
    for n, status in enumerate(("picked_up", "in_transit", "delivered")):
        assert await tracking.apply_report(step(pickup, f"p-{n}", status), uow, rules=RULES) == "accepted"
    arrived = await uow.repos.pickups.get(pickup.pickup_id)
    assert arrived is not None and arrived.status == "arrived" and arrived.open

    documents = [{"name": "Đơn đăng ký", "originals": 1, "copies": 0}]
    prepared = await handovers.prepare(
        handovers.PrepareHandover(
            principal=POSTMAN,
            kind="pickup",
            centre_code=CENTRE,
            pickups=[handovers.PickupItem(pickup.pickup_id or "", documents, 50000)],
        ),
        uow,
        rules=RULES,
    )
    assert prepared.status == "awaiting_confirmation" and prepared.prepared_by["party"] == "postal"
    assert not uow.events_of(PickupHandedOver)  # one signature is not a hand-over
    with pytest.raises(Conflict):  # already on these minutes
        await handovers.prepare(
            handovers.PrepareHandover(
                principal=POSTMAN,
                kind="pickup",
                centre_code=CENTRE,
                pickups=[handovers.PickupItem(pickup.pickup_id or "", documents)],
            ),
            uow,
            rules=RULES,
        )

    signed = await handovers.confirm(handovers.ConfirmHandover(prepared.id, OFFICER), uow, rules=RULES)
    assert signed.status == "signed" and signed.confirmed_by is not None
    [handed] = uow.events_of(PickupHandedOver)
    assert (handed.pickup_id, handed.centre_code, handed.officer, handed.postal_worker) == (
        pickup.pickup_id,
        CENTRE,
        "officer-lan",
        "Bình",
    )
    assert handed.fees_collected_vnd == 50000 and [d.name for d in handed.documents] == ["Đơn đăng ký"]
    assert handed.applicant.phone == "0914222333"
    done = await uow.repos.pickups.get(pickup.pickup_id)
    assert done is not None and done.status == "handed_over" and not done.open
    with pytest.raises(Conflict):  # signed minutes are closed
        await handovers.confirm(handovers.ConfirmHandover(prepared.id, OFFICER), uow, rules=RULES)
    assert len(uow.events_of(PickupHandedOver)) == 1
