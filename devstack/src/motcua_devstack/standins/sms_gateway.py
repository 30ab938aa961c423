"""A brand-name SMS gateway stand-in (the kind Vietnamese carriers' resellers run).

Business API (Bearer auth): ``POST /v1/sms``. De-duplication on ``client_ref``
is what lets the product retry safely and still send each SMS exactly once.
Test control API (no auth): ``/_control/...``. See :func:`create_sms_gateway_app`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from motcua_kit.values import mask_phone

from ._app import standin_app
from ._delivery import DeliveryPolicy, DeliveryRecord, TaskSet, deliver
from ._faults import (
    FaultInjector,
    RateLimiter,
    fault_control_router,
    rate_limit_control_router,
)
from ._http import (
    HttpUrlStr,
    StandinError,
    bearer_auth,
    utc_now_iso,
)
from .phones import normalize_vn_mobile
from .sms_encoding import Encoding, count_segments

logger = logging.getLogger(__name__)

ReceiptStatus = Literal["delivered", "failed"]
DEFAULT_FAILURE_REASON = "subscriber_unreachable"


class SmsRequest(BaseModel):
    """Body of ``POST /v1/sms``. Unknown fields are refused (422)."""

    model_config = ConfigDict(extra="forbid")

    sender: Annotated[str, Field(min_length=1, max_length=11)]
    phone: str
    text: Annotated[str, Field(min_length=1)]
    client_ref: Annotated[str, Field(min_length=1, max_length=64)]
    callback_url: HttpUrlStr | None = None


class SmsAccepted(BaseModel):
    message_id: str
    status: Literal["accepted"] = "accepted"
    segments: int
    encoding: Encoding
    duplicate: bool


class StoredSms(BaseModel):
    message_id: str
    sender: str
    phone: str
    text: str
    client_ref: str
    segments: int
    encoding: Encoding
    callback_url: str | None
    received_at: str


class ReceiptOutcome(BaseModel):
    """Body of ``POST /_control/receipt-outcome``."""

    model_config = ConfigDict(extra="forbid")

    phone: str
    status: ReceiptStatus
    reason: str | None = None


class SmsGatewayState:
    """Everything the gateway remembers; lives as long as its app."""

    def __init__(
        self,
        *,
        receipts: bool,
        receipt_delay_seconds: float,
        max_per_second: int | None,
        fault_delay_seconds: float,
        delivery_policy: DeliveryPolicy,
    ) -> None:
        self.receipts_enabled = receipts
        self.receipt_delay_seconds = receipt_delay_seconds
        self.delivery_policy = delivery_policy
        self.faults = FaultInjector("sms_gateway", fault_delay_seconds)
        self.limiter = RateLimiter(max_per_second)
        self.tasks = TaskSet()
        self.messages: dict[str, StoredSms] = {}
        self.by_client_ref: dict[str, str] = {}
        self.receipt_outcomes: dict[str, ReceiptOutcome] = {}
        self.receipts: list[DeliveryRecord] = []

    def accept(self, request: SmsRequest) -> tuple[StoredSms, bool]:
        """Store a new message, or return the one already stored for ``client_ref``.

        Runs without awaiting, so two concurrent requests cannot both create.
        """
        existing_id = self.by_client_ref.get(request.client_ref)
        if existing_id is not None:
            return self.messages[existing_id], False
        count = count_segments(request.text)
        message = StoredSms(
            message_id=str(uuid.uuid4()),
            sender=request.sender,
            phone=request.phone,
            text=request.text,
            client_ref=request.client_ref,
            segments=count.segments,
            encoding=count.encoding,
            callback_url=request.callback_url,
            received_at=utc_now_iso(),
        )
        self.messages[message.message_id] = message
        self.by_client_ref[message.client_ref] = message.message_id
        return message, True

    def find(self, phone: str | None, client_ref: str | None) -> list[StoredSms]:
        wanted_phone = (normalize_vn_mobile(phone) or phone) if phone else None
        return [
            message
            for message in self.messages.values()
            if (wanted_phone is None or (normalize_vn_mobile(message.phone) or message.phone) == wanted_phone)
            and (client_ref is None or message.client_ref == client_ref)
        ]

    def clear(self) -> int:
        count = len(self.messages)
        self.messages.clear()
        self.by_client_ref.clear()
        self.receipts.clear()
        return count

    def outcome_for(self, phone: str) -> ReceiptOutcome:
        normalized = normalize_vn_mobile(phone) or phone
        return self.receipt_outcomes.get(normalized, ReceiptOutcome(phone=normalized, status="delivered"))


def _require_mobile(phone: str) -> str:
    normalized = normalize_vn_mobile(phone)
    if normalized is None:
        raise StandinError(
            400,
            "invalid_phone",
            "phone must be a Vietnamese mobile number: 0xxxxxxxxx (prefix 03/05/07/08/09) or 84xxxxxxxxx",
        )
    return normalized


def receipt_payload(message: StoredSms, outcome: ReceiptOutcome) -> dict[str, str | None]:
    """The JSON posted to ``callback_url``."""
    now = utc_now_iso()
    delivered = outcome.status == "delivered"
    return {
        "message_id": message.message_id,
        "client_ref": message.client_ref,
        "status": outcome.status,
        "delivered_at": now if delivered else None,
        "reported_at": now,
        "reason": None if delivered else (outcome.reason or DEFAULT_FAILURE_REASON),
    }


async def _send_receipt(state: SmsGatewayState, message: StoredSms) -> None:
    await asyncio.sleep(state.receipt_delay_seconds)
    assert message.callback_url is not None
    payload = receipt_payload(message, state.outcome_for(message.phone))
    record = DeliveryRecord(kind="sms_receipt", url=message.callback_url, payload=payload)
    state.receipts.append(record)
    await deliver(record, state.delivery_policy)


def _log_accepted(message: StoredSms, created: bool) -> None:
    fields = {
        "message_id": message.message_id,
        "client_ref": message.client_ref,
        "phone": mask_phone(message.phone),
        "segments": message.segments,
        "duplicate": not created,
    }
    logger.info("sms accepted" if created else "sms duplicate", extra={"fields": fields})


def _business_router(state: SmsGatewayState, api_key: str) -> APIRouter:
    router = APIRouter()
    guards = [Depends(state.faults.apply), Depends(bearer_auth(api_key)), Depends(state.limiter.check)]

    @router.post("/v1/sms", dependencies=guards, response_model=SmsAccepted)
    async def send_sms(request: SmsRequest) -> JSONResponse:
        _require_mobile(request.phone)
        message, created = state.accept(request)
        _log_accepted(message, created)
        if created and state.receipts_enabled and message.callback_url:
            state.tasks.spawn(_send_receipt(state, message), name=f"sms-receipt-{message.message_id}")
        body = SmsAccepted(
            message_id=message.message_id,
            segments=message.segments,
            encoding=message.encoding,
            duplicate=not created,
        )
        return JSONResponse(body.model_dump(), status_code=202 if created else 200)

    return router


def _control_router(state: SmsGatewayState) -> APIRouter:
    router = APIRouter(prefix="/_control")

    @router.get("/messages")
    async def list_messages(phone: str | None = None, client_ref: str | None = None) -> list[StoredSms]:
        return state.find(phone, client_ref)

    @router.delete("/messages")
    async def clear_messages() -> dict[str, int]:
        return {"deleted": state.clear()}

    @router.post("/receipt-outcome")
    async def set_receipt_outcome(outcome: ReceiptOutcome) -> ReceiptOutcome:
        stored = outcome.model_copy(update={"phone": _require_mobile(outcome.phone)})
        state.receipt_outcomes[stored.phone] = stored
        return stored

    @router.get("/receipts")
    async def list_receipts() -> list[DeliveryRecord]:
        return list(state.receipts)

    return router


def create_sms_gateway_app(
    api_key: str,
    receipts: bool = True,
    *,
    receipt_delay_seconds: float = 0.2,
    max_per_second: int | None = None,
    fault_delay_seconds: float = 30.0,
    delivery_policy: DeliveryPolicy | None = None,
) -> FastAPI:
    """Build the SMS gateway app. Its state is at ``app.state.standin`` (:class:`SmsGatewayState`)."""
    state = SmsGatewayState(
        receipts=receipts,
        receipt_delay_seconds=receipt_delay_seconds,
        max_per_second=max_per_second,
        fault_delay_seconds=fault_delay_seconds,
        delivery_policy=delivery_policy or DeliveryPolicy(),
    )

    return standin_app(
        "sms_gateway",
        "SMS gateway",
        state=state,
        running=state.tasks.running,
        routers=[
            _business_router(state, api_key),
            _control_router(state),
            fault_control_router(state.faults),
            rate_limit_control_router(state.limiter),
        ],
    )
