"""What became of a sent message: SMS delivery receipts and e-mail bounces, applied once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from motcua_kit.errors import Conflict, NotFound
from motcua_kit.logs import mask_text
from motcua_kit.uow import UnitOfWork, use_case
from notify import metrics
from notify.domain.notification import Notification
from notify.service.sending import fall_back
from notify.store import Repositories

Outcome = Literal["accepted", "duplicate"]


@dataclass(frozen=True)
class ApplySmsReceipt:
    client_ref: str
    message_id: str
    delivered: bool
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class ApplyBounce:
    message_id: str
    at: datetime
    reason: str
    fallback: bool


@use_case
async def apply_sms_receipt(cmd: ApplySmsReceipt, uow: UnitOfWork[Repositories]) -> Outcome:
    """A gateway's delivery receipt: the SMS becomes delivered or undelivered, once. A receipt for a
    message not yet recorded as sent is refused with a 409, so the gateway sends it again later."""
    async with uow:
        n = await uow.repos.notifications.get(cmd.client_ref)
        if n is None or n.channel != "sms" or n.provider_reference not in (None, cmd.message_id):
            raise NotFound("no SMS with this client reference and message id", code="unknown_message")
        return await _apply(n, uow, delivered=cmd.delivered, at=cmd.at, reason=cmd.reason or "undelivered")


@use_case
async def apply_bounce(cmd: ApplyBounce, uow: UnitOfWork[Repositories]) -> Outcome:
    """A bounce for an e-mail: it becomes undelivered, once, and goes by SMS when fallback is on."""
    nid = cmd.message_id.strip().strip("<>").split("@", 1)[0]
    async with uow:
        n = await uow.repos.notifications.get(nid)
        if n is None or n.channel != "email":
            raise NotFound("no e-mail with this Message-ID", code="unknown_message")
        return await _apply(n, uow, delivered=False, at=cmd.at, reason=cmd.reason, fallback=cmd.fallback)


async def _apply(
    n: Notification,
    uow: UnitOfWork[Repositories],
    *,
    delivered: bool,
    at: datetime,
    reason: str,
    fallback: bool = False,
) -> Outcome:
    if n.awaiting_send:
        raise Conflict("this message is not recorded as sent yet; send the report again later", code="not_sent_yet")
    if n.status != "sent":
        return "duplicate"
    if delivered:
        uow.publish(*n.delivered(at))
    else:
        uow.publish(*n.undelivered(at=at, note=mask_text(reason), kind=reason_kind(reason)))
    await uow.repos.notifications.save(n)
    if not delivered and fallback:
        await fall_back(n, uow, at)
    status = n.status
    uow.after_commit(lambda: metrics.record_delivery(n.channel, n.provider or "", status))
    await uow.commit()
    return "accepted"


def reason_kind(reason: str) -> str:
    """A short reason for events and metrics, without the address a bounce text may quote."""
    text = reason.lower()
    if "user unknown" in text or "5.1.1" in text or "does not exist" in text:
        return "recipient_unknown"
    if "mailbox full" in text or "5.2.2" in text:
        return "mailbox_full"
    return "".join(c if c.isalnum() else "_" for c in text.split(":")[0])[:40] or "undelivered"
