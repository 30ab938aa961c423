"""A postal carrier stand-in shaped like VNPost: orders, tracking, signed webhooks and a parcel's life.

Business API (Bearer auth, fault injection):

- ``POST /v1/orders`` — create an order; de-duplicated on (order_number, purpose):
  201 ``{"tracking_number", "status": "created"}`` or 200 ``"already_exists"``.
- ``GET /v1/orders?order_number=...&purpose=...`` — ``{"orders": [...]}`` (zero or
  one order), for a client whose create call timed out.
- ``GET /v1/orders/{tracking}`` — the order with its ``history``.
- ``POST /v1/orders/{tracking}/return`` — body ``{"reason"}`` optional: return to
  sender at once (200 with the order; idempotent on returned_to_sender; 409 on delivered).

Every history entry has an ``event_id``; a webhook for that step carries the same
id. Webhooks are POSTed to the order's ``webhook_url`` with ``X-Carrier-Timestamp``
and ``X-Carrier-Signature`` = hex HMAC-SHA256(secret, f"{timestamp}.{body}"), one
order's events in order. Payload fields: event_id, tracking_number, order_number,
purpose, status, at, attempt, reason, failure_kind (delivery_failed and
returned_to_sender only), proof (delivered only: recipient_name, relation,
id_checked, id_document — never an ID number).

Test control API (no auth): ``/_control/...`` — ``POST /_control/orders/{tracking}/advance``
moves an order by hand (and stops its automatic life); ``GET /_control/orders``,
``GET /_control/webhooks``, ``GET/POST /_control/faults``; ``GET/POST /_control/life``
reads or changes (partially) the life the carrier plays when ``auto_advance`` is on:

- delivery: created → picked_up → in_transit → out_for_delivery → delivered, or
  delivery_failed with probability ``failure_rate``; after a failure, wait
  ``redelivery_delay_seconds`` and go out again; after ``max_attempts`` failures,
  returned_to_sender.
- pickup: created → picked_up → in_transit → delivered (to the centre).

Each step waits ``step_delay_seconds``; a life stops when its order is moved by hand
or returned on request, or when ``auto_advance`` is switched off (orders created
while it was off do not start playing later). ``seed`` makes the dice repeatable.
With ``webhooks_enabled`` off the carrier sends no webhooks at all (steps only show
in ``GET /v1/orders/{tracking}``, and are never sent later).
See :func:`create_carrier_app`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import secrets
import time
import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ._app import standin_app
from ._delivery import DeliveryPolicy, DeliveryRecord, TaskSet, deliver
from ._faults import FaultInjector, fault_control_router
from ._http import (
    HttpUrlStr,
    StandinError,
    bearer_auth,
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
FailureKind = Literal["recipient_absent", "address_problem", "refused", "other"]

STATUS_RANK: dict[OrderStatus, int] = {
    "created": 0,
    "picked_up": 1,
    "in_transit": 2,
    "out_for_delivery": 3,
    "delivery_failed": 4,
    "delivered": 5,
    "returned_to_sender": 5,
}
"""The statuses in order within one delivery attempt (postal's client reads them in this order too);
after ``delivery_failed`` the next attempt goes ``out_for_delivery`` again."""
_TERMINAL = frozenset({"delivered", "returned_to_sender"})
_COUNTS_ATTEMPT = frozenset({"out_for_delivery", "delivery_failed", "delivered"})
_HAS_FAILURE_KIND = frozenset({"delivery_failed", "returned_to_sender"})

FAILURE_REASONS: dict[FailureKind, str] = {
    "recipient_absent": "Người nhận vắng nhà",
    "address_problem": "Địa chỉ không chính xác, không tìm thấy người nhận",
    "refused": "Người nhận từ chối nhận",
    "other": "Không phát được",
}
DEFAULT_FAILURE_KIND: FailureKind = "recipient_absent"
RETURN_REASON = "Hết số lần phát, chuyển hoàn"
RETURN_ON_REQUEST_REASON = "Chuyển hoàn theo yêu cầu của người gửi"

# The automatic life's plain forward steps; out_for_delivery and delivery_failed are decided in play.
_FORWARD: dict[Purpose, dict[str, OrderStatus]] = {
    "delivery": {"created": "picked_up", "picked_up": "in_transit", "in_transit": "out_for_delivery"},
    "pickup": {"created": "picked_up", "picked_up": "in_transit", "in_transit": "delivered"},
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


class DeliveryProof(BaseModel):
    """Who took the parcel and what the postman checked; never an ID number."""

    model_config = ConfigDict(extra="forbid")

    recipient_name: Text
    relation: Literal["self", "authorised"]
    id_checked: bool
    id_document: Literal["CCCD", "passport", "authorisation"]


def _new_event_id() -> str:
    return str(uuid.uuid4())


class HistoryEntry(BaseModel):
    event_id: str = Field(default_factory=_new_event_id)
    status: OrderStatus
    at: str
    attempt: int | None = None
    reason: str | None = None
    failure_kind: FailureKind | None = None
    proof: DeliveryProof | None = None


class Order(OrderRequest):
    tracking_number: str
    status: OrderStatus
    created_at: str
    history: list[HistoryEntry]


class OrderList(BaseModel):
    """Answer of ``GET /v1/orders?order_number=...&purpose=...``."""

    orders: list[Order]


class AdvanceRequest(BaseModel):
    """Body of ``POST /_control/orders/{tracking}/advance``."""

    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    reason: str | None = None
    failure_kind: FailureKind | None = None
    proof: DeliveryProof | None = None

    @model_validator(mode="after")
    def _fits_status(self) -> Self:
        if self.failure_kind is not None and self.status not in _HAS_FAILURE_KIND:
            raise ValueError("failure_kind is only for delivery_failed and returned_to_sender")
        if self.proof is not None and self.status != "delivered":
            raise ValueError("proof is only for delivered")
        return self


class ReturnRequest(BaseModel):
    """Body (optional) of ``POST /v1/orders/{tracking}/return``."""

    model_config = ConfigDict(extra="forbid")

    reason: Text | None = None


Seconds = Annotated[float, Field(ge=0)]
Rate = Annotated[float, Field(ge=0, le=1)]
Attempts = Annotated[int, Field(ge=1)]
FailureKinds = Annotated[list[FailureKind], Field(min_length=1)]


class CarrierLife(BaseModel):
    """How the carrier plays a parcel's life; ``GET /_control/life``."""

    model_config = ConfigDict(extra="forbid")

    auto_advance: bool = False
    step_delay_seconds: Seconds = 1.0
    failure_rate: Rate = 0.0
    failure_kinds: FailureKinds = Field(default_factory=lambda: [DEFAULT_FAILURE_KIND])
    redelivery_delay_seconds: Seconds = 5.0
    max_attempts: Attempts = 2
    webhooks_enabled: bool = True


class CarrierLifeUpdate(BaseModel):
    """Body of ``POST /_control/life``: only the fields given (and not null) change."""

    model_config = ConfigDict(extra="forbid")

    auto_advance: bool | None = None
    step_delay_seconds: Seconds | None = None
    failure_rate: Rate | None = None
    failure_kinds: FailureKinds | None = None
    redelivery_delay_seconds: Seconds | None = None
    max_attempts: Attempts | None = None
    webhooks_enabled: bool | None = None

    def applied_to(self, life: CarrierLife) -> CarrierLife:
        return CarrierLife.model_validate({**life.model_dump(), **self.model_dump(exclude_none=True)})


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

    Orders only move forward (:data:`STATUS_RANK`); a failed delivery may go out
    again (the next attempt); terminal states (delivered, returned_to_sender) never change.
    """
    if current in _TERMINAL:
        return f"order is already {current}"
    if target == "created":
        return "an order cannot go back to created"
    if current == "delivery_failed" and target == "out_for_delivery":
        return None
    if STATUS_RANK[target] < STATUS_RANK[current]:
        return f"cannot move from {current} back to {target}"
    return None


def _failures(order: Order) -> list[HistoryEntry]:
    return [entry for entry in order.history if entry.status == "delivery_failed"]


def _attempt_number(order: Order, target: OrderStatus) -> int | None:
    if target not in _COUNTS_ATTEMPT:
        return None
    return 1 + len(_failures(order))


def _last_failure_kind(order: Order) -> FailureKind | None:
    failures = _failures(order)
    return failures[-1].failure_kind if failures else None


def _default_proof(order: Order) -> DeliveryProof:
    return DeliveryProof(recipient_name=order.recipient.name, relation="self", id_checked=True, id_document="CCCD")


def _new_entry(
    order: Order,
    target: OrderStatus,
    reason: str | None,
    failure_kind: FailureKind | None,
    proof: DeliveryProof | None,
) -> HistoryEntry:
    """The history entry for ``target``, with the defaults a real carrier would fill in."""
    if target == "delivery_failed":
        failure_kind = failure_kind or DEFAULT_FAILURE_KIND
        reason = reason or FAILURE_REASONS[failure_kind]
    elif target == "returned_to_sender":
        failure_kind = failure_kind or _last_failure_kind(order)
        reason = reason or RETURN_REASON
    else:
        failure_kind = None
    if target == "delivered":
        proof = proof or _default_proof(order)
    else:
        proof = None
    return HistoryEntry(
        status=target,
        at=utc_now_iso(),
        attempt=_attempt_number(order, target),
        reason=reason,
        failure_kind=failure_kind,
        proof=proof,
    )


def event_payload(order: Order, entry: HistoryEntry) -> dict[str, Any]:
    """The JSON posted to the order's ``webhook_url``; ``event_id`` is the history entry's."""
    return {
        "event_id": entry.event_id,
        "tracking_number": order.tracking_number,
        "order_number": order.order_number,
        "purpose": order.purpose,
        "status": entry.status,
        "at": entry.at,
        "attempt": entry.attempt,
        "reason": entry.reason,
        "failure_kind": entry.failure_kind,
        "proof": entry.proof.model_dump() if entry.proof else None,
    }


class CarrierState:
    """Everything the carrier remembers; lives as long as its app."""

    def __init__(
        self,
        *,
        webhook_secret: str,
        life: CarrierLife,
        fault_delay_seconds: float,
        delivery_policy: DeliveryPolicy,
        seed: int | None = None,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.life = life
        self.random = random.Random(seed)
        self.delivery_policy = delivery_policy
        self.faults = FaultInjector("carrier", fault_delay_seconds)
        self.tasks = TaskSet()
        self.orders: dict[str, Order] = {}
        self.by_key: dict[tuple[str, str], str] = {}
        self.webhooks: list[DeliveryRecord] = []
        self._webhook_locks: dict[str, asyncio.Lock] = {}
        self._lives: dict[str, asyncio.Task[None]] = {}

    @property
    def auto_advance(self) -> bool:
        return self.life.auto_advance

    @property
    def step_delay_seconds(self) -> float:
        return self.life.step_delay_seconds

    def _new_tracking_number(self) -> str:
        while True:
            candidate = make_tracking_number(secrets.randbelow(10**8))
            if candidate not in self.orders:
                return candidate

    def create(self, request: OrderRequest) -> tuple[Order, bool]:
        """Create the order, or return the existing one for (order_number, purpose)."""
        existing = self.find(request.order_number, request.purpose)
        if existing is not None:
            return existing, False
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

    def find(self, order_number: str, purpose: Purpose) -> Order | None:
        tracking_number = self.by_key.get((order_number, purpose))
        return None if tracking_number is None else self.orders[tracking_number]

    def get(self, tracking_number: str) -> Order:
        order = self.orders.get(tracking_number)
        if order is None:
            raise StandinError(404, "not_found", f"no order with tracking number {tracking_number}")
        return order

    def advance(
        self,
        tracking_number: str,
        target: OrderStatus,
        reason: str | None,
        *,
        failure_kind: FailureKind | None = None,
        proof: DeliveryProof | None = None,
    ) -> Order:
        """Move the order by hand; its automatic life (if any) stops here."""
        order = self.get(tracking_number)
        problem = transition_error(order.status, target)
        if problem is not None:
            raise StandinError(409, "invalid_transition", problem)
        self._stop_life(tracking_number)
        self._record(order, _new_entry(order, target, reason, failure_kind, proof))
        return order

    def return_to_sender(self, tracking_number: str, reason: str | None) -> Order:
        """The sender asks for the parcel back: at once, idempotent, refused once delivered."""
        order = self.get(tracking_number)
        if order.status == "returned_to_sender":
            return order
        if order.status == "delivered":
            raise StandinError(
                409, "invalid_transition", f"order {tracking_number} is already delivered; it cannot be returned"
            )
        self._stop_life(tracking_number)
        entry = _new_entry(order, "returned_to_sender", reason or RETURN_ON_REQUEST_REASON, None, None)
        self._record(order, entry)
        return order

    def _record(self, order: Order, entry: HistoryEntry) -> None:
        order.history.append(entry)
        order.status = entry.status
        fields = {"tracking_number": order.tracking_number, "status": entry.status, "event_id": entry.event_id}
        logger.info("order advanced", extra={"fields": fields})
        if order.webhook_url and self.life.webhooks_enabled:
            self.tasks.spawn(self._send_event(order, entry), name=f"carrier-webhook-{order.tracking_number}")

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

    def start_life(self, tracking_number: str) -> None:
        """Play the order's life in the background (``auto_advance``)."""
        task = self.tasks.spawn(self.play_life(tracking_number), name=f"carrier-life-{tracking_number}")
        self._lives[tracking_number] = task

    def _stop_life(self, tracking_number: str) -> None:
        task = self._lives.pop(tracking_number, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _life_delay(self, order: Order) -> float:
        if order.status == "delivery_failed" and len(_failures(order)) < self.life.max_attempts:
            return self.life.redelivery_delay_seconds
        return self.life.step_delay_seconds

    def _life_step(self, order: Order) -> HistoryEntry | None:
        """The next step of the order's life (the dice are rolled here), or None when it is over."""
        if order.status in _TERMINAL:
            return None
        forward = _FORWARD[order.purpose].get(order.status)
        if forward is not None:
            return _new_entry(order, forward, None, None, None)
        if order.purpose == "pickup":
            return None
        if order.status == "out_for_delivery":
            if self.random.random() < self.life.failure_rate:
                kind = self.random.choice(self.life.failure_kinds)
                return _new_entry(order, "delivery_failed", None, kind, None)
            return _new_entry(order, "delivered", None, None, None)
        if len(_failures(order)) >= self.life.max_attempts:
            return _new_entry(order, "returned_to_sender", RETURN_REASON, _last_failure_kind(order), None)
        return _new_entry(order, "out_for_delivery", None, None, None)

    async def play_life(self, tracking_number: str) -> None:
        """Play ``self.life`` for this order until the life ends, the order is moved by hand or auto_advance is off."""
        try:
            while True:
                order = self.orders.get(tracking_number)
                if order is None or order.status in _TERMINAL:
                    return
                await asyncio.sleep(self._life_delay(order))
                if not self.life.auto_advance:
                    return
                entry = self._life_step(order)
                if entry is None or transition_error(order.status, entry.status) is not None:
                    return
                self._record(order, entry)
        finally:
            if self._lives.get(tracking_number) is asyncio.current_task():
                del self._lives[tracking_number]


def _business_router(state: CarrierState, api_key: str) -> APIRouter:
    router = APIRouter(prefix="/v1", dependencies=[Depends(state.faults.apply), Depends(bearer_auth(api_key))])

    @router.post("/orders")
    async def create_order(request: OrderRequest) -> JSONResponse:
        order, created = state.create(request)
        fields = {"tracking_number": order.tracking_number, "order_number": order.order_number, "created": created}
        logger.info("order received", extra={"fields": fields})
        if created and state.life.auto_advance:
            state.start_life(order.tracking_number)
        status = "created" if created else "already_exists"
        return JSONResponse(
            {"tracking_number": order.tracking_number, "status": status}, status_code=201 if created else 200
        )

    @router.get("/orders")
    async def find_orders(
        order_number: Annotated[str, Query(min_length=1, max_length=64)], purpose: Purpose
    ) -> OrderList:
        order = state.find(order_number, purpose)
        return OrderList(orders=[] if order is None else [order])

    @router.get("/orders/{tracking_number}")
    async def get_order(tracking_number: str) -> Order:
        return state.get(tracking_number)

    @router.post("/orders/{tracking_number}/return")
    async def return_order(tracking_number: str, request: ReturnRequest | None = None) -> Order:
        return state.return_to_sender(tracking_number, request.reason if request else None)

    return router


def _control_router(state: CarrierState) -> APIRouter:
    router = APIRouter(prefix="/_control")

    @router.get("/orders")
    async def list_orders(order_number: str | None = None) -> list[Order]:
        return [order for order in state.orders.values() if order_number in (None, order.order_number)]

    @router.post("/orders/{tracking_number}/advance")
    async def advance_order(tracking_number: str, request: AdvanceRequest) -> Order:
        return state.advance(
            tracking_number, request.status, request.reason, failure_kind=request.failure_kind, proof=request.proof
        )

    @router.get("/webhooks")
    async def list_webhooks() -> list[DeliveryRecord]:
        return list(state.webhooks)

    @router.get("/life")
    async def get_life() -> CarrierLife:
        return state.life

    @router.post("/life")
    async def set_life(update: CarrierLifeUpdate) -> CarrierLife:
        state.life = update.applied_to(state.life)
        logger.info("carrier life changed", extra={"fields": state.life.model_dump()})
        return state.life

    return router


def create_carrier_app(
    api_key: str,
    *,
    webhook_secret: str = "local-webhook-secret",
    auto_advance: bool = False,
    step_delay_seconds: float = 1.0,
    fault_delay_seconds: float = 30.0,
    delivery_policy: DeliveryPolicy | None = None,
    failure_rate: float = 0.0,
    failure_kinds: Sequence[FailureKind] = (DEFAULT_FAILURE_KIND,),
    redelivery_delay_seconds: float = 5.0,
    max_attempts: int = 2,
    webhooks_enabled: bool = True,
    seed: int | None = None,
) -> FastAPI:
    """Build the carrier app. Its state is at ``app.state.standin`` (:class:`CarrierState`).

    The life settings (``auto_advance`` ... ``webhooks_enabled``) can be changed later
    with ``POST /_control/life``; ``seed`` makes the dice (failures, kinds) repeatable.
    Invalid settings raise :class:`pydantic.ValidationError`.
    """
    life = CarrierLife(
        auto_advance=auto_advance,
        step_delay_seconds=step_delay_seconds,
        failure_rate=failure_rate,
        failure_kinds=list(failure_kinds),
        redelivery_delay_seconds=redelivery_delay_seconds,
        max_attempts=max_attempts,
        webhooks_enabled=webhooks_enabled,
    )
    state = CarrierState(
        webhook_secret=webhook_secret,
        life=life,
        fault_delay_seconds=fault_delay_seconds,
        delivery_policy=delivery_policy or DeliveryPolicy(),
        seed=seed,
    )

    return standin_app(
        "carrier",
        "postal carrier",
        state=state,
        running=state.tasks.running,
        routers=[_business_router(state, api_key), _control_router(state), fault_control_router(state.faults)],
    )
