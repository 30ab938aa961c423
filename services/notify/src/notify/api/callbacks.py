"""What providers tell notify afterwards: SMS delivery receipts and e-mail bounces."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from notify.api.deps import UoW
from notify.service.receipts import ApplyBounce, ApplySmsReceipt, apply_bounce, apply_sms_receipt

router = APIRouter(prefix="/callbacks", tags=["callbacks"])


class SmsReceiptIn(BaseModel):
    """A delivery receipt as brand-name SMS gateways post it."""

    model_config = ConfigDict(extra="ignore")

    message_id: str = Field(min_length=1, max_length=100)
    client_ref: str = Field(min_length=1, max_length=64)
    status: Literal["delivered", "failed"]
    delivered_at: datetime | None = None
    reported_at: datetime | None = None
    reason: str | None = Field(default=None, max_length=300)


class BounceIn(BaseModel):
    """A bounce as the mail relay reports it."""

    model_config = ConfigDict(extra="ignore")

    event_id: str | None = Field(default=None, max_length=100)
    message_id: str = Field(min_length=3, max_length=300)
    kind: Literal["hard", "soft"] = "hard"
    reason: str = Field(default="bounced", max_length=1000)
    at: datetime | None = None


class OutcomeOut(BaseModel):
    outcome: Literal["accepted", "duplicate", "ignored"]


@router.post("/sms", response_model=OutcomeOut)
async def sms_receipt(body: SmsReceiptIn, uow: UoW) -> OutcomeOut:
    """The SMS reached the handset, or could not: 409 while the message is not recorded as sent yet."""
    at = body.delivered_at or body.reported_at or datetime.now(UTC)
    receipt = ApplySmsReceipt(
        client_ref=body.client_ref,
        message_id=body.message_id,
        delivered=body.status == "delivered",
        at=at,
        reason=body.reason,
    )
    return OutcomeOut(outcome=await apply_sms_receipt(receipt, uow))


@router.post("/email-bounces", response_model=OutcomeOut)
async def email_bounce(body: BounceIn, uow: UoW, request: Request) -> OutcomeOut:
    """A hard bounce makes the e-mail undelivered (and sends the message by SMS when fallback is on);
    a soft bounce is only a delay and changes nothing."""
    if body.kind == "soft":
        return OutcomeOut(outcome="ignored")
    settings = request.app.state.settings
    bounce = ApplyBounce(
        message_id=body.message_id,
        at=body.at or datetime.now(UTC),
        reason=body.reason,
        fallback=settings.fallback_to_other_channel,
    )
    return OutcomeOut(outcome=await apply_bounce(bounce, uow))
