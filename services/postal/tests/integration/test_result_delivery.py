"""Result delivery: resolved dossier → carrier order → hand-over minutes → delivered, or back to the centre."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY

from motcua_devstack.testing import eventually, sample_dossier_received
from motcua_kit.events import DossierResolved
from postal.domain.transit import add_postal_days

from .conftest import CENTRE, Carrier, Postal, new_code

pytestmark = pytest.mark.integration

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def resolved(code: str) -> DossierResolved:
    return DossierResolved(
        dossier_code=code,
        agency_code="000.00.13.H56",
        resolved_at=datetime.now(UTC),
        resolved_by="leader-1",
        result_summary="Giấy chứng nhận quyền sử dụng đất",
    )


async def ordered(postal: Postal, carrier: Carrier, code: str) -> dict[str, Any]:
    """Receives and resolves a dossier returned by post; waits for the carrier order."""
    await postal.publish(sample_dossier_received(dossier_code=code))
    await postal.wait_status(code, "awaiting_result")
    await postal.publish(resolved(code))
    shipment = await postal.wait_status(code, "created")
    assert shipment["tracking_number"]
    return shipment


async def hand_over(postal: Postal, tracking: str) -> dict[str, Any]:
    r = await postal.http.post(
        "/handovers",
        json={"kind": "result", "tracking_numbers": [tracking], "signer_name": "Trần Thị Lan"},
        headers=postal.officer,
    )
    assert r.status_code == 201, r.text
    minutes = r.json()
    # The side that prepared the minutes cannot also confirm them.
    again = await postal.http.post(f"/handovers/{minutes['id']}/confirm", json={}, headers=postal.officer)
    assert again.status_code == 403 and "postal partner" in again.json()["message"]
    r = await postal.http.post(
        f"/handovers/{minutes['id']}/confirm", json={"signer_name": "Lê Văn Bình"}, headers=postal.partner
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_resolved_dossier_is_shipped_handed_over_and_delivered(postal: Postal, carrier: Carrier) -> None:
    code = new_code()
    shipment = await ordered(postal, carrier, code)
    tracking = shipment["tracking_number"]

    [order] = await carrier.orders(code)
    assert order["purpose"] == "delivery" and order["tracking_number"] == tracking
    assert order["sender"]["province"] == "tỉnh Khánh Hòa" and order["sender"]["phone"] == "02583568686"
    assert order["recipient"] == {
        "name": "Nguyễn Thị Hoa",
        "phone": "0905123456",
        "address": "12 Trần Phú",
        "commune": "phường Nha Trang",
        "province": "tỉnh Khánh Hòa",
    }

    manifest = (await postal.http.get("/manifest", headers=postal.officer)).json()
    assert [s["tracking_number"] for s in manifest["results_to_take"]] == [tracking]
    day = (await postal.http.get("/partner/day", params={"centre_code": CENTRE}, headers=postal.partner)).json()
    assert [s["tracking_number"] for s in day["results_to_take"]] == [tracking]

    minutes = await hand_over(postal, tracking)
    assert minutes["status"] == "signed" and minutes["confirmed_by"]["name"] == "Lê Văn Bình"
    shipment = await postal.shipment(code)
    assert shipment["status"] == "handed_to_post" and shipment["handover_id"] == minutes["id"]
    # Same commune: J+1 postal day from today's hand-over.
    today = datetime.now(VN).date()
    assert shipment["target_date"] == add_postal_days(today, 1).isoformat()
    assert (await postal.http.get("/manifest", headers=postal.officer)).json()["results_to_take"] == []

    for status in ("picked_up", "in_transit", "out_for_delivery"):
        await carrier.advance(tracking, status)
    await carrier.advance(tracking, "delivered")
    shipment = await postal.wait_status(code, "delivered")
    assert shipment["delivered"]["id_checked"] is True and shipment["delivered"]["recipient_name"] == "Nguyễn Thị Hoa"
    assert [h["status"] for h in shipment["history"]][-4:] == [
        "picked_up",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]

    events = await postal.events()
    kinds = [k for k, e in events if e.get("dossier_code") == code]
    assert kinds == [
        "ResultDeliveryPlanned",
        "ShipmentCreated",
        "ResultHandedToPost",
        "ShipmentStatusChanged",
        "ShipmentStatusChanged",
        "ShipmentStatusChanged",
        "ShipmentStatusChanged",
        "ResultDelivered",
    ]
    delivered = next(e for k, e in events if k == "ResultDelivered")
    assert delivered["recipient_checked"] is True and delivered["tracking_number"] == tracking and not delivered["late"]

    def gauge() -> float:
        labels = {"purpose": "delivery", "status": "delivered", "carrier": "vnpost"}
        return REGISTRY.get_sample_value("postal_shipments", labels) or 0.0

    await eventually(lambda: _more(gauge, 0), message="the shipments gauge counts the delivered one")


async def test_the_same_dossier_resolved_twice_creates_one_shipment(postal: Postal, carrier: Carrier) -> None:
    code = new_code()
    received = sample_dossier_received(dossier_code=code)
    duplicates = _duplicates()
    envelope = await postal.publish(received)
    await postal.wait_status(code, "awaiting_result")
    await postal.publish(resolved(code))
    await postal.publish(resolved(code))  # another event: a second resolution
    await postal.publish(received, envelope)  # and the receipt redelivered
    first = await postal.wait_status(code, "created")

    async def all_read() -> bool:
        return len([e for k, e in await postal.events(idle=0.3) if e.get("dossier_code") == code]) >= 2

    await eventually(all_read, message="events published")
    await eventually(lambda: _consumed(postal, 3), message="receipt and both resolutions handled")
    await eventually(lambda: _more(_duplicates, duplicates), message="the redelivered receipt seen")
    assert len(await carrier.orders(code)) == 1
    assert (await postal.shipment(code))["tracking_number"] == first["tracking_number"]
    kinds = [k for k, e in await postal.events() if e.get("dossier_code") == code]
    assert kinds == ["ResultDeliveryPlanned", "ShipmentCreated"]


def _duplicates() -> float:
    sample = REGISTRY.get_sample_value(
        "motcua_events_consumed_total",
        {"consumer": "postal.dossiers", "event_type": "DossierReceived", "outcome": "duplicate"},
    )
    return sample or 0.0


async def _more(read: Any, before: float) -> bool:
    return bool(read() > before)


async def _consumed(postal: Postal, n: int) -> bool:
    db = postal.app.state.rt.db
    return await db.inbox.count_documents({"consumer": "postal.dossiers"}) >= n


async def test_a_counter_return_is_not_postal_business(postal: Postal, carrier: Carrier) -> None:
    code = new_code()
    await postal.publish(sample_dossier_received(dossier_code=code, return_channel="counter", delivery_address=None))
    await postal.publish(resolved(code))
    await eventually(lambda: _consumed(postal, 2), message="both consumed")
    r = await postal.http.get(f"/deliveries/{code}", headers=postal.officer)
    assert r.status_code == 404
    assert await carrier.orders(code) == []


async def test_a_delivery_that_fails_twice_goes_back_to_the_centre(postal: Postal, carrier: Carrier) -> None:
    code = new_code()
    tracking = (await ordered(postal, carrier, code))["tracking_number"]
    await hand_over(postal, tracking)
    for status in ("picked_up", "in_transit", "out_for_delivery"):
        await carrier.advance(tracking, status)
    await carrier.advance(tracking, "delivery_failed", failure_kind="recipient_absent")
    first = await postal.wait_status(code, "delivery_failed")
    assert first["failures"] == 1
    next_after = datetime.fromisoformat(first["next_attempt_after"]).astimezone(VN)
    failed_at = datetime.fromisoformat(first["history"][-1]["at"]).astimezone(VN)
    assert (next_after.date() - failed_at.date()).days >= 2  # two working days apart, weekends longer
    assert next_after.weekday() < 5 and next_after.time() == time(7, 0)

    await carrier.advance(tracking, "out_for_delivery")
    await postal.wait_status(code, "out_for_delivery")
    await carrier.advance(tracking, "delivery_failed", failure_kind="address_problem")
    # No attempt left: postal asks the carrier to return the result, and the carrier does.
    back = await postal.wait_status(code, "returned_to_sender")
    assert back["failures"] == 2 and back["returned"]["reason"]
    [order] = await carrier.orders(code)
    assert order["status"] == "returned_to_sender"

    events = await postal.events()
    failures = [e for k, e in events if k == "DeliveryAttemptFailed" and e["dossier_code"] == code]
    assert [(f["attempt"], f["kind"], f["next_attempt_after"] is None) for f in failures] == [
        (1, "recipient_absent", False),
        (2, "address_problem", True),
    ]
    [returned] = [e for k, e in events if k == "ShipmentReturned" and e["dossier_code"] == code]
    assert returned["attempts"] == 2 and returned["tracking_number"] == tracking
