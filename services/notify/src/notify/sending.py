"""Sending what is owed, exactly once, and learning what became of it.

A notification is recorded before it is sent (``service.record_notifications``); the sender loop
claims one at a time with a lease, so replicas never send the same one at once. The notification
id travels as the SMS ``client_ref`` and as the e-mail Message-ID: a sender that crashed after the
provider took the message but before recording it lets the lease expire, the message is claimed
again and the provider recognises the repeat.

Before each attempt: SMS wait for the end of quiet hours; a citizen who opted out is not told; the
provider's rate limit (a one-second window shared by every replica) may defer the message. An SMS
goes to the primary gateway unless it has failed ``failover_after_failures`` times in a row (then
to the backup for ``failover_cooldown_seconds``); a message whose last try timed out stays with that
gateway, which may have taken it. Retryable failures are tried again with growing delays within
``send_window_seconds``, then end as ``technical_failure``; permanent ones end as ``failed`` at once,
and the message goes on the other channel when the citizen has one and fallback is on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.errors import Conflict, NotFound
from motcua_kit.events import NotificationDelivered, NotificationFailed, NotificationSent
from motcua_kit.logs import get_logger, mask_text
from motcua_kit.mongo import Document
from motcua_kit.outbox import Tx, UnitOfWork
from notify import metrics, store
from notify.clients.errors import PermanentSendError, RetryableSendError, SendError
from notify.domain.messages import OutgoingMessage, notification_id
from notify.domain.schedule import quiet_until, retry_at
from notify.settings import NotifySettings

log = get_logger(__name__)


class SmsSender(Protocol):
    name: str

    async def send(self, phone: str, text: str, client_ref: str) -> str: ...


class EmailSender(Protocol):
    name: str

    async def send(self, *, notification_id: str, recipient: str, subject: str, text: str, html: str | None) -> str: ...


@dataclass(frozen=True)
class Senders:
    sms: SmsSender
    email: EmailSender
    sms_backup: SmsSender | None = None

    def sms_gateways(self) -> list[SmsSender]:
        return [self.sms, *([self.sms_backup] if self.sms_backup else [])]


def rate_limits(settings: NotifySettings) -> dict[str, int]:
    limits = {settings.sms.name: settings.sms.max_per_second, "smtp": settings.smtp.max_per_second}
    if settings.sms_backup:
        limits[settings.sms_backup.name] = settings.sms_backup.max_per_second
    return limits


def choose_sms(doc: Document, senders: Senders, health: dict[str, Document], now: datetime) -> SmsSender:
    gateways = senders.sms_gateways()
    if doc.get("last_error_kind") == "timeout":
        for gateway in gateways:
            if gateway.name == doc.get("provider"):
                return gateway  # it may have taken the message: ask it again, it de-duplicates
    for gateway in gateways:
        down_until = (health.get(gateway.name) or {}).get("down_until")
        if not down_until or down_until <= now:
            return gateway
    return senders.sms  # every gateway is out: keep trying the primary


async def _deliver(doc: Document, sender: SmsSender | EmailSender) -> str:
    if doc["channel"] == "sms":
        return await sender.send(doc["recipient"], doc["text"], doc["_id"])  # type: ignore[call-arg]
    return await sender.send(  # type: ignore[call-arg]
        notification_id=doc["_id"],
        recipient=doc["recipient"],
        subject=doc["subject"] or "",
        text=doc["text"],
        html=doc["html"],
    )


async def deliver(doc: Document, senders: Senders) -> str:
    """Hands one notification to the primary provider of its channel; returns the provider's reference."""
    return await _deliver(doc, senders.sms if doc["channel"] == "sms" else senders.email)


async def send_due(
    db: AsyncDatabase[Document], uow: UnitOfWork, senders: Senders, settings: NotifySettings, now: datetime
) -> int:
    """Sends every notification due at ``now``; returns how many were processed.

    ``sender_concurrency`` claims run side by side (each claim is atomic, so no two take the same
    message); a message put back for later is due after ``now``, so each loop ends.
    """
    lease = timedelta(seconds=settings.sending_lease_seconds)
    health = await store.provider_states(db)
    processed = 0

    async def loop() -> None:
        nonlocal health, processed
        while (doc := await store.claim_due(db, now, lease)) is not None:
            try:
                outcome = await send_one(db, uow, doc, senders, settings, now, health)
            except (
                Exception
            ) as exc:  # the database failed us mid-way: give the message back, not held until the lease ends
                log.warning("send interrupted, the message goes back", notification_id=doc["_id"], error=repr(exc))
                await store.defer(db, doc["_id"], until=now + timedelta(seconds=1), reason="interrupted", at=now)
                return
            processed += 1
            if outcome != "sent":
                health = await store.provider_states(db)

    await asyncio.gather(*(loop() for _ in range(settings.sender_concurrency)))
    return processed


async def send_one(
    db: AsyncDatabase[Document],
    uow: UnitOfWork,
    doc: Document,
    senders: Senders,
    settings: NotifySettings,
    now: datetime,
    health: dict[str, Document] | None = None,
) -> str:
    """One claimed notification: deferred, not sent (opted out), sent, or failed; returns what happened."""
    channel = doc["channel"]
    quiet = settings.quiet_hours
    if channel == "sms" and quiet.enabled and (until := quiet_until(now, settings.tz, quiet.start, quiet.end)):
        await store.defer(db, doc["_id"], until=until, reason="quiet_hours", at=now)
        metrics.record_deferred(channel, "quiet_hours")
        return "deferred"
    if await store.is_opted_out(db, channel, doc["recipient"]):
        await uow.run(
            lambda tx: store.mark_final(
                tx.db, tx.session, doc["_id"], status="opted_out", provider=None, error="the citizen opted out", at=now
            )
        )
        metrics.record_given_up(channel, "none", "opted_out")
        return "opted_out"
    sender: SmsSender | EmailSender = (
        choose_sms(doc, senders, health if health is not None else await store.provider_states(db), now)
        if channel == "sms"
        else senders.email
    )
    if not await store.take_rate_slot(db, sender.name, now, rate_limits(settings).get(sender.name, 10)):
        await store.defer(db, doc["_id"], until=now + timedelta(seconds=1), reason="rate_limited", at=now)
        metrics.record_deferred(channel, "rate_limited")
        return "deferred"
    try:
        reference = await _deliver(doc, sender)
    except SendError as exc:
        return await _failed(db, uow, doc, sender.name, exc, settings, now)
    except Exception as exc:  # a client bug must not leave the notification stuck until its lease ends
        log.exception("unexpected error while sending", notification_id=doc["_id"])
        return await _failed(db, uow, doc, sender.name, RetryableSendError("unexpected", repr(exc)), settings, now)
    if channel == "sms":
        await store.record_provider_outcome(
            db, sender.name, ok=True, at=now, threshold=settings.failover_after_failures, cooldown=_cooldown(settings)
        )
    await mark_sent(uow, doc, reference, provider=sender.name)
    return "sent"


def _cooldown(settings: NotifySettings) -> timedelta:
    return timedelta(seconds=settings.failover_cooldown_seconds)


async def mark_sent(uow: UnitOfWork, doc: Document, provider_reference: str, *, provider: str) -> bool:
    """In one transaction: the notification becomes ``sent`` and ``NotificationSent`` is published."""
    sent_at = datetime.now(UTC)

    async def work(tx: Tx) -> bool:
        if not await store.mark_sent(
            tx.db, tx.session, doc["_id"], provider=provider, provider_reference=provider_reference, sent_at=sent_at
        ):
            return False  # another sender got there first (it had taken over an expired lease)
        await tx.publish(
            NotificationSent(
                dossier_code=doc["dossier_code"],
                notification_id=doc["_id"],
                trigger_event_type=doc["trigger_event_type"],
                channel=doc["channel"],
                provider=provider,
                provider_reference=provider_reference,
                sent_at=sent_at,
            )
        )
        return True

    marked = await uow.run(work)
    if marked:
        metrics.record_sent(doc["channel"], provider, (sent_at - doc["trigger_occurred_at"]).total_seconds())
        log.info(
            "notification sent",
            notification_id=doc["_id"],
            channel=doc["channel"],
            provider=provider,
            attempts=doc["attempts"],
        )
    return marked


async def _failed(
    db: AsyncDatabase[Document],
    uow: UnitOfWork,
    doc: Document,
    provider: str,
    error: SendError,
    settings: NotifySettings,
    now: datetime,
) -> str:
    channel = doc["channel"]
    note = mask_text(str(error))
    metrics.record_provider_error(provider, error.kind)
    if channel == "sms" and isinstance(error, RetryableSendError):
        out = await store.record_provider_outcome(
            db, provider, ok=False, at=now, threshold=settings.failover_after_failures, cooldown=_cooldown(settings)
        )
        if out:
            metrics.record_failover(provider)
            log.warning(
                "SMS gateway taken out after repeated failures",
                provider=provider,
                seconds=settings.failover_cooldown_seconds,
            )
    if isinstance(error, RetryableSendError) and doc["attempts"] < settings.send_max_attempts:
        next_at = retry_at(
            doc["attempts"],
            now=now,
            owed_at=doc["created_at"],
            initial_seconds=settings.send_backoff_initial_seconds,
            max_seconds=settings.send_backoff_max_seconds,
            window_seconds=settings.send_window_seconds,
            retry_after_seconds=error.retry_after_seconds,
        )
        if next_at is not None:
            await store.retry_later(
                db, doc["_id"], provider=provider, error=note, kind=error.kind, at=now, next_attempt_at=next_at
            )
            metrics.record_retry(channel)
            log.warning(
                "send failed, will retry",
                notification_id=doc["_id"],
                channel=channel,
                kind=error.kind,
                attempts=doc["attempts"],
            )
            return "pending"
    status: store.Status = "failed" if isinstance(error, PermanentSendError) else "technical_failure"

    async def work(tx: Tx) -> None:
        if not await store.mark_final(
            tx.db, tx.session, doc["_id"], status=status, provider=provider, error=note, at=now
        ):
            return
        await _publish_failed(tx, doc, status, error.kind, now)
        if status == "failed" and settings.fallback_to_other_channel:
            await _fall_back(tx, doc, now)

    await uow.run(work)
    metrics.record_given_up(channel, provider, status)
    log.error(
        "send failed, giving up",
        notification_id=doc["_id"],
        channel=channel,
        status=status,
        kind=error.kind,
        attempts=doc["attempts"],
    )
    return status


async def _publish_failed(
    tx: Tx, doc: Document, status: Literal["failed", "technical_failure", "undelivered"], reason: str, at: datetime
) -> None:
    await tx.publish(
        NotificationFailed(
            dossier_code=doc["dossier_code"],
            notification_id=doc["_id"],
            trigger_event_type=doc["trigger_event_type"],
            channel=doc["channel"],
            status=status,
            reason=reason,
            failed_at=at,
        )
    )


async def _fall_back(tx: Tx, doc: Document, now: datetime) -> bool:
    """The same message on the other channel, when the citizen has an address there (recorded once)."""
    alt = doc.get("fallback")
    if not alt or await store.is_opted_out(tx.db, alt["channel"], alt["recipient"], tx.session):
        return False
    message = OutgoingMessage(
        channel=alt["channel"],
        recipient=alt["recipient"],
        subject=alt.get("subject"),
        text=alt["text"],
        html=alt.get("html"),
        segments=alt.get("segments"),
        template_key=doc.get("template_key"),
        template_version=alt.get("template_version"),
    )
    new = store.new_notification(
        notification_id=notification_id(doc["trigger_event_id"], message.channel, message.recipient),
        message=message,
        dossier_code=doc["dossier_code"],
        centre_code=doc["centre_code"],
        trigger_event_id=doc["trigger_event_id"],
        trigger_event_type=doc["trigger_event_type"],
        trigger_occurred_at=doc["trigger_occurred_at"],
        now=now,
    )
    new["fallback_of"] = doc["_id"]
    created = await store.insert_if_new(tx.db, new, tx.session)
    if created:
        metrics.record_fallback(doc["channel"], message.channel)
    return created


# --- what became of it ---------------------------------------------------------------------------


async def apply_sms_receipt(
    uow: UnitOfWork, *, client_ref: str, message_id: str, delivered: bool, at: datetime, reason: str | None
) -> str:
    """A gateway's delivery receipt: the SMS becomes delivered or undelivered, once. A receipt for a
    message not yet recorded as sent is refused with a 409, so the gateway sends it again later."""
    doc = await store.get_notification(uow.db, client_ref)
    if doc is None or doc["channel"] != "sms" or (doc.get("provider_reference") not in (None, message_id)):
        raise NotFound("no SMS with this client reference and message id", code="unknown_message")
    return await _apply_delivery(uow, doc, delivered=delivered, at=at, reason=reason or "undelivered")


async def apply_bounce(uow: UnitOfWork, *, message_id: str, at: datetime, reason: str, fallback: bool) -> str:
    """A bounce for an e-mail: it becomes undelivered, once, and goes by SMS when fallback is on."""
    nid = message_id.strip().strip("<>").split("@", 1)[0]
    doc = await store.get_notification(uow.db, nid)
    if doc is None or doc["channel"] != "email":
        raise NotFound("no e-mail with this Message-ID", code="unknown_message")
    return await _apply_delivery(uow, doc, delivered=False, at=at, reason=reason, fallback=fallback)


async def _apply_delivery(
    uow: UnitOfWork, doc: Document, *, delivered: bool, at: datetime, reason: str, fallback: bool = False
) -> str:
    if doc["status"] in ("pending", "sending"):
        raise Conflict("this message is not recorded as sent yet; send the report again later", code="not_sent_yet")
    if doc["status"] != "sent":
        return "duplicate"
    status: Literal["delivered", "undelivered"] = "delivered" if delivered else "undelivered"

    async def work(tx: Tx) -> bool:
        if not await store.mark_delivery(
            tx.db, tx.session, doc["_id"], status=status, at=at, note=None if delivered else mask_text(reason)
        ):
            return False
        if delivered:
            await tx.publish(
                NotificationDelivered(
                    dossier_code=doc["dossier_code"],
                    notification_id=doc["_id"],
                    channel=doc["channel"],
                    delivered_at=at,
                )
            )
        else:
            await _publish_failed(tx, doc, "undelivered", _reason_kind(reason), at)
            if fallback:
                await _fall_back(tx, doc, at)
        return True

    applied = await uow.run(work)
    if applied:
        metrics.record_delivery(doc["channel"], doc.get("provider") or "", status)
    return "accepted" if applied else "duplicate"


def _reason_kind(reason: str) -> str:
    """A short reason for events and metrics, without the address a bounce text may quote."""
    text = reason.lower()
    if "user unknown" in text or "5.1.1" in text or "does not exist" in text:
        return "recipient_unknown"
    if "mailbox full" in text or "5.2.2" in text:
        return "mailbox_full"
    return "".join(c if c.isalnum() else "_" for c in text.split(":")[0])[:40] or "undelivered"
