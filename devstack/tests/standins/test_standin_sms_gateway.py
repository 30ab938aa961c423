"""The SMS gateway stand-in, exercised over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import httpx
import pytest
import pytest_asyncio

from motcua_devstack.standins import DeliveryPolicy, create_sms_gateway_app

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

API_KEY = "test-sms-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
FAST_POLICY = DeliveryPolicy(timeout_seconds=2.0, attempts=3, backoff_seconds=0.01)


def sms(phone: str = "0912345678", text: str = "Ho so da tiep nhan", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sender": "MOTCUA",
        "phone": phone,
        "text": text,
        "client_ref": f"ref-{uuid.uuid4()}",
        "callback_url": None,
    }
    body.update(overrides)
    return body


@pytest_asyncio.fixture
async def gateway(serve_app: Any) -> str:
    app = create_sms_gateway_app(
        API_KEY, receipt_delay_seconds=0.01, fault_delay_seconds=1.0, delivery_policy=FAST_POLICY
    )
    return str((await serve_app(app)).url)


async def messages(http: httpx.AsyncClient, base: str, **params: str) -> list[dict[str, Any]]:
    response = await http.get(f"{base}/_control/messages", params=params)
    assert response.status_code == 200
    result: list[dict[str, Any]] = response.json()
    return result


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}, {"Authorization": f"Basic {API_KEY}"}],
)
async def test_refuses_missing_or_wrong_key(gateway: str, http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await http.post(f"{gateway}/v1/sms", json=sms(), headers=headers)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
    assert await messages(http, gateway) == []


@pytest.mark.parametrize(
    "phone", ["+84912345678", "0212345678", "091234567", "09123456789", "0112345678", "849123456", "0912 345 678", ""]
)
async def test_invalid_phone_is_a_permanent_400(gateway: str, http: httpx.AsyncClient, phone: str) -> None:
    response = await http.post(f"{gateway}/v1/sms", json=sms(phone=phone), headers=AUTH)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_phone"
    assert body["message"]


@pytest.mark.parametrize("phone", ["0912345678", "0389999999", "0561234567", "0701234567", "0812345678", "84912345678"])
async def test_accepts_vietnamese_mobile_numbers(gateway: str, http: httpx.AsyncClient, phone: str) -> None:
    response = await http.post(f"{gateway}/v1/sms", json=sms(phone=phone), headers=AUTH)

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "accepted"
    assert body["duplicate"] is False
    uuid.UUID(body["message_id"])


@pytest.mark.parametrize(
    "overrides",
    [
        {"sender": "TWELVE-CHARS"},
        {"sender": ""},
        {"text": ""},
        {"client_ref": ""},
        {"client_ref": "x" * 65},
        {"callback_url": "not-a-url"},
        {"unexpected": True},
    ],
)
async def test_schema_violations_are_422(gateway: str, http: httpx.AsyncClient, overrides: dict[str, Any]) -> None:
    response = await http.post(f"{gateway}/v1/sms", json=sms(**overrides), headers=AUTH)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_same_client_ref_returns_same_message_and_stores_one(gateway: str, http: httpx.AsyncClient) -> None:
    body = sms()

    first = await http.post(f"{gateway}/v1/sms", json=body, headers=AUTH)
    second = await http.post(f"{gateway}/v1/sms", json=body, headers=AUTH)

    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json()["message_id"] == first.json()["message_id"]
    assert second.json()["duplicate"] is True
    stored = await messages(http, gateway, client_ref=body["client_ref"])
    assert [message["message_id"] for message in stored] == [first.json()["message_id"]]


async def test_concurrent_retries_with_one_client_ref_store_one_message(gateway: str, http: httpx.AsyncClient) -> None:
    body = sms()

    responses = await asyncio.gather(*(http.post(f"{gateway}/v1/sms", json=body, headers=AUTH) for _ in range(20)))

    assert sorted(response.status_code for response in responses) == [200] * 19 + [202]
    assert len({response.json()["message_id"] for response in responses}) == 1
    assert len(await messages(http, gateway)) == 1


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("Hồ sơ đã được tiếp nhận", "UCS-2", 1),
        ("ồ" * 70, "UCS-2", 1),
        ("ồ" * 71, "UCS-2", 2),
        ("ồ" * 134, "UCS-2", 2),
        ("ồ" * 135, "UCS-2", 3),
    ],
)
async def test_counts_segments(gateway: str, http: httpx.AsyncClient, text: str, encoding: str, segments: int) -> None:
    response = await http.post(f"{gateway}/v1/sms", json=sms(text=text), headers=AUTH)

    assert response.status_code == 202
    assert (response.json()["encoding"], response.json()["segments"]) == (encoding, segments)


async def test_error_500_for_count_requests_then_ok(gateway: str, http: httpx.AsyncClient) -> None:
    await http.post(f"{gateway}/_control/faults", json={"mode": "error_500", "count": 2})
    body = sms()

    statuses = [(await http.post(f"{gateway}/v1/sms", json=body, headers=AUTH)).status_code for _ in range(3)]

    assert statuses == [500, 500, 202]
    assert (await http.get(f"{gateway}/_control/faults")).json() == {"mode": "none", "remaining": None}
    assert len(await messages(http, gateway)) == 1


async def test_throttle_429_until_changed_carries_retry_after(gateway: str, http: httpx.AsyncClient) -> None:
    await http.post(f"{gateway}/_control/faults", json={"mode": "throttle_429", "count": None})

    for _ in range(3):
        response = await http.post(f"{gateway}/v1/sms", json=sms(), headers=AUTH)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"] == "rate_limited"

    await http.post(f"{gateway}/_control/faults", json={"mode": "none"})
    assert (await http.post(f"{gateway}/v1/sms", json=sms(), headers=AUTH)).status_code == 202


async def test_timeout_fault_then_retry_with_same_ref_sends_once(gateway: str, http: httpx.AsyncClient) -> None:
    await http.post(f"{gateway}/_control/faults", json={"mode": "timeout", "count": 1})
    body = sms()

    with pytest.raises(httpx.ReadTimeout):
        await http.post(f"{gateway}/v1/sms", json=body, headers=AUTH, timeout=0.2)
    retry = await http.post(f"{gateway}/v1/sms", json=body, headers=AUTH)

    assert retry.status_code == 202
    assert len(await messages(http, gateway)) == 1


async def test_rate_limit_answers_429_with_retry_after(serve_app: Any, http: httpx.AsyncClient) -> None:
    base = (await serve_app(create_sms_gateway_app(API_KEY, max_per_second=1))).url

    first = await http.post(f"{base}/v1/sms", json=sms(), headers=AUTH)
    second = await http.post(f"{base}/v1/sms", json=sms(), headers=AUTH)

    assert first.status_code == 202
    assert second.status_code == 429
    assert second.headers["retry-after"] == "1"


async def test_delivery_receipt_reaches_callback(
    gateway: str, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    body = sms(callback_url=receiver.url)

    accepted = (await http.post(f"{gateway}/v1/sms", json=body, headers=AUTH)).json()
    await wait_until(lambda: receiver.accepted, message="no receipt arrived")

    receipt = receiver.accepted[0].json()
    assert receipt["message_id"] == accepted["message_id"]
    assert receipt["client_ref"] == body["client_ref"]
    assert receipt["status"] == "delivered"
    assert receipt["delivered_at"].endswith("+00:00")
    assert receiver.accepted[0].headers["content-type"] == "application/json"


async def test_duplicate_does_not_send_a_second_receipt(
    gateway: str, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    first, second = sms(callback_url=receiver.url), sms(callback_url=receiver.url)
    await http.post(f"{gateway}/v1/sms", json=first, headers=AUTH)
    await http.post(f"{gateway}/v1/sms", json=first, headers=AUTH)
    await http.post(f"{gateway}/v1/sms", json=second, headers=AUTH)

    await wait_until(lambda: len(receiver.accepted) >= 2, message="receipts missing")
    records = (await http.get(f"{gateway}/_control/receipts")).json()

    assert sorted(call.json()["client_ref"] for call in receiver.accepted) == sorted(
        [first["client_ref"], second["client_ref"]]
    )
    assert len(records) == 2


async def test_receipt_outcome_failed_for_a_phone(
    gateway: str, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    outcome = await http.post(f"{gateway}/_control/receipt-outcome", json={"phone": "84987654321", "status": "failed"})
    assert outcome.status_code == 200

    await http.post(f"{gateway}/v1/sms", json=sms(phone="0987654321", callback_url=receiver.url), headers=AUTH)
    await wait_until(lambda: receiver.accepted, message="no receipt arrived")

    receipt = receiver.accepted[0].json()
    assert receipt["status"] == "failed"
    assert receipt["delivered_at"] is None
    assert receipt["reason"]


async def test_receipt_retried_until_callback_accepts(
    gateway: str, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    receiver.fail_next = 2

    await http.post(f"{gateway}/v1/sms", json=sms(callback_url=receiver.url), headers=AUTH)
    await wait_until(lambda: receiver.accepted, message="receipt never accepted")

    assert len(receiver.refused) == 2
    records = await wait_until(lambda: _finished_records(http, gateway))
    assert records[0]["attempts"] == 3
    assert records[0]["delivered"] is True


async def test_receipt_to_dead_callback_gives_up_after_three_attempts(
    gateway: str, http: httpx.AsyncClient, wait_until: Any
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"

    await http.post(f"{gateway}/v1/sms", json=sms(callback_url=dead_url), headers=AUTH)
    records = await wait_until(lambda: _finished_records(http, gateway), message="delivery never finished")

    assert records[0]["attempts"] == 3
    assert records[0]["delivered"] is False
    assert records[0]["last_error"]


async def _finished_records(http: httpx.AsyncClient, base: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = (await http.get(f"{base}/_control/receipts")).json()
    return [record for record in records if record["finished_at"]]


async def test_inspection_filters_and_clear(gateway: str, http: httpx.AsyncClient) -> None:
    one, two = sms(phone="0912345678"), sms(phone="0987654321", text="Xin chào")
    for body in (one, two):
        await http.post(f"{gateway}/v1/sms", json=body, headers=AUTH)

    by_phone = await messages(http, gateway, phone="84912345678")
    by_ref = await messages(http, gateway, client_ref=two["client_ref"])

    assert [message["client_ref"] for message in by_phone] == [one["client_ref"]]
    assert by_ref[0]["text"] == "Xin chào"
    assert set(by_ref[0]) >= {"message_id", "sender", "phone", "text", "client_ref", "segments", "received_at"}
    assert (await http.delete(f"{gateway}/_control/messages")).json() == {"deleted": 2}
    assert await messages(http, gateway) == []
    again = await http.post(f"{gateway}/v1/sms", json=one, headers=AUTH)
    assert again.status_code == 202
