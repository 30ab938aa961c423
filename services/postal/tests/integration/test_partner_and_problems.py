"""The partner's own reports, late shipments, address problems and refused minutes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from motcua_devstack.testing import eventually, sample_dossier_received

from .conftest import CENTRE, Carrier, Postal, new_code
from .test_result_delivery import ordered, resolved

pytestmark = pytest.mark.integration


def report(status: str, **extra: Any) -> dict[str, Any]:
    return {"report_id": uuid.uuid4().hex, "status": status, "at": datetime.now(UTC).isoformat(), **extra}


async def test_the_partner_reports_steps_and_a_late_shipment_is_flagged_once(postal: Postal, carrier: Carrier) -> None:
    code = new_code()
    tracking = (await ordered(postal, carrier, code))["tracking_number"]
    url = f"/partner/shipments/{tracking}/reports"

    # Collected six days ago: the J+1 target is long past.
    collected = report("picked_up", at=(datetime.now(UTC) - timedelta(days=6)).isoformat())
    r = await postal.http.post(url, json=collected, headers=postal.partner)
    assert r.status_code == 200 and r.json() == {"outcome": "accepted"}
    assert (await postal.http.post(url, json=collected, headers=postal.partner)).json() == {"outcome": "duplicate"}
    other_partner = postal.as_("postal_partner", "VIETTELPOST-KHH")
    assert (await postal.http.post(url, json=report("in_transit"), headers=other_partner)).status_code == 404
    assert (await postal.http.post(url, json=report("in_transit"), headers=postal.officer)).status_code == 403

    async def flagged() -> dict[str, Any] | None:
        rows = (await postal.http.get("/shipments", params={"late": "true"}, headers=postal.officer)).json()
        return next((s for s in rows if s["dossier_code"] == code), None)

    late = await eventually(flagged, message="late shipment flagged")
    assert late["target_date"] < datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()

    r = await postal.http.post(url, json=report("delivered", attempt=1), headers=postal.partner)
    assert r.status_code == 422 and r.json()["error"] == "proof_required"
    proof = {
        "recipient_name": "Nguyễn Văn An",
        "relation": "authorised",
        "id_checked": True,
        "id_document": "authorisation",
    }
    r = await postal.http.post(url, json=report("delivered", attempt=1, proof=proof), headers=postal.partner)
    assert r.json() == {"outcome": "accepted"}
    shipment = await postal.shipment(code)
    assert shipment["status"] == "delivered" and shipment["delivered"]["relation"] == "authorised"
    assert [h["source"] for h in shipment["history"]][-2:] == ["partner", "partner"]

    events = await postal.events()
    assert len([e for k, e in events if k == "ShipmentLate" and e["dossier_code"] == code]) == 1
    [delivered] = [e for k, e in events if k == "ResultDelivered" and e["dossier_code"] == code]
    assert delivered["late"] is True and delivered["recipient_relation"] == "authorised"


async def test_an_address_problem_waits_for_an_officer_and_refused_minutes_free_the_result(
    postal: Postal, carrier: Carrier
) -> None:
    code = new_code()
    await postal.publish(sample_dossier_received(dossier_code=code, delivery_address="gần chợ Đầm, Nha Trang"))
    await postal.wait_status(code, "awaiting_result")
    await postal.publish(resolved(code))
    stuck = await postal.wait_status(code, "order_rejected")
    assert stuck["problem"]["kind"] == "address_problem" and "province" in stuck["problem"]["reason"]
    assert await carrier.orders(code) == []

    url = f"/deliveries/{code}/recipient"
    r = await postal.http.put(url, json={"address": "gần chợ Đầm"}, headers=postal.officer)
    assert r.status_code == 422 and r.json()["error"] == "address_problem"
    r = await postal.http.put(
        url, json={"address": "5 Phan Bội Châu, phường Nha Trang, tỉnh Khánh Hòa"}, headers=postal.partner
    )
    assert r.status_code == 403
    r = await postal.http.put(
        url, json={"address": "5 Phan Bội Châu, phường Nha Trang, tỉnh Khánh Hòa"}, headers=postal.officer
    )
    assert r.status_code == 200 and r.json()["status"] == "ordering"
    tracking = (await postal.wait_status(code, "created"))["tracking_number"]
    [order] = await carrier.orders(code)
    assert order["recipient"]["address"] == "5 Phan Bội Châu"
    r = await postal.http.put(
        url, json={"address": "6 Phan Bội Châu, phường Nha Trang, tỉnh Khánh Hòa"}, headers=postal.officer
    )
    assert r.status_code == 409

    minutes = await postal.http.post(
        "/handovers", json={"kind": "result", "tracking_numbers": [tracking]}, headers=postal.partner
    )
    assert minutes.status_code == 422  # the partner names the centre
    minutes = await postal.http.post(
        "/handovers",
        json={"kind": "result", "centre_code": CENTRE, "tracking_numbers": [tracking]},
        headers=postal.partner,
    )
    assert minutes.status_code == 201, minutes.text
    handover_id = minutes.json()["id"]
    assert (await postal.http.get("/manifest", headers=postal.officer)).json()["results_to_take"] == []
    r = await postal.http.post(
        f"/handovers/{handover_id}/reject", json={"reason": "Thiếu một bì hồ sơ"}, headers=postal.officer
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    r = await postal.http.post(f"/handovers/{handover_id}/confirm", json={}, headers=postal.officer)
    assert r.status_code == 409
    manifest = (await postal.http.get("/manifest", headers=postal.officer)).json()
    assert [s["tracking_number"] for s in manifest["results_to_take"]] == [tracking]
    assert (await postal.shipment(code))["status"] == "created"
