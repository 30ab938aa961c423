"""A postal carrier stand-in shaped like VNPost: orders, tracking and signed webhooks.

Business API (Bearer auth): ``POST /v1/orders``, ``GET /v1/orders/{tracking}``.
Test control API (no auth): ``/_control/...`` — tests drive each parcel's life
by hand with ``POST /_control/orders/{tracking}/advance`` (or the app plays it
automatically with ``auto_advance=True``). See :func:`create_carrier_app`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ._delivery import DeliveryPolicy, DeliveryRecord, TaskSet, deliver
from ._faults import FaultInjector, fault_control_router
from ._http import (
    HttpUrlStr,
    StandinError,
    bearer_auth,
    health_router,
    install_error_handlers,
    utc_now_iso,
)
from .phones import normalize_vn_phone

logger = logging.getLogger(__name__)

OrderStatus = Literal[
    "created",
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "delivery_failed",
    "returned_to_sender",
]
Purpose = Literal["pickup", "delivery"]

AUTO_LIFE: tuple[OrderStatus, ...] = ("picked_up", "in_transit", "out_for_delivery", "delivered")
_RANK: dict[str, int] = {
    "created": 0,
    "picked_up": 1,
    "in_transit": 2,
    "out_for_delivery": 3,
    "delivery_failed": 3,
    "delivered": 4,
    "returned_to_sender": 4,
}
_TERMINAL = frozenset({"delivered", "returned_to_sender"})
_COUNTS_ATTEMPT = frozenset({"out_for_delivery", "delivery_failed", "delivered"})
_DEFAULT_REASONS: dict[str, str] = {
    "delivery_failed": "Người nhận vắng nhà",
    "returned_to_sender": "Hết số lần phát, chuyển hoàn",
}

TIMESTAMP_HEADER = "X-Carrier-Timestamp"
SIGNATURE_HEADER = "X-Carrier-Signature"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


def _check_phone(value: str) -> str:
    if normalize_vn_phone(value) is None:
        raise ValueError("must be a Vietnamese phone number: 0xxxxxxxxx / 02xxxxxxxxx or the 84... form")
    return value


class Party(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    phone: Annotated[str, AfterValidator(_check_phone)]
    address: Text
    province: Text
    commune: Text


class OrderRequest(BaseModel):
    """Body of ``POST /v1/orders``. Unknown fields are refused (422)."""

    model_config = ConfigDict(extra="forbid")

    order_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    purpose: Purpose
    service_type: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    sender: Party
    recipient: Party
    cod_amount: Annotated[int, Field(ge=0, strict=True)]
    weight_grams: Annotated[int, Field(gt=0, strict=True)]
    note: str | None = None
    webhook_url: HttpUrlStr | None = None


class HistoryEntry(BaseModel):
    status: OrderStatus
    at: str
    attempt: int | None = None
    reason: str | None = None


class Order(OrderRequest):
    tracking_number: str
    status: OrderStatus
    created_at: str
    history: list[HistoryEntry]


class AdvanceRequest(BaseModel):
    """Body of ``POST /_control/orders/{tracking}/advance``."""

    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    reason: str | None = None


_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """UPU S10 check digit of an 8-digit serial number."""
    check = 11 - sum(int(digit) * weight for digit, weight in zip(serial, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def make_tracking_number(serial: int, prefix: str = "EB", country: str = "VN") -> str:
    """An S10 item identifier, e.g. ``EB123456785VN``."""
    digits = f"{serial:08d}"
    return f"{prefix}{digits}{s10_check_digit(digits)}{country}"


def sign_webhook(secret: str, timestamp: str, body: bytes) -> str:
    """``hex(HMAC-SHA256(secret, f"{timestamp}.{raw_body}"))``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_webhook(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance_seconds: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver should do: check the signature and that the timestamp is recent."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance_seconds and hmac.compare_digest(sign_webhook(secret, timestamp, body), signature)


def transition_error(current: OrderStatus, target: OrderStatus) -> str | None:
    """Why ``current -> target`` is not allowed, or None when it is.

    Orders only move forward; a failed delivery may go out again; terminal
    states (delivered, returned_to_sender) never change.
    """
    if current in _TERMINAL:
        return f"order is already {current}"
    if target == "created":
        return "an order cannot go back to created"
    if _RANK[target] < _RANK[current]:
        return f"cannot move from {current} back to {target}"
    return None


def _attempt_number(order: Order, target: OrderStatus) -> int | None:
    if target not in _COUNTS_ATTEMPT:
        return None
    return 1 + sum(1 for entry in order.history if entry.status == "delivery_failed")


def event_payload(order: Order, entry: HistoryEntry) -> dict[str, str | int | None]:
    """The JSON posted to the order's ``webhook_url``."""
    return {
        "event_id": str(uuid.uuid4()),
        "tracking_number": order.tracking_number,
        "order_number": order.order_number,
        "purpose": order.purpose,
        "status": entry.status,
        "at": entry.at,
        "attempt": entry.attempt,
        "reason": entry.reason,
    }


class CarrierState:
    """Everything the carrier remembers; lives as long as its app."""

    def __init__(
        self,
        *,
        webhook_secret: str,
        auto_advance: bool,
        step_delay_seconds: float,
        fault_delay_seconds: float,
        delivery_policy: DeliveryPolicy,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.auto_advance = auto_advance
        self.step_delay_seconds = step_delay_seconds
        self.delivery_policy = delivery_policy
        self.faults = FaultInjector("carrier", fault_delay_seconds)
        self.tasks = TaskSet()
        self.orders: dict[str, Order] = {}
        self.by_key: dict[tuple[str, str], str] = {}
        self.webhooks: list[DeliveryRecord] = []
        self._webhook_locks: dict[str, asyncio.Lock] = {}

    def _new_tracking_number(self) -> str:
        while True:
            candidate = make_tracking_number(secrets.randbelow(10**8))
            if candidate not in self.orders:
                return candidate

    def create(self, request: OrderRequest) -> tuple[Order, bool]:
        """Create the order, or return the existing one for (order_number, purpose)."""
        existing = self.by_key.get((request.order_number, request.purpose))
        if existing is not None:
            return self.orders[existing], False
        now = utc_now_iso()
        order = Order(
            **request.model_dump(),
            tracking_number=self._new_tracking_number(),
            status="created",
            created_at=now,
            history=[HistoryEntry(status="created", at=now)],
        )
        self.orders[order.tracking_number] = order
        self.by_key[(order.order_number, order.purpose)] = order.tracking_number
        return order, True

    def get(self, tracking_number: str) -> Order:
        order = self.orders.get(tracking_number)
        if order is None:
            raise StandinError(404, "not_found", f"no order with tracking number {tracking_number}")
        return order

    def advance(self, tracking_number: str, target: OrderStatus, reason: str | None) -> Order:
        order = self.get(tracking_number)
        problem = transition_error(order.status, target)
        if problem is not None:
            raise StandinError(409, "invalid_transition", problem)
        entry = HistoryEntry(
            status=target,
            at=utc_now_iso(),
            attempt=_attempt_number(order, target),
            reason=reason or _DEFAULT_REASONS.get(target),
        )
        order.history.append(entry)
        order.status = target
        logger.info("order advanced", extra={"fields": {"tracking_number": tracking_number, "status": target}})
        if order.webhook_url:
            self.tasks.spawn(self._send_event(order, entry), name=f"carrier-webhook-{tracking_number}")
        return order

    def _signed_headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign_webhook(self.webhook_secret, timestamp, body)}

    async def _send_event(self, order: Order, entry: HistoryEntry) -> None:
        """Deliver one event; events of one order go out in order (one at a time)."""
        assert order.webhook_url is not None
        record = DeliveryRecord(kind="carrier_event", url=order.webhook_url, payload=event_payload(order, entry))
        self.webhooks.append(record)
        lock = self._webhook_locks.setdefault(order.tracking_number, asyncio.Lock())
        async with lock:
            await deliver(record, self.delivery_policy, sign=self._signed_headers)

    async def play_life(self, tracking_number: str) -> None:
        """``auto_advance``: created -> picked_up -> in_transit -> out_for_delivery -> delivered."""
        for target in AUTO_LIFE:
            await asyncio.sleep(self.step_delay_seconds)
            order = self.orders.get(tracking_number)
            if order is None or transition_error(order.status, target) is not None:
                return
            self.advance(tracking_number, target, None)


def _business_router(state: CarrierState, api_key: str) -> APIRouter:
    router = APIRouter(prefix="/v1", dependencies=[Depends(state.faults.apply), Depends(bearer_auth(api_key))])

    @router.post("/orders")
    async def create_order(request: OrderRequest) -> JSONResponse:
        order, created = state.create(request)
        fields = {"tracking_number": order.tracking_number, "order_number": order.order_number, "created": created}
        logger.info("order received", extra={"fields": fields})
        if created and state.auto_advance:
            state.tasks.spawn(state.play_life(order.tracking_number), name=f"carrier-life-{order.tracking_number}")
        status = "created" if created else "already_exists"
        return JSONResponse(
            {"tracking_number": order.tracking_number, "status": status}, status_code=201 if created else 200
        )

    @router.get("/orders/{tracking_number}")
    async def get_order(tracking_number: str) -> Order:
        return state.get(tracking_number)

    return router


def _control_router(state: CarrierState) -> APIRouter:
    router = APIRouter(prefix="/_control")

    @router.get("/orders")
    async def list_orders(order_number: str | None = None) -> list[Order]:
        return [order for order in state.orders.values() if order_number in (None, order.order_number)]

    @router.post("/orders/{tracking_number}/advance")
    async def advance_order(tracking_number: str, request: AdvanceRequest) -> Order:
        return state.advance(tracking_number, request.status, request.reason)

    @router.get("/webhooks")
    async def list_webhooks() -> list[DeliveryRecord]:
        return list(state.webhooks)

    return router


def create_carrier_app(
    api_key: str,
    *,
    webhook_secret: str = "local-webhook-secret",
    auto_advance: bool = False,
    step_delay_seconds: float = 1.0,
    fault_delay_seconds: float = 30.0,
    delivery_policy: DeliveryPolicy | None = None,
) -> FastAPI:
    """Build the carrier app. Its state is at ``app.state.standin`` (:class:`CarrierState`)."""
    state = CarrierState(
        webhook_secret=webhook_secret,
        auto_advance=auto_advance,
        step_delay_seconds=step_delay_seconds,
        fault_delay_seconds=fault_delay_seconds,
        delivery_policy=delivery_policy or DeliveryPolicy(),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await state.tasks.aclose()

    app = FastAPI(title="motcua stand-in: postal carrier", lifespan=lifespan)
    app.state.standin = state
    install_error_handlers(app)
    app.include_router(health_router("carrier"))
    app.include_router(_business_router(state, api_key))
    app.include_router(_control_router(state))
    app.include_router(fault_control_router(state.faults))
    return app
