"""The Shipment and Pickup aggregates and the hand-over minutes: every transition, no server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from motcua_kit.errors import Conflict, Forbidden, Invalid
from motcua_kit.events import (
    DeliveryAttemptFailed,
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
from motcua_worktime import WorkCalendar
from postal.domain.addresses import parse_address
from postal.domain.handovers import HandoverMinutes
from postal.domain.shipment import Contact, Pickup, PickupRequest, Policy, Shipment
from postal.domain.tracking import Proof, Report
from postal.domain.transit import TransitRules

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Thursday 09:00 in Vietnam
CENTRE_ADDRESS = "26 Hoàng Hoa Thám, phường Nha Trang, tỉnh Khánh Hòa"
HOME = "12 Trần Phú, phường Nha Trang, tỉnh Khánh Hòa"
FAR = "1 Tràng Tiền, phường Hoàn Kiếm, thành phố Hà Nội"
CALENDAR = WorkCalendar()
POLICY = Policy(transit=TransitRules(), max_attempts=2, redelivery_working_days=2)


def planned(address: str = HOME, phone: str | None = "0905 123 456", resolved_at: datetime | None = None) -> Shipment:
    shipment, _ = Shipment.plan_delivery(
        dossier_code="000.00.06.H56-261203-0001",
        centre_code="000.00.06.H56",
        carrier="vnpost",
        partner="VNPOST-KHH",
        name="Nguyễn Văn An",
        phone=phone,
        address_text=address,
        appointment_at=None,
        resolved_at=resolved_at,
        now=NOW,
    )
    return shipment


def centre() -> Contact:
    return Contact(name="Trung tâm", phone="02583568686", address=parse_address(CENTRE_ADDRESS))


def ordered(address: str = HOME) -> Shipment:
    shipment = planned(address)
    shipment.resolve(NOW, NOW)
    assert shipment.recipient is not None
    shipment.order_placed(
        tracking_number="EB000000001VN",
        sender=centre(),
        recipient=shipment.recipient,
        carrier="vnpost",
        j=date(2026, 12, 3),
        transit=POLICY.transit,
        now=NOW,
    )
    return shipment


def step(status: str, attempt: int | None = None, *, at: datetime = NOW, **extra: object) -> Report:
    return Report(status=status, at=at, attempt=attempt, **extra)  # type: ignore[arg-type]


def apply(shipment: Shipment, report: Report, source: str = "webhook") -> list[object]:
    return list(shipment.apply(report, source=source, calendar=CALENDAR, policy=POLICY, now=NOW))


# --- planning, resolution, correction -------------------------------------------------------------------


def test_a_delivery_is_planned_waiting_for_the_result_and_ordered_once_resolved() -> None:
    shipment, events = Shipment.plan_delivery(
        dossier_code="D1",
        centre_code="C1",
        carrier="vnpost",
        partner="P",
        name="An",
        phone="+84 905.123.456",
        address_text=HOME,
        appointment_at=None,
        resolved_at=None,
        now=NOW,
    )
    assert (shipment.id, shipment.status, shipment.task, shipment.problem) == (
        "delivery:D1",
        "awaiting_result",
        None,
        None,
    )
    assert shipment.recipient is not None and shipment.recipient.phone == "0905123456"
    assert [type(e) for e in events] == [ResultDeliveryPlanned]
    assert shipment.resolve(NOW, NOW) is True
    assert shipment.status == "ordering" and shipment.task is not None and shipment.task.kind == "create_order"
    assert shipment.resolve(NOW, NOW) is False  # a second resolution changes nothing
    assert [h["status"] for h in shipment.history] == ["awaiting_result", "ordering"]


def test_a_resolution_read_before_the_receipt_orders_at_once() -> None:
    shipment = planned(resolved_at=NOW)
    assert shipment.status == "ordering" and shipment.awaits("create_order")


def test_an_unreadable_address_or_no_phone_is_a_problem_and_the_order_waits() -> None:
    bad = planned(address="12 Trần Phú, Nha Trang")
    assert bad.problem is not None and bad.problem.kind == "address_problem"
    no_phone = planned(phone="12345")
    assert no_phone.problem is not None and no_phone.problem.kind == "no_phone"
    assert no_phone.resolve(NOW, NOW) and no_phone.status == "order_rejected" and no_phone.task is None


def test_correcting_the_recipient_orders_a_rejected_shipment_again() -> None:
    shipment = planned(phone=None, resolved_at=NOW)
    assert shipment.status == "order_rejected"
    with pytest.raises(Invalid, match="no valid phone"):
        shipment.correct_recipient(address_text=HOME, phone=None, name=None, by="officer", now=NOW)
    with pytest.raises(Invalid, match="Vietnamese phone"):
        shipment.correct_recipient(address_text=HOME, phone="0123", name=None, by="officer", now=NOW)
    with pytest.raises(Invalid):
        shipment.correct_recipient(address_text="nowhere", phone="0905123456", name=None, by="officer", now=NOW)
    shipment.correct_recipient(address_text=FAR, phone="0905 123 456", name="Trần Bình", by="officer", now=NOW)
    assert shipment.status == "ordering" and shipment.awaits("create_order") and shipment.problem is None
    assert shipment.recipient is not None
    assert (shipment.recipient.name, shipment.recipient.phone, shipment.recipient.text) == (
        "Trần Bình",
        "0905123456",
        FAR,
    )


def test_the_recipient_cannot_change_once_the_carrier_has_the_shipment() -> None:
    shipment = ordered()
    with pytest.raises(Conflict) as refused:
        shipment.correct_recipient(address_text=FAR, phone=None, name=None, by="officer", now=NOW)
    assert refused.value.code == "already_ordered"


# --- the carrier calls -----------------------------------------------------------------------------------


def test_the_placed_order_publishes_the_estimated_target() -> None:
    shipment = planned(address=FAR)
    shipment.resolve(NOW, NOW)
    assert shipment.recipient is not None
    events = shipment.order_placed(
        tracking_number="EB1VN",
        sender=centre(),
        recipient=shipment.recipient,
        carrier="vnpost",
        j=date(2026, 12, 3),
        transit=POLICY.transit,
        now=NOW,
    )
    [created] = events
    assert isinstance(created, ShipmentCreated)
    assert created.target_date == date(2026, 12, 7)  # another province: J+3, Sunday skipped
    assert (shipment.status, shipment.carrier_status, shipment.task, shipment.tracking_number) == (
        "created",
        "created",
        None,
        "EB1VN",
    )
    with pytest.raises(Conflict):  # recorded already
        shipment.order_placed(
            tracking_number="EB1VN",
            sender=centre(),
            recipient=shipment.recipient,
            carrier="vnpost",
            j=date(2026, 12, 3),
            transit=POLICY.transit,
            now=NOW,
        )


def test_a_failing_call_waits_longer_and_is_stuck_after_enough_attempts() -> None:
    shipment = planned(resolved_at=NOW)
    assert not shipment.call_failed("create_order", "down", counted=True, delay_seconds=5, stuck_after=2, now=NOW)
    assert shipment.task is not None
    assert (shipment.task.attempts, shipment.task.due_at, shipment.task.last_error) == (
        1,
        NOW + timedelta(seconds=5),
        "down",
    )
    assert shipment.call_failed("create_order", "down", counted=True, delay_seconds=10, stuck_after=2, now=NOW)
    assert shipment.task.stuck
    assert not shipment.call_failed("create_order", "down", counted=True, delay_seconds=10, stuck_after=2, now=NOW)
    assert not shipment.call_failed("create_order", "not ready", counted=False, delay_seconds=1, stuck_after=9, now=NOW)
    assert shipment.task.attempts == 3


def test_a_refused_order_is_a_problem_for_an_officer() -> None:
    shipment = planned(resolved_at=NOW)
    shipment.call_refused("create_order", "HTTP 422: bad address", NOW)
    assert shipment.status == "order_rejected" and shipment.task is None
    assert shipment.problem is not None and shipment.problem.kind == "create_order_refused"


# --- the tracking state machine --------------------------------------------------------------------------


def test_steps_apply_in_order_once_and_stale_ones_change_nothing() -> None:
    shipment = ordered()
    events = apply(shipment, step("picked_up"))
    assert [type(e) for e in events] == [ShipmentStatusChanged]
    assert shipment.status == "picked_up" and shipment.target_date == "2026-12-04"  # J = the day picked up
    apply(shipment, step("in_transit"))
    assert not shipment.accepts(step("picked_up"))
    with pytest.raises(Conflict):
        apply(shipment, step("picked_up"))
    assert shipment.status == "in_transit"
    assert [h["status"] for h in shipment.history][-2:] == ["picked_up", "in_transit"]


def test_failed_attempts_schedule_the_next_then_the_result_goes_back() -> None:
    shipment = ordered()
    for status in ("picked_up", "in_transit"):
        apply(shipment, step(status))
    apply(shipment, step("out_for_delivery", 1))
    friday_evening = datetime(2026, 12, 4, 18, 30, tzinfo=VN)
    events = apply(shipment, step("delivery_failed", 1, at=friday_evening, failure_kind="recipient_absent"))
    failed = [e for e in events if isinstance(e, DeliveryAttemptFailed)]
    assert [(f.attempt, f.kind, f.next_attempt_after) for f in failed] == [
        (1, "recipient_absent", datetime(2026, 12, 8, 7, 0, tzinfo=VN))
    ]
    assert shipment.failures == 1 and shipment.task is None and shipment.open
    assert not shipment.accepts(step("out_for_delivery", 1))  # a late report of the first attempt
    apply(shipment, step("out_for_delivery", 2))
    events = apply(shipment, step("delivery_failed", 2, failure_kind="address_problem"))
    [second] = [e for e in events if isinstance(e, DeliveryAttemptFailed)]
    assert second.attempt == 2 and second.next_attempt_after is None
    assert shipment.failures == 2 and shipment.awaits("request_return")
    shipment.return_requested(NOW)
    assert shipment.task is None and shipment.return_requested_at == NOW
    events = apply(shipment, step("returned_to_sender", reason="Hết số lần phát"))
    [returned] = [e for e in events if isinstance(e, ShipmentReturned)]
    assert returned.attempts == 2 and returned.reason == "Hết số lần phát"
    assert not shipment.open and shipment.status == "returned_to_sender"
    assert not shipment.accepts(step("delivered", 3))  # returned is final


def test_a_refusal_sends_the_result_back_at_the_first_attempt() -> None:
    shipment = ordered()
    apply(shipment, step("out_for_delivery", 1))
    apply(shipment, step("delivery_failed", 1, failure_kind="refused"))
    assert shipment.failures == 1 and shipment.awaits("request_return") and shipment.next_attempt_after is None


def test_a_delivery_after_the_target_is_late_and_final() -> None:
    shipment = ordered()
    apply(shipment, step("picked_up"))
    assert shipment.target_date == "2026-12-04"
    proof = Proof(recipient_name="An", relation="self", id_checked=True, id_document="CCCD")
    events = apply(shipment, step("delivered", 1, at=datetime(2026, 12, 5, 9, tzinfo=VN), proof=proof))
    [delivered] = [e for e in events if isinstance(e, ResultDelivered)]
    assert delivered.late and delivered.recipient_checked and shipment.late
    assert not shipment.open and shipment.delivered is not None and shipment.delivered.id_document == "CCCD"
    for later in ("in_transit", "out_for_delivery", "delivery_failed", "returned_to_sender"):
        assert not shipment.accepts(step(later, 2))


def test_an_open_shipment_past_its_target_is_flagged_late_once() -> None:
    shipment = ordered()
    apply(shipment, step("picked_up"))
    assert shipment.flag_late(date(2026, 12, 4), NOW) == []  # the target day itself is not late
    [late] = shipment.flag_late(date(2026, 12, 5), NOW)
    assert isinstance(late, ShipmentLate) and late.target_date == date(2026, 12, 4)
    assert shipment.late and shipment.flag_late(date(2026, 12, 6), NOW) == []


# --- hand-over minutes -----------------------------------------------------------------------------------


def test_a_result_goes_on_minutes_once_and_is_handed_to_the_post() -> None:
    shipment = ordered()
    shipment.put_on_minutes("BBGN1", "result")
    with pytest.raises(Conflict) as twice:
        shipment.put_on_minutes("BBGN2", "result")
    assert twice.value.code == "already_listed"
    [handed] = shipment.hand_to_post(j=date(2026, 12, 3), transit=POLICY.transit, now=NOW)
    assert isinstance(handed, ResultHandedToPost) and handed.target_date == date(2026, 12, 4)
    assert shipment.status == "handed_to_post" and shipment.handed_over_at == NOW


def test_a_delivered_result_cannot_be_handed_over_and_rejected_minutes_free_the_shipment() -> None:
    shipment = ordered()
    shipment.put_on_minutes("BBGN1", "result")
    shipment.off_minutes("BBGN1")
    assert shipment.handover_id is None
    apply(shipment, step("out_for_delivery", 1))
    with pytest.raises(Conflict) as refused:
        shipment.put_on_minutes("BBGN2", "result")
    assert refused.value.code == "not_handable"


def requested_pickup() -> Pickup:
    pickup, events = Pickup.requested(
        pickup_id="BC261203ABCDEF",
        centre_code="C1",
        carrier="vnpost",
        partner="P",
        sender=Contact(name="An", phone="0914222333", address=parse_address(HOME)),
        request=PickupRequest(
            procedure_code="1.012753",
            procedure_name="Đăng ký đất đai",
            applicant={"full_name": "An", "phone": "0914222333"},
            window_start=NOW + timedelta(hours=2),
            window_end=NOW + timedelta(hours=4),
            window_day="2026-12-03",
            return_channel="post",
            delivery_address=None,
            notify_channels=["sms"],
            content=None,
            requested_by="citizen",
        ),
        cod_amount_vnd=50000,
        note=None,
        source="citizen",
        now=NOW,
    )
    assert [type(e) for e in events] == [PickupRequested]
    return pickup


def test_a_pickup_is_collected_arrives_and_is_handed_over_to_the_centre() -> None:
    pickup = requested_pickup()
    assert pickup.status == "ordering" and pickup.awaits("create_order")
    pickup.order_placed(
        tracking_number="EB2VN",
        sender=pickup.sender,  # type: ignore[arg-type]
        recipient=centre(),
        carrier="vnpost",
        j=date(2026, 12, 3),
        transit=POLICY.transit,
        now=NOW,
    )
    events = apply(pickup, step("picked_up"))
    assert [type(e) for e in events] == [PickupCollected]  # no ShipmentStatusChanged for a collection
    assert pickup.target_date == "2026-12-05"  # same commune J+1, and the appointment slip one more
    apply(pickup, step("in_transit"))
    apply(pickup, step("delivered"))
    assert pickup.status == "arrived" and pickup.open  # open until the minutes are signed
    assert pickup.flag_late(date(2026, 12, 31), NOW) == []  # at the centre: not late
    pickup.put_on_minutes("BBGN3", "pickup")
    [handed] = pickup.hand_over(
        documents=[{"name": "Đơn đăng ký", "originals": 1, "copies": 0}],
        fees_collected_vnd=50000,
        officer="officer-lan",
        postal_worker="Bình",
        now=NOW,
    )
    assert isinstance(handed, PickupHandedOver)
    assert (handed.pickup_id, handed.officer, handed.postal_worker, handed.fees_collected_vnd) == (
        "BC261203ABCDEF",
        "officer-lan",
        "Bình",
        50000,
    )
    assert handed.documents[0].name == "Đơn đăng ký" and handed.applicant.full_name == "An"
    assert pickup.status == "handed_over" and not pickup.open and pickup.task is None


def test_minutes_are_confirmed_by_the_other_side_once() -> None:
    prepared_by = {"subject": "officer-lan", "role": "counter_officer", "name": "Lan", "party": "centre"}
    minutes = HandoverMinutes(
        id="BBGN1", kind="result", centre_code="C1", partner="P", prepared_by=prepared_by, prepared_at=NOW
    )
    with pytest.raises(Forbidden):
        minutes.confirm({**prepared_by, "subject": "officer-hoa"}, NOW)
    postman = {"subject": "postman-binh", "role": "postal_partner", "name": "Bình", "party": "postal"}
    signers = minutes.confirm(postman, NOW)
    assert signers == {"centre": prepared_by, "postal": postman}
    assert minutes.status == "signed" and minutes.confirmed_at == NOW
    with pytest.raises(Conflict) as closed:
        minutes.reject(postman, "wrong papers", NOW)
    assert closed.value.code == "minutes_closed"
