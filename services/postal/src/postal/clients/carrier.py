"""The carrier behind a small interface, and its VNPost-shaped HTTP adapter.

Errors are classified at the client: timeouts, connection failures, 408, 429 and 5xx are
``retryable`` (retried here a few times with backoff, then again later by the command loop);
any other refusal is permanent and lands on the shipment for an officer to see. Creating an order
is safe to repeat: the carrier de-duplicates on (order number, purpose) and answers "already exists"
with the same tracking number.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar

import httpx
import stamina
from pydantic import BaseModel, ConfigDict, ValidationError

from postal import metrics
from postal.domain.tracking import CarrierStatus, FailureKind, Proof, Report

T = TypeVar("T")


class CarrierError(Exception):
    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True)
class Party:
    name: str
    phone: str
    address: str
    commune: str
    province: str


@dataclass(frozen=True)
class CarrierOrder:
    order_number: str
    purpose: Literal["pickup", "delivery"]
    sender: Party
    recipient: Party
    cod_amount: int
    weight_grams: int
    service_type: str
    webhook_url: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class OrderAck:
    tracking_number: str
    created: bool
    """False when the carrier already had this order (a repeated call)."""


@dataclass(frozen=True)
class TrackingStep:
    event_id: str
    report: Report


@dataclass(frozen=True)
class Tracking:
    tracking_number: str
    status: str
    steps: list[TrackingStep] = field(default_factory=list)


class Carrier(Protocol):
    code: str

    async def create_order(self, order: CarrierOrder) -> OrderAck: ...

    async def get_tracking(self, tracking_number: str) -> Tracking: ...

    async def request_return(self, tracking_number: str, reason: str) -> None: ...


class CarrierStep(BaseModel):
    """One step as a VNPost-shaped carrier reports it, in a webhook or in an order's history."""

    model_config = ConfigDict(extra="ignore")

    event_id: str
    status: CarrierStatus
    at: datetime
    attempt: int | None = None
    reason: str | None = None
    failure_kind: FailureKind | None = None
    proof: dict[str, Any] | None = None

    def report(self) -> Report:
        proof = None
        if self.proof:
            proof = Proof(
                recipient_name=str(self.proof.get("recipient_name") or ""),
                relation="authorised" if self.proof.get("relation") == "authorised" else "self",
                id_checked=bool(self.proof.get("id_checked")),
                id_document=self.proof.get("id_document"),
            )
        return Report(
            status=self.status,
            at=self.at,
            attempt=self.attempt,
            reason=self.reason,
            failure_kind=self.failure_kind,
            proof=proof,
        )


def _retryable(exc: Exception) -> bool:
    return isinstance(exc, CarrierError) and exc.retryable


class VNPostCarrier:
    """The HTTP adapter: ``POST /v1/orders``, ``GET /v1/orders/{tracking}``, ``POST .../return``."""

    def __init__(
        self,
        *,
        code: str,
        base_url: str,
        api_key: str,
        timeout_seconds: float,
        attempts: int,
        backoff_initial_seconds: float,
        backoff_max_seconds: float,
    ) -> None:
        self.code = code
        self._attempts = attempts
        self._wait_initial = backoff_initial_seconds
        self._wait_max = backoff_max_seconds
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(timeout_seconds),
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def create_order(self, order: CarrierOrder) -> OrderAck:
        body = {
            "order_number": order.order_number,
            "purpose": order.purpose,
            "service_type": order.service_type,
            "sender": asdict(order.sender),
            "recipient": asdict(order.recipient),
            "cod_amount": order.cod_amount,
            "weight_grams": order.weight_grams,
            "note": order.note,
            "webhook_url": order.webhook_url,
        }
        data = await self._call("create_order", lambda: self._http.post("/v1/orders", json=body))
        return OrderAck(tracking_number=data["tracking_number"], created=data.get("status") != "already_exists")

    async def get_tracking(self, tracking_number: str) -> Tracking:
        data = await self._call("get_order", lambda: self._http.get(f"/v1/orders/{tracking_number}"))
        try:
            steps = [CarrierStep.model_validate(h) for h in data.get("history", [])]
        except ValidationError as exc:
            raise CarrierError(f"the carrier's tracking answer is not readable: {exc}", retryable=False) from exc
        return Tracking(
            tracking_number=data["tracking_number"],
            status=data["status"],
            steps=[TrackingStep(event_id=s.event_id, report=s.report()) for s in steps],
        )

    async def request_return(self, tracking_number: str, reason: str) -> None:
        await self._call(
            "request_return", lambda: self._http.post(f"/v1/orders/{tracking_number}/return", json={"reason": reason})
        )

    async def _call(self, operation: str, send: Callable[[], Awaitable[httpx.Response]]) -> dict[str, Any]:
        async for attempt in stamina.retry_context(
            on=_retryable,
            attempts=self._attempts,
            wait_initial=self._wait_initial,
            wait_max=self._wait_max,
            timeout=None,
        ):
            with attempt:
                return await self._once(operation, send)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, operation: str, send: Callable[[], Awaitable[httpx.Response]]) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            response = await send()
        except httpx.TimeoutException as exc:
            metrics.record_carrier_call(self.code, operation, "timeout", time.perf_counter() - started)
            raise CarrierError(f"the carrier did not answer in time ({type(exc).__name__})", retryable=True) from exc
        except httpx.TransportError as exc:
            metrics.record_carrier_call(self.code, operation, "unreachable", time.perf_counter() - started)
            raise CarrierError(f"the carrier is unreachable ({type(exc).__name__})", retryable=True) from exc
        elapsed = time.perf_counter() - started
        if response.is_success:
            metrics.record_carrier_call(self.code, operation, "ok", elapsed)
            try:
                return dict(response.json())
            except ValueError as exc:
                raise CarrierError("the carrier answered with a body that is not JSON", retryable=True) from exc
        retryable = response.status_code in (408, 425, 429) or response.status_code >= 500
        metrics.record_carrier_call(self.code, operation, f"http_{response.status_code // 100}xx", elapsed)
        raise CarrierError(
            f"the carrier refused {operation} with HTTP {response.status_code}: {_message(response)}",
            retryable=retryable,
            status=response.status_code,
        )


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(data, dict):
        return str(data.get("message") or data.get("detail") or data)[:300]
    return str(data)[:300]
