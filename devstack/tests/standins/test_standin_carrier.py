"""The postal carrier stand-in, exercised over real HTTP on loopback."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import uuid
from typing import Any

import httpx
import pytest
import pytest_asyncio

from motcua_devstack.standins import DeliveryPolicy, create_carrier_app

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

API_KEY = "test-carrier-key"
SECRET = "test-webhook-secret"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
FAST_POLICY = DeliveryPolicy(timeout_seconds=2.0, attempts=3, backoff_seconds=0.01)
TRACKING = re.compile(r"^EB\d{9}VN$")


def party(name: str, phone: str) -> dict[str, str]:
    return {
        "name": name,
        "phone": phone,
        "address": "Số 1 Tràng Tiền",
        "province": "Thành phố Hà Nội",
        "commune": "Phường Hoàn Kiếm",
    }


def order(purpose: str = "delivery", webhook_url: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_number": f"000.00.01.H26-{uuid.uuid4().hex[:8]}",
        "purpose": purpose,
        "service_type": "EMS",
        "sender": party("Bộ phận Một cửa UBND phường", "02438251234"),
        "recipient": party("Nguyễn Văn Ánh", "0912345678"),
        "cod_amount": 0,
        "weight_grams": 250,
        "note": "Giao giờ hành chính",
        "webhook_url": webhook_url,
    }
    body.update(overrides)
    return body


@pytest_asyncio.fixture
async def carrier(serve_app: Any) -> str:
    app = create_carrier_app(API_KEY, webhook_secret=SECRET, fault_delay_seconds=1.0, delivery_policy=FAST_POLICY)
    return str((await serve_app(app)).url)


async def create(http: httpx.AsyncClient, base: str, body: dict[str, Any]) -> httpx.Response:
    return await http.post(f"{base}/v1/orders", json=body, headers=AUTH)


async def advance(
    http: httpx.AsyncClient, base: str, tracking: str, status: str, reason: str | None = None
) -> httpx.Response:
    return await http.post(f"{base}/_control/orders/{tracking}/advance", json={"status": status, "reason": reason})


def assert_signed(call: Any) -> dict[str, Any]:
    timestamp = call.headers["x-carrier-timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + call.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(call.headers["x-carrier-signature"], expected)
    assert abs(time.time() - int(timestamp)) < 60
    event: dict[str, Any] = call.json()
    return event


async def test_refuses_missing_or_wrong_key(carrier: str, http: httpx.AsyncClient) -> None:
    no_key = await http.post(f"{carrier}/v1/orders", json=order())
    wrong_key = await http.get(f"{carrier}/v1/orders/EB123456785VN", headers={"Authorization": "Bearer nope"})

    assert (no_key.status_code, wrong_key.status_code) == (401, 401)
    assert no_key.json()["error"] == "unauthorized"


async def test_create_then_duplicate_returns_same_tracking(carrier: str, http: httpx.AsyncClient) -> None:
    body = order()

    first = await create(http, carrier, body)
    again = await create(http, carrier, body)
    other_purpose = await create(http, carrier, {**body, "purpose": "pickup"})

    assert first.status_code == 201
    assert first.json()["status"] == "created"
    assert TRACKING.match(first.json()["tracking_number"])
    assert again.status_code == 200
    assert again.json() == {"tracking_number": first.json()["tracking_number"], "status": "already_exists"}
    assert other_purpose.status_code == 201
    assert other_purpose.json()["tracking_number"] != first.json()["tracking_number"]
    listed = (await http.get(f"{carrier}/_control/orders", params={"order_number": body["order_number"]})).json()
    assert len(listed) == 2


@pytest.mark.parametrize(
    "overrides",
    [
        {"weight_grams": 0},
        {"cod_amount": -1},
        {"cod_amount": 1.5},
        {"cod_amount": "100000"},
        {"purpose": "return"},
        {"order_number": ""},
        {"recipient": {**party("A", "0912345678"), "phone": "12345"}},
        {"recipient": {**party("A", "0912345678"), "district": "Quận Hoàn Kiếm"}},
        {"sender": {"name": "A"}},
        {"webhook_url": "ftp://example"},
    ],
)
async def test_validation_errors_are_422_with_a_message(
    carrier: str, http: httpx.AsyncClient, overrides: dict[str, Any]
) -> None:
    response = await create(http, carrier, order(**overrides))

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert response.json()["message"]


async def test_get_order_and_unknown_tracking(carrier: str, http: httpx.AsyncClient) -> None:
    body = order(cod_amount=50_000)
    tracking = (await create(http, carrier, body)).json()["tracking_number"]

    found = await http.get(f"{carrier}/v1/orders/{tracking}", headers=AUTH)
    missing = await http.get(f"{carrier}/v1/orders/EB000000000VN", headers=AUTH)

    assert found.status_code == 200
    assert found.json()["order_number"] == body["order_number"]
    assert found.json()["recipient"]["name"] == "Nguyễn Văn Ánh"
    assert found.json()["cod_amount"] == 50_000
    assert found.json()["status"] == "created"
    assert [entry["status"] for entry in found.json()["history"]] == ["created"]
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


async def test_advance_sends_signed_webhooks_in_order(
    carrier: str, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    body = order(webhook_url=receiver.url)
    tracking = (await create(http, carrier, body)).json()["tracking_number"]
    life = ["picked_up", "in_transit", "out_for_delivery", "delivery_failed", "out_for_delivery", "delivered"]

    for status in life:
        assert (await advance(http, carrier, tracking, status)).status_code == 200
    await wait_until(lambda: len(receiver.accepted) == len(life), message="webhooks missing")

    events = [assert_signed(call) for call in receiver.accepted]
    assert [event["status"] for event in events] == life
    assert {event["tracking_number"] for event in events} == {tracking}
    assert {event["order_number"] for event in events} == {body["order_number"]}
    assert [event["attempt"] for event in events] == [None, None, 1, 1, 2, 2]
    assert events[3]["reason"] == "Người nhận vắng nhà"
    assert len({event["event_id"] for event in events}) == len(life)


async def test_history_and_terminal_state(carrier: str, http: httpx.AsyncClient) -> None:
    tracking = (await create(http, carrier, order())).json()["tracking_number"]
    for status in ("picked_up", "in_transit", "out_for_delivery"):
        await advance(http, carrier, tracking, status)
    await advance(http, carrier, tracking, "delivery_failed", "Sai địa chỉ")
    await advance(http, carrier, tracking, "returned_to_sender")

    backwards = await advance(http, carrier, tracking, "delivered")
    unknown = await advance(http, carrier, "EB000000000VN", "picked_up")
    found = (await http.get(f"{carrier}/v1/orders/{tracking}", headers=AUTH)).json()

    assert backwards.status_code == 409
    assert backwards.json()["error"] == "invalid_transition"
    assert unknown.status_code == 404
    assert found["status"] == "returned_to_sender"
    failed = found["history"][4]
    assert (failed["status"], failed["attempt"], failed["reason"]) == ("delivery_failed", 1, "Sai địa chỉ")


async def test_webhook_retried_and_resigned(
    carrier: str, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    receiver.fail_next = 1
    tracking = (await create(http, carrier, order(webhook_url=receiver.url))).json()["tracking_number"]

    await advance(http, carrier, tracking, "picked_up")
    await wait_until(lambda: receiver.accepted, message="webhook never accepted")

    assert len(receiver.refused) == 1
    assert assert_signed(receiver.accepted[0])["status"] == "picked_up"
    assert receiver.refused[0].body == receiver.accepted[0].body
    records = await wait_until(lambda: _finished_webhooks(http, carrier))
    assert (records[0]["attempts"], records[0]["delivered"]) == (2, True)


async def _finished_webhooks(http: httpx.AsyncClient, base: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = (await http.get(f"{base}/_control/webhooks")).json()
    return [record for record in records if record["finished_at"]]


async def test_carrier_down_for_two_requests(carrier: str, http: httpx.AsyncClient) -> None:
    await http.post(f"{carrier}/_control/faults", json={"mode": "error_500", "count": 2})
    body = order()

    statuses = [(await create(http, carrier, body)).status_code for _ in range(3)]

    assert statuses == [500, 500, 201]
    assert len((await http.get(f"{carrier}/_control/orders")).json()) == 1


async def test_carrier_timeout_then_retry_creates_one_order(carrier: str, http: httpx.AsyncClient) -> None:
    await http.post(f"{carrier}/_control/faults", json={"mode": "timeout", "count": 1})
    body = order()

    with pytest.raises(httpx.ReadTimeout):
        await http.post(f"{carrier}/v1/orders", json=body, headers=AUTH, timeout=0.2)
    retry = await create(http, carrier, body)

    assert retry.status_code == 201
    assert len((await http.get(f"{carrier}/_control/orders")).json()) == 1


async def test_auto_advance_plays_the_whole_life(
    serve_app: Any, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    app = create_carrier_app(
        API_KEY, webhook_secret=SECRET, auto_advance=True, step_delay_seconds=0.02, delivery_policy=FAST_POLICY
    )
    base = (await serve_app(app)).url
    tracking = (await create(http, base, order(webhook_url=receiver.url))).json()["tracking_number"]

    async def delivered() -> bool:
        found = (await http.get(f"{base}/v1/orders/{tracking}", headers=AUTH)).json()
        return bool(found["status"] == "delivered")

    await wait_until(delivered, message="order never delivered")
    await wait_until(lambda: len(receiver.accepted) == 4, message="webhooks missing")

    statuses = [assert_signed(call)["status"] for call in receiver.accepted]
    assert statuses == ["picked_up", "in_transit", "out_for_delivery", "delivered"]
