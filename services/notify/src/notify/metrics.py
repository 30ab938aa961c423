"""Notify's own metrics; labels are channels, providers, statuses and error kinds, never ids or people."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MESSAGES = Counter(
    "notify_messages_total",
    "Messages that reached a final status, by channel, provider and status.",
    ["channel", "provider", "status"],
)
SEND_LATENCY = Histogram(
    "notify_send_latency_seconds",
    "From the triggering event to the provider accepting the message.",
    ["channel"],
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
    SEND_LATENCY.labels(channel).observe(max(0.0, latency_seconds))


def record_given_up(channel: str, provider: str, status: str) -> None:
    MESSAGES.labels(channel, provider, status).inc()


def record_retry(channel: str) -> None:
    SEND_RETRIES.labels(channel).inc()


def record_provider_error(provider: str, kind: str) -> None:
    PROVIDER_ERRORS.labels(provider, kind).inc()
