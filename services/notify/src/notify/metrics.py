"""Notify's own metrics; labels are channels, providers, statuses and error kinds, never ids or people."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "notify_messages_total",
    "Messages that reached a final status, by channel, provider and status.",
    ["channel", "provider", "status"],
)
SEND_LATENCY = Histogram(
    "notify_send_latency_seconds",
    "From the triggering event to the provider accepting the message.",
    ["channel", "provider"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
SEND_RETRIES = Counter("notify_send_retries_total", "Send attempts that will be tried again later.", ["channel"])
PROVIDER_ERRORS = Counter(
    "notify_provider_errors_total", "Provider calls that failed, by provider and error kind.", ["provider", "kind"]
)

SKIPPED = Counter(
    "notify_events_skipped_total",
    "Events that owed a message but could not be told, by event type and reason.",
    ["event_type", "reason"],
)


def record_skipped(event_type: str, reason: str) -> None:
    SKIPPED.labels(event_type, reason).inc()


def record_sent(channel: str, provider: str, latency_seconds: float) -> None:
    MESSAGES.labels(channel, provider, "sent").inc()
    SEND_LATENCY.labels(channel, provider).observe(max(0.0, latency_seconds))


def record_given_up(channel: str, provider: str, status: str) -> None:
    MESSAGES.labels(channel, provider, status).inc()


def record_retry(channel: str) -> None:
    SEND_RETRIES.labels(channel).inc()


def record_provider_error(provider: str, kind: str) -> None:
    PROVIDER_ERRORS.labels(provider, kind).inc()


DEFERRED = Counter(
    "notify_deferred_total",
    "Sends put off without an attempt, by channel and reason (quiet hours, rate limit).",
    ["channel", "reason"],
)
WAITING = Gauge(
    "notify_deferred_messages",
    "Messages waiting for a later time, by reason (quiet hours, rate limit, retry).",
    ["reason"],
)
FAILOVERS = Counter("notify_provider_failovers_total", "Providers taken out after repeated failures.", ["provider"])
FALLBACKS = Counter(
    "notify_channel_fallbacks_total",
    "Messages sent on the other channel after a permanent failure.",
    ["from_channel", "to_channel"],
)
DELIVERIES = Counter(
    "notify_deliveries_total",
    "Delivery receipts and bounces applied, by channel, provider and status.",
    ["channel", "provider", "status"],
)


def record_deferred(channel: str, reason: str) -> None:
    DEFERRED.labels(channel, reason).inc()


def set_waiting(by_reason: dict[str, int]) -> None:
    WAITING.clear()
    for reason, n in by_reason.items():
        WAITING.labels(reason).set(n)


def record_failover(provider: str) -> None:
    FAILOVERS.labels(provider).inc()


def record_fallback(from_channel: str, to_channel: str) -> None:
    FALLBACKS.labels(from_channel, to_channel).inc()


def record_delivery(channel: str, provider: str, status: str) -> None:
    DELIVERIES.labels(channel, provider, status).inc()
    MESSAGES.labels(channel, provider, status).inc()
