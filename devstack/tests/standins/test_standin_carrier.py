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


# --- event ids, failure kinds and delivery proof -------------------------------------------------


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
PAYLOAD_FIELDS = {
    "event_id",
    "tracking_number",
    "order_number",
    "purpose",
    "status",
    "at",
    "attempt",
    "reason",
    "failure_kind",
    "proof",
}
DEFAULT_PROOF = {"recipient_name": "Nguyễn Văn Ánh", "relation": "self", "id_checked": True, "id_document": "CCCD"}


async def get_order(http: httpx.AsyncClient, base: str, tracking: str) -> dict[str, Any]:
    response = await http.get(f"{base}/v1/orders/{tracking}", headers=AUTH)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def wait_for_status(http: httpx.AsyncClient, base: str, tracking: str, status: str, wait_until: Any) -> Any:
    async def reached() -> dict[str, Any] | None:
        found = await get_order(http, base, tracking)
        return found if found["status"] == status else None

    return await wait_until(reached, message=f"order {tracking} never reached {status}")


def statuses(history: list[dict[str, Any]]) -> list[tuple[str, int | None]]:
    return [(entry["status"], entry["attempt"]) for entry in history]


async def test_history_entries_and_webhooks_share_event_ids(
    carrier: str, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    tracking = (await create(http, carrier, order(webhook_url=receiver.url))).json()["tracking_number"]
    for status in ("picked_up", "in_transit", "out_for_delivery", "delivered"):
        await advance(http, carrier, tracking, status)
    await wait_until(lambda: len(receiver.accepted) == 4, message="webhooks missing")

    history = (await get_order(http, carrier, tracking))["history"]
    events = [assert_signed(call) for call in receiver.accepted]

    assert all(UUID.match(entry["event_id"]) for entry in history)
    assert len({entry["event_id"] for entry in history}) == 5
    assert [event["event_id"] for event in events] == [entry["event_id"] for entry in history[1:]]
    assert all(set(event) == PAYLOAD_FIELDS for event in events)
    assert events[-1]["proof"] == history[-1]["proof"] == DEFAULT_PROOF


async def test_failure_kinds_and_proof_given_by_hand(
    carrier: str, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    tracking = (await create(http, carrier, order(webhook_url=receiver.url))).json()["tracking_number"]
    proof = {
        "recipient_name": "Trần Thị Bình",
        "relation": "authorised",
        "id_checked": True,
        "id_document": "authorisation",
    }
    steps: list[dict[str, Any]] = [
        {"status": "out_for_delivery"},
        {"status": "delivery_failed", "failure_kind": "address_problem"},
        {"status": "out_for_delivery"},
        {"status": "delivery_failed", "failure_kind": "refused", "reason": "Khách hẹn lại"},
        {"status": "out_for_delivery"},
        {"status": "delivery_failed"},
        {"status": "out_for_delivery"},
        {"status": "delivered", "proof": proof},
    ]

    for step in steps:
        response = await http.post(f"{carrier}/_control/orders/{tracking}/advance", json=step)
        assert response.status_code == 200, response.text
    await wait_until(lambda: len(receiver.accepted) == len(steps), message="webhooks missing")

    history = (await get_order(http, carrier, tracking))["history"][1:]
    events = [assert_signed(call) for call in receiver.accepted]
    described = [(entry["failure_kind"], entry["reason"]) for entry in history]
    assert described == [
        (None, None),
        ("address_problem", "Địa chỉ không chính xác, không tìm thấy người nhận"),
        (None, None),
        ("refused", "Khách hẹn lại"),
        (None, None),
        ("recipient_absent", "Người nhận vắng nhà"),
        (None, None),
        (None, None),
    ]
    assert [(event["failure_kind"], event["reason"]) for event in events] == described
    assert [entry["proof"] for entry in history] == [None] * 7 + [proof]
    assert events[-1]["proof"] == proof
    assert events[-1]["attempt"] == 4


async def test_returned_to_sender_by_hand_keeps_the_last_failure_kind(carrier: str, http: httpx.AsyncClient) -> None:
    failed = (await create(http, carrier, order())).json()["tracking_number"]
    await advance(http, carrier, failed, "out_for_delivery")
    await http.post(
        f"{carrier}/_control/orders/{failed}/advance", json={"status": "delivery_failed", "failure_kind": "other"}
    )
    never_out = (await create(http, carrier, order())).json()["tracking_number"]
    await http.post(
        f"{carrier}/_control/orders/{never_out}/advance",
        json={"status": "returned_to_sender", "failure_kind": "address_problem"},
    )

    returned = (await advance(http, carrier, failed, "returned_to_sender")).json()["history"][-1]
    explicit = (await get_order(http, carrier, never_out))["history"][-1]

    assert (returned["failure_kind"], returned["reason"]) == ("other", "Hết số lần phát, chuyển hoàn")
    assert explicit["failure_kind"] == "address_problem"
    assert returned["proof"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"status": "delivery_failed", "failure_kind": "lost"},
        {"status": "picked_up", "failure_kind": "recipient_absent"},
        {"status": "delivered", "failure_kind": "refused"},
        {"status": "delivered", "proof": {**DEFAULT_PROOF, "relation": "neighbour"}},
        {"status": "delivered", "proof": {**DEFAULT_PROOF, "id_document": "driving_licence"}},
        {"status": "delivered", "proof": {**DEFAULT_PROOF, "id_number": "001090012345"}},
        {"status": "delivered", "proof": {"recipient_name": "Nguyễn Văn Ánh"}},
        {"status": "delivered", "proof": {**DEFAULT_PROOF, "recipient_name": " "}},
        {"status": "delivery_failed", "proof": DEFAULT_PROOF},
    ],
)
async def test_advance_refuses_bad_failure_kind_or_proof(
    carrier: str, http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    tracking = (await create(http, carrier, order())).json()["tracking_number"]
    await advance(http, carrier, tracking, "out_for_delivery")

    response = await http.post(f"{carrier}/_control/orders/{tracking}/advance", json=body)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert response.json()["message"]
    assert (await get_order(http, carrier, tracking))["status"] == "out_for_delivery"


# --- the carrier's own life -----------------------------------------------------------------------


LifeCarrier = Any  # async (**create_carrier_app kwargs) -> base URL


@pytest_asyncio.fixture
async def life_carrier(serve_app: Any) -> LifeCarrier:
    """Start a carrier playing its life with tiny delays; kwargs override the defaults."""

    async def start(**overrides: Any) -> str:
        options: dict[str, Any] = {
            "webhook_secret": SECRET,
            "auto_advance": True,
            "step_delay_seconds": 0.01,
            "redelivery_delay_seconds": 0.02,
            "delivery_policy": FAST_POLICY,
            **overrides,
        }
        return str((await serve_app(create_carrier_app(API_KEY, **options))).url)

    return start


async def test_delivery_life_without_failures_ends_delivered_with_proof(
    life_carrier: LifeCarrier, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    base = await life_carrier(failure_rate=0.0)
    tracking = (await create(http, base, order(webhook_url=receiver.url))).json()["tracking_number"]

    found = await wait_for_status(http, base, tracking, "delivered", wait_until)
    await wait_until(lambda: len(receiver.accepted) == 4, message="webhooks missing")

    assert statuses(found["history"]) == [
        ("created", None),
        ("picked_up", None),
        ("in_transit", None),
        ("out_for_delivery", 1),
        ("delivered", 1),
    ]
    assert found["history"][-1]["proof"] == DEFAULT_PROOF
    events = [assert_signed(call) for call in receiver.accepted]
    assert [event["event_id"] for event in events] == [entry["event_id"] for entry in found["history"][1:]]
    assert events[-1]["proof"] == DEFAULT_PROOF


async def test_delivery_life_always_failing_returns_to_sender_after_max_attempts(
    life_carrier: LifeCarrier, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    base = await life_carrier(failure_rate=1.0, max_attempts=2, failure_kinds=["refused"])
    tracking = (await create(http, base, order(webhook_url=receiver.url))).json()["tracking_number"]

    found = await wait_for_status(http, base, tracking, "returned_to_sender", wait_until)
    await wait_until(lambda: len(receiver.accepted) == 7, message="webhooks missing")

    assert statuses(found["history"]) == [
        ("created", None),
        ("picked_up", None),
        ("in_transit", None),
        ("out_for_delivery", 1),
        ("delivery_failed", 1),
        ("out_for_delivery", 2),
        ("delivery_failed", 2),
        ("returned_to_sender", None),
    ]
    failures = [entry for entry in found["history"] if entry["status"] == "delivery_failed"]
    assert {(entry["failure_kind"], entry["reason"]) for entry in failures} == {("refused", "Người nhận từ chối nhận")}
    returned = found["history"][-1]
    assert (returned["failure_kind"], returned["reason"]) == ("refused", "Hết số lần phát, chuyển hoàn")
    events = [assert_signed(call) for call in receiver.accepted]
    assert [(event["status"], event["attempt"]) for event in events] == statuses(found["history"])[1:]
    assert events[-1]["failure_kind"] == "refused"


async def test_pickup_life_ends_delivered_to_the_centre_without_failures(
    life_carrier: LifeCarrier, http: httpx.AsyncClient, wait_until: Any
) -> None:
    base = await life_carrier(failure_rate=1.0)
    tracking = (await create(http, base, order(purpose="pickup"))).json()["tracking_number"]

    found = await wait_for_status(http, base, tracking, "delivered", wait_until)

    assert [entry["status"] for entry in found["history"]] == ["created", "picked_up", "in_transit", "delivered"]
    assert found["history"][-1]["proof"] is not None


async def test_a_seed_makes_the_life_repeatable(
    life_carrier: LifeCarrier, http: httpx.AsyncClient, wait_until: Any
) -> None:
    lives = []
    for _ in range(2):
        base = await life_carrier(
            failure_rate=0.5, max_attempts=4, failure_kinds=["recipient_absent", "address_problem", "other"], seed=7
        )
        tracking = (await create(http, base, order())).json()["tracking_number"]

        async def ended(base: str = base, tracking: str = tracking) -> list[dict[str, Any]] | None:
            found = await get_order(http, base, tracking)
            return found["history"] if found["status"] in ("delivered", "returned_to_sender") else None

        history = await wait_until(ended, message="life never ended")
        lives.append([(entry["status"], entry["attempt"], entry["failure_kind"]) for entry in history])

    assert lives[0] == lives[1]


async def test_moving_an_order_by_hand_stops_its_life(
    life_carrier: LifeCarrier, http: httpx.AsyncClient, wait_until: Any
) -> None:
    base = await life_carrier(step_delay_seconds=0.1)
    taken = (await create(http, base, order())).json()["tracking_number"]
    # in_transit -> out_for_delivery would be a legal next step: only a stopped life leaves it there.
    moved = await advance(http, base, taken, "in_transit")
    # A second order plays its whole life meanwhile: far longer than the first's next step would take.
    clock = (await create(http, base, order())).json()["tracking_number"]

    await wait_for_status(http, base, clock, "delivered", wait_until)
    history = (await get_order(http, base, taken))["history"]

    assert moved.status_code == 200
    assert history == moved.json()["history"]
    assert history[-1]["status"] == "in_transit"


# --- /_control/life ------------------------------------------------------------------------------


async def test_life_settings_read_and_partially_changed(carrier: str, http: httpx.AsyncClient) -> None:
    initial = (await http.get(f"{carrier}/_control/life")).json()

    changed = await http.post(f"{carrier}/_control/life", json={"failure_rate": 0.25, "max_attempts": 3})
    again = (await http.get(f"{carrier}/_control/life")).json()

    assert initial == {
        "auto_advance": False,
        "step_delay_seconds": 1.0,
        "failure_rate": 0.0,
        "failure_kinds": ["recipient_absent"],
        "redelivery_delay_seconds": 5.0,
        "max_attempts": 2,
        "webhooks_enabled": True,
    }
    assert changed.status_code == 200
    assert changed.json() == again == {**initial, "failure_rate": 0.25, "max_attempts": 3}


@pytest.mark.parametrize(
    "body",
    [
        {"failure_rate": 1.5},
        {"failure_rate": -0.1},
        {"step_delay_seconds": -1},
        {"redelivery_delay_seconds": -0.5},
        {"max_attempts": 0},
        {"failure_kinds": []},
        {"failure_kinds": ["lost"]},
        {"auto_advance": "sometimes"},
        {"speed": 2},
    ],
)
async def test_life_settings_validated(carrier: str, http: httpx.AsyncClient, body: dict[str, Any]) -> None:
    before = (await http.get(f"{carrier}/_control/life")).json()

    response = await http.post(f"{carrier}/_control/life", json=body)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert response.json()["message"]
    assert (await http.get(f"{carrier}/_control/life")).json() == before


async def test_auto_advance_switched_on_at_run_time_plays_new_orders(
    carrier: str, http: httpx.AsyncClient, wait_until: Any
) -> None:
    update = {"auto_advance": True, "step_delay_seconds": 0.01, "failure_rate": 1.0, "max_attempts": 1}
    assert (await http.post(f"{carrier}/_control/life", json=update)).status_code == 200
    tracking = (await create(http, carrier, order())).json()["tracking_number"]

    found = await wait_for_status(http, carrier, tracking, "returned_to_sender", wait_until)

    assert [entry["status"] for entry in found["history"]][-3:] == [
        "out_for_delivery",
        "delivery_failed",
        "returned_to_sender",
    ]


async def test_without_webhooks_steps_only_show_in_the_order(
    life_carrier: LifeCarrier, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    base = await life_carrier(webhooks_enabled=False)
    tracking = (await create(http, base, order(webhook_url=receiver.url))).json()["tracking_number"]

    found = await wait_for_status(http, base, tracking, "delivered", wait_until)

    assert len(found["history"]) == 5
    assert (await http.get(f"{base}/_control/webhooks")).json() == []
    assert receiver.accepted == receiver.refused == []


async def test_steps_made_while_webhooks_are_off_are_never_sent(
    carrier: str, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    tracking = (await create(http, carrier, order(webhook_url=receiver.url))).json()["tracking_number"]

    await http.post(f"{carrier}/_control/life", json={"webhooks_enabled": False})
    await advance(http, carrier, tracking, "picked_up")
    await http.post(f"{carrier}/_control/life", json={"webhooks_enabled": True})
    await advance(http, carrier, tracking, "in_transit")
    await wait_until(lambda: receiver.accepted, message="webhook never arrived")

    # One order's events go out in order: had picked_up been sent, it would have come first.
    assert [assert_signed(call)["status"] for call in receiver.accepted] == ["in_transit"]
    assert len((await get_order(http, carrier, tracking))["history"]) == 3


# --- return to sender on request ------------------------------------------------------------------


async def test_return_to_sender_on_request_is_idempotent(
    carrier: str, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    tracking = (await create(http, carrier, order(webhook_url=receiver.url))).json()["tracking_number"]
    await advance(http, carrier, tracking, "in_transit")
    url = f"{carrier}/v1/orders/{tracking}/return"

    first = await http.post(url, json={"reason": "Công dân nhận trực tiếp tại Bộ phận Một cửa"}, headers=AUTH)
    again = await http.post(url, json={"reason": "lần nữa"}, headers=AUTH)
    await wait_until(lambda: len(receiver.accepted) == 2, message="webhooks missing")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    returned = first.json()["history"][-1]
    assert first.json()["status"] == "returned_to_sender"
    assert (returned["reason"], returned["failure_kind"]) == ("Công dân nhận trực tiếp tại Bộ phận Một cửa", None)
    assert len(first.json()["history"]) == 3
    event = assert_signed(receiver.accepted[-1])
    assert (event["status"], event["event_id"]) == ("returned_to_sender", returned["event_id"])


async def test_return_to_sender_without_body_uses_a_default_reason(carrier: str, http: httpx.AsyncClient) -> None:
    tracking = (await create(http, carrier, order())).json()["tracking_number"]

    response = await http.post(f"{carrier}/v1/orders/{tracking}/return", headers=AUTH)

    assert response.status_code == 200
    assert response.json()["status"] == "returned_to_sender"
    assert response.json()["history"][-1]["reason"]


async def test_return_to_sender_refused_once_delivered(carrier: str, http: httpx.AsyncClient) -> None:
    tracking = (await create(http, carrier, order())).json()["tracking_number"]
    await advance(http, carrier, tracking, "delivered")

    response = await http.post(f"{carrier}/v1/orders/{tracking}/return", json={"reason": "muộn"}, headers=AUTH)

    assert response.status_code == 409
    assert response.json()["error"] == "invalid_transition"
    assert "delivered" in response.json()["message"]
    assert (await get_order(http, carrier, tracking))["status"] == "delivered"


@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        ({}, None, 401),
        (AUTH, {"reason": ""}, 422),
        (AUTH, {"reason": "x", "urgent": True}, 422),
    ],
)
async def test_return_to_sender_auth_and_validation(
    carrier: str, http: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any] | None, code: int
) -> None:
    tracking = (await create(http, carrier, order())).json()["tracking_number"]

    response = await http.post(f"{carrier}/v1/orders/{tracking}/return", json=body, headers=headers)
    missing = await http.post(f"{carrier}/v1/orders/EB000000000VN/return", headers=AUTH)

    assert response.status_code == code
    assert missing.status_code == 404
    assert (await get_order(http, carrier, tracking))["status"] == "created"


async def test_return_to_sender_goes_through_injected_faults(carrier: str, http: httpx.AsyncClient) -> None:
    tracking = (await create(http, carrier, order())).json()["tracking_number"]
    await http.post(f"{carrier}/_control/faults", json={"mode": "error_500", "count": 1})

    failed = await http.post(f"{carrier}/v1/orders/{tracking}/return", headers=AUTH)
    retried = await http.post(f"{carrier}/v1/orders/{tracking}/return", headers=AUTH)

    assert (failed.status_code, retried.status_code) == (500, 200)
    assert [entry["status"] for entry in retried.json()["history"]] == ["created", "returned_to_sender"]


async def test_return_to_sender_stops_the_auto_life(
    life_carrier: LifeCarrier, http: httpx.AsyncClient, receiver: Any, wait_until: Any
) -> None:
    base = await life_carrier(step_delay_seconds=0.05)
    tracking = (await create(http, base, order(webhook_url=receiver.url))).json()["tracking_number"]

    async def on_its_way() -> bool:
        return (await get_order(http, base, tracking))["status"] != "created"

    await wait_until(on_its_way, message="the life never started")
    returned = await http.post(f"{base}/v1/orders/{tracking}/return", headers=AUTH)
    # A second order plays its whole life meanwhile: far longer than the first's next step would take.
    clock = (await create(http, base, order())).json()["tracking_number"]
    await wait_for_status(http, base, clock, "delivered", wait_until)

    assert returned.status_code == 200
    history = (await get_order(http, base, tracking))["history"]
    assert history == returned.json()["history"]
    assert history[-1]["status"] == "returned_to_sender"
    assert "delivered" not in [entry["status"] for entry in history]
    await wait_until(lambda: len(receiver.accepted) == len(history) - 1, message="webhooks missing")
    assert [assert_signed(call)["event_id"] for call in receiver.accepted] == [e["event_id"] for e in history[1:]]


# --- find an order by its number ------------------------------------------------------------------


async def test_find_order_by_number_and_purpose(carrier: str, http: httpx.AsyncClient) -> None:
    body = order()
    tracking = (await create(http, carrier, body)).json()["tracking_number"]

    def find(order_number: str, purpose: str) -> Any:
        return http.get(f"{carrier}/v1/orders", params={"order_number": order_number, "purpose": purpose}, headers=AUTH)

    found = await find(body["order_number"], "delivery")
    other_purpose = await find(body["order_number"], "pickup")
    unknown = await find("000.00.01.H26-nothing", "delivery")

    assert found.status_code == 200
    assert [item["tracking_number"] for item in found.json()["orders"]] == [tracking]
    assert found.json()["orders"][0] == await get_order(http, carrier, tracking)
    assert other_purpose.status_code == unknown.status_code == 200
    assert other_purpose.json() == unknown.json() == {"orders": []}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"order_number": "000.00.01.H26-1"},
        {"purpose": "delivery"},
        {"order_number": "000.00.01.H26-1", "purpose": "return"},
        {"order_number": "", "purpose": "delivery"},
    ],
)
async def test_find_order_needs_both_params(carrier: str, http: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await http.get(f"{carrier}/v1/orders", params=params, headers=AUTH)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert response.json()["message"]


async def test_find_order_needs_the_key(carrier: str, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{carrier}/v1/orders", params={"order_number": "x", "purpose": "delivery"})

    assert response.status_code == 401
