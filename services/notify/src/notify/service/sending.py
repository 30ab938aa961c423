"""Sending one claimed notification, exactly once.

A notification is recorded before it is sent (:mod:`notify.service.recording`); the sender loop
(:mod:`notify.workers`) claims one at a time with a lease, so replicas never send the same one at once. The
notification id travels as the SMS ``client_ref`` and as the e-mail Message-ID: a sender that crashed after
the provider took the message but before recording it lets the lease expire, the message is claimed again
and the provider recognises the repeat.

Before each attempt: SMS wait for the end of quiet hours; a citizen who opted out is not told; the
provider's rate limit (a one-second window shared by every replica) may defer the message. An SMS
goes to the primary gateway unless it has failed ``failover_after_failures`` times in a row (then
to the backup for ``failover_cooldown_seconds``); a message whose last try timed out stays with that
gateway, which may have taken it. Retryable failures are tried again with growing delays within
``send_window_seconds``, then end as ``technical_failure``; permanent ones end as ``failed`` at once,
and the message goes on the other channel when the citizen has one and fallback is on.

:func:`send_claimed` talks to the provider outside any transaction; what it learns is recorded by the use
cases (:func:`mark_sent`, :func:`defer`, :func:`stop_opted_out`, :func:`record_failure`), each one
transaction that reloads the notification and lets it decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from motcua_kit.logs import get_logger, mask_text
from motcua_kit.mongo import Document
from motcua_kit.uow import UnitOfWork, use_case
from notify import metrics
from notify.clients.errors import PermanentSendError, RetryableSendError, SendError
from notify.domain.notification import Notification, RetryPolicy
from notify.domain.schedule import quiet_until
from notify.settings import NotifySettings
from notify.store import Repositories

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


def retry_policy(settings: NotifySettings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.send_max_attempts,
        initial_seconds=settings.send_backoff_initial_seconds,
        max_seconds=settings.send_backoff_max_seconds,
        window_seconds=settings.send_window_seconds,
    )


def choose_sms(n: Notification, senders: Senders, health: dict[str, Document], now: datetime) -> SmsSender:
    gateways = senders.sms_gateways()
    if n.last_error_kind == "timeout":
        for gateway in gateways:
            if gateway.name == n.provider:
                return gateway  # it may have taken the message: ask it again, it de-duplicates
    for gateway in gateways:
        down_until = (health.get(gateway.name) or {}).get("down_until")
        if not down_until or down_until <= now:
            return gateway
    return senders.sms  # every gateway is out: keep trying the primary


async def _deliver(n: Notification, sender: SmsSender | EmailSender) -> str:
    if n.channel == "sms":
        return await sender.send(n.recipient, n.text, n.id)  # type: ignore[call-arg]
    return await sender.send(  # type: ignore[call-arg]
        notification_id=n.id, recipient=n.recipient, subject=n.subject or "", text=n.text, html=n.html
    )


async def deliver(n: Notification, senders: Senders) -> str:
    """Hands one notification to the primary provider of its channel; returns the provider's reference."""
    return await _deliver(n, senders.sms if n.channel == "sms" else senders.email)


def _cooldown(settings: NotifySettings) -> timedelta:
    return timedelta(seconds=settings.failover_cooldown_seconds)


async def send_claimed(
    n: Notification,
    uow: UnitOfWork[Repositories],
    senders: Senders,
    settings: NotifySettings,
    now: datetime,
    health: dict[str, Document] | None = None,
) -> str:
    """One claimed notification: deferred, not sent (opted out), sent, or failed; returns what happened."""
    channel = n.channel
    quiet = settings.quiet_hours
    if channel == "sms" and quiet.enabled and (until := quiet_until(now, settings.tz, quiet.start, quiet.end)):
        await defer(Defer(n.id, until=until, reason="quiet_hours", at=now), uow)
        return "deferred"
    repos = uow.repos
    if await repos.opt_outs.contains(channel, n.recipient):
        await stop_opted_out(StopOptedOut(n.id, at=now), uow)
        return "opted_out"
    sender: SmsSender | EmailSender = (
        choose_sms(n, senders, health if health is not None else await repos.provider_health.states(), now)
        if channel == "sms"
        else senders.email
    )
    if not await repos.rate_windows.take_slot(sender.name, now, rate_limits(settings).get(sender.name, 10)):
        await defer(Defer(n.id, until=now + timedelta(seconds=1), reason="rate_limited", at=now), uow)
        return "deferred"
    try:
        reference = await _deliver(n, sender)
    except SendError as exc:
        return await _failed(n, uow, sender.name, exc, settings, now)
    except Exception as exc:  # a client bug must not leave the notification stuck until its lease ends
        log.exception("unexpected error while sending", notification_id=n.id)
        return await _failed(n, uow, sender.name, RetryableSendError("unexpected", repr(exc)), settings, now)
    if channel == "sms":
        await repos.provider_health.record_outcome(
            sender.name, ok=True, at=now, threshold=settings.failover_after_failures, cooldown=_cooldown(settings)
        )
    await mark_sent(MarkSent(n.id, provider=sender.name, provider_reference=reference, sent_at=datetime.now(UTC)), uow)
    return "sent"


async def _failed(
    n: Notification,
    uow: UnitOfWork[Repositories],
    provider: str,
    error: SendError,
    settings: NotifySettings,
    now: datetime,
) -> str:
    metrics.record_provider_error(provider, error.kind)
    if n.channel == "sms" and isinstance(error, RetryableSendError):
        out = await uow.repos.provider_health.record_outcome(
            provider, ok=False, at=now, threshold=settings.failover_after_failures, cooldown=_cooldown(settings)
        )
        if out:
            metrics.record_failover(provider)
            log.warning(
                "SMS gateway taken out after repeated failures",
                provider=provider,
                seconds=settings.failover_cooldown_seconds,
            )
    failure = RecordFailure(
        n.id,
        provider=provider,
        error=mask_text(str(error)),
        kind=error.kind,
        retryable=isinstance(error, RetryableSendError),
        permanent=isinstance(error, PermanentSendError),
        retry_after_seconds=error.retry_after_seconds,
        at=now,
    )
    return await record_failure(failure, uow, retry_policy(settings), fallback=settings.fallback_to_other_channel)


# --- the use cases ------------------------------------------------------------------------------------


async def _still_sending(uow: UnitOfWork[Repositories], notification_id: str) -> Notification | None:
    """The notification as stored now, if it is still being sent: another sender, which had taken over an
    expired lease, may have finished it meanwhile (then there is nothing left to record)."""
    n = await uow.repos.notifications.get(notification_id)
    return n if n is not None and n.status == "sending" else None


@dataclass(frozen=True)
class MarkSent:
    notification_id: str
    provider: str
    provider_reference: str
    sent_at: datetime


@use_case
async def mark_sent(cmd: MarkSent, uow: UnitOfWork[Repositories]) -> bool:
    """The provider took it: ``sent`` and ``NotificationSent`` in one transaction. False when another
    sender (which had taken over an expired lease) got there first."""
    async with uow:
        n = await _still_sending(uow, cmd.notification_id)
        if n is None:
            return False
        uow.publish(*n.mark_sent(provider=cmd.provider, provider_reference=cmd.provider_reference, sent_at=cmd.sent_at))
        await uow.repos.notifications.save(n)
        latency = (cmd.sent_at - n.trigger_occurred_at).total_seconds()
        uow.after_commit(lambda: metrics.record_sent(n.channel, cmd.provider, latency))
        await uow.commit()
    log.info("notification sent", notification_id=n.id, channel=n.channel, provider=cmd.provider, attempts=n.attempts)
    return True


@dataclass(frozen=True)
class Defer:
    notification_id: str
    until: datetime
    reason: str
    at: datetime


@use_case
async def defer(cmd: Defer, uow: UnitOfWork[Repositories]) -> bool:
    """A claimed notification goes back untried (quiet hours, rate limit, an interrupted send)."""
    async with uow:
        n = await _still_sending(uow, cmd.notification_id)
        if n is None:
            return False
        uow.publish(*n.defer(until=cmd.until, reason=cmd.reason, at=cmd.at))
        await uow.repos.notifications.save(n)
        if cmd.reason != "interrupted":
            uow.after_commit(lambda: metrics.record_deferred(n.channel, cmd.reason))
        await uow.commit()
    return True


@dataclass(frozen=True)
class StopOptedOut:
    notification_id: str
    at: datetime


@use_case
async def stop_opted_out(cmd: StopOptedOut, uow: UnitOfWork[Repositories]) -> bool:
    """The citizen opted out after the message was owed: it ends ``opted_out``, unsent."""
    async with uow:
        n = await _still_sending(uow, cmd.notification_id)
        if n is None:
            return False
        uow.publish(*n.opt_out(cmd.at))
        await uow.repos.notifications.save(n)
        uow.after_commit(lambda: metrics.record_given_up(n.channel, "none", "opted_out"))
        await uow.commit()
    return True


@dataclass(frozen=True)
class RecordFailure:
    notification_id: str
    provider: str
    error: str
    """Masked: no phone or address."""
    kind: str
    retryable: bool
    permanent: bool
    retry_after_seconds: float | None
    at: datetime


@use_case
async def record_failure(
    cmd: RecordFailure, uow: UnitOfWork[Repositories], policy: RetryPolicy, *, fallback: bool
) -> str:
    """The provider did not take it: tried again later, or given up (``failed`` goes on the other channel
    when ``fallback`` and the citizen has one). Returns the status it is left in."""
    async with uow:
        n = await _still_sending(uow, cmd.notification_id)
        if n is None:
            return "duplicate"
        uow.publish(
            *n.attempt_failed(
                provider=cmd.provider,
                error=cmd.error,
                kind=cmd.kind,
                retryable=cmd.retryable,
                permanent=cmd.permanent,
                retry_after_seconds=cmd.retry_after_seconds,
                policy=policy,
                at=cmd.at,
            )
        )
        await uow.repos.notifications.save(n)
        status = n.status
        if status == "pending":
            uow.after_commit(lambda: metrics.record_retry(n.channel))
        else:
            uow.after_commit(lambda: metrics.record_given_up(n.channel, cmd.provider, status))
            if status == "failed" and fallback:
                await fall_back(n, uow, cmd.at)
        await uow.commit()
    if status == "pending":
        log.warning(
            "send failed, will retry", notification_id=n.id, channel=n.channel, kind=cmd.kind, attempts=n.attempts
        )
    else:
        log.error(
            "send failed, giving up",
            notification_id=n.id,
            channel=n.channel,
            status=status,
            kind=cmd.kind,
            attempts=n.attempts,
        )
    return status


async def fall_back(n: Notification, uow: UnitOfWork[Repositories], now: datetime) -> bool:
    """Inside the caller's transaction: the same message on the other channel, when the citizen has an
    address there and did not opt out of it (recorded once)."""
    new = n.fallback_notification(now)
    if new is None or await uow.repos.opt_outs.contains(new.channel, new.recipient):
        return False
    created = await uow.repos.notifications.add_if_new(new)
    if created:
        uow.after_commit(lambda: metrics.record_fallback(n.channel, new.channel))
    return created
