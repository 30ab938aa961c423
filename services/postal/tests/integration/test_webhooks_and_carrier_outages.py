"""Carrier callbacks replayed, reordered, forged and duplicated; the carrier down for a while; silence."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from motcua_devstack.testing import eventually

from .conftest import Carrier, Postal, new_code
from .test_result_delivery import ordered, resolved

pytestmark = pytest.mark.integration


def webhooks(outcome: str) -> float:
    return REGISTRY.get_sample_value("postal_webhooks_total", {"carrier": "vnpost", "outcome": outcome}) or 0.0


def step(tracking: str, code: str, status: str, *, at: datetime | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "tracking_number": tracking,
        "order_number": code,
        "purpose": "delivery",
        "status": status,
        "at": (at or datetime.now(UTC)).isoformat(),
        **extra,
    }


async def status_events(postal: Postal, code: str) -> list[str]:
    return [e["status"] for k, e in await postal.events() if k == "ShipmentStatusChanged" and e["dossier_code"] == code]


async def test_webhooks_replayed_reordered_forged_and_duplicated_change_nothing_they_should_not(
    postal: Postal, carrier: Carrier
) -> None:
    code = new_code()
    tracking = (await ordered(postal, carrier, code))["tracking_number"]
    before = {o: webhooks(o) for o in ("accepted", "duplicate", "stale", "bad_signature", "expired")}

    in_transit = step(tracking, code, "in_transit")
    r = await postal.webhook(in_transit)
    assert r.status_code == 200 and r.json() == {"outcome": "accepted"}
    # The same callback again (the carrier retries): nothing new.
    r = await postal.webhook(in_transit)
    assert r.status_code == 200 and r.json() == {"outcome": "duplicate"}

    # Forged: signed with another secret, or the body changed after signing.
    forged = step(tracking, code, "delivered", proof={"recipient_name": "X", "relation": "self", "id_checked": True})
    r = await postal.webhook(forged, secret="guessed")
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"
    r = await postal.http.post(
        "/carrier/webhooks",
        json=forged,
        headers={"X-Carrier-Timestamp": str(int(time.time())), "X-Carrier-Signature": "00"},
    )
    assert r.status_code == 401
    r = await postal.http.post("/carrier/webhooks", json=forged)
    assert r.status_code == 401 and "signature" in r.json()["message"]
    # Replayed: a genuine signature, but from long ago.
    r = await postal.webhook(forged, timestamp=int(time.time()) - 3600)
    assert r.status_code == 401 and r.json()["error"] == "expired"
    assert (await postal.shipment(code))["status"] == "in_transit"

    # Reordered: delivered arrives, then a late "out for delivery" and "in transit".
    delivered = step(
        tracking,
        code,
        "delivered",
        attempt=1,
        proof={"recipient_name": "Nguyễn Thị Hoa", "relation": "self", "id_checked": True},
    )
    assert (await postal.webhook(delivered)).json() == {"outcome": "accepted"}
    late_out = step(tracking, code, "out_for_delivery", attempt=1, at=datetime.now(UTC) - timedelta(hours=1))
    assert (await postal.webhook(late_out)).json() == {"outcome": "stale"}
    assert (await postal.webhook(step(tracking, code, "in_transit"))).json() == {"outcome": "stale"}
    shipment = await postal.shipment(code)
    assert shipment["status"] == "delivered"
    assert [h["status"] for h in shipment["history"]][-2:] == ["in_transit", "delivered"]

    # Unreadable but genuine bodies, and unknown parcels.
    r = await postal.webhook({"tracking_number": tracking, "status": "teleported"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_callback"
    r = await postal.webhook(step("EB000000000VN", "nope", "in_transit"))
    assert r.status_code == 404

    assert await status_events(postal, code) == ["in_transit", "delivered"]
    assert len([k for k, e in await postal.events() if k == "ResultDelivered" and e["dossier_code"] == code]) == 1
    after = {o: webhooks(o) - before[o] for o in before}
    assert after == {"accepted": 2, "duplicate": 1, "stale": 2, "bad_signature": 3, "expired": 1}


async def test_the_carrier_down_for_a_while_gets_the_order_once_it_is_back(postal: Postal, carrier: Carrier) -> None:
    code = new_code()
    from motcua_devstack.testing import sample_dossier_received

    await carrier.faults("error_500")
    await postal.publish(sample_dossier_received(dossier_code=code))
    await postal.wait_status(code, "awaiting_result")
    await postal.publish(resolved(code))

    async def retried() -> dict[str, Any] | None:
        s = await postal.shipment(code)
        return s if s["task"] and s["task"]["attempts"] >= 3 else None

    waiting = await eventually(retried, message="order retried while the carrier is down")
    assert waiting["status"] == "ordering" and "HTTP 500" in waiting["task"]["last_error"]
    assert await carrier.orders(code) == []

    # The carrier comes back, slow at first: the first call times out after the order was taken.
    await carrier.faults("timeout", count=1)
    shipment = await postal.wait_status(code, "created", timeout=30)
    orders = await carrier.orders(code)
    assert len(orders) == 1 and orders[0]["tracking_number"] == shipment["tracking_number"]
    assert shipment["task"] is None
    assert [k for k, e in await postal.events() if e.get("dossier_code") == code] == [
        "ResultDeliveryPlanned",
        "ShipmentCreated",
    ]


async def test_a_silent_carrier_is_polled_for_what_it_did_not_say(postal_factory: Any, carrier: Carrier) -> None:
    from .conftest import centre_changed, procedure_changed

    postal: Postal = await postal_factory(SILENCE_SECONDS=1)
    await postal.publish(centre_changed())
    await postal.publish(procedure_changed())
    code = new_code()
    tracking = (await ordered(postal, carrier, code))["tracking_number"]
    await carrier.life(webhooks_enabled=False)
    await carrier.advance(tracking, "picked_up")
    await carrier.advance(tracking, "in_transit")
    shipment = await postal.wait_status(code, "in_transit", timeout=20)
    assert [h["source"] for h in shipment["history"]][-2:] == ["poll", "poll"]
    # The steps arriving later by callback are known already.
    await carrier.life(webhooks_enabled=True)
    await carrier.advance(tracking, "out_for_delivery")
    await postal.wait_status(code, "out_for_delivery")
    assert await status_events(postal, code) == ["picked_up", "in_transit", "out_for_delivery"]
