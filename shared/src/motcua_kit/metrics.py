"""Metrics every service exposes, with typed helpers. Labels never carry ids or personal data."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "motcua_http_requests_total", "HTTP requests by route template and status.", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "motcua_http_request_duration_seconds",
    "HTTP request duration.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter(
    "motcua_events_published_total", "Events published by the outbox relay.", ["topic", "event_type"]
)
EVENTS_CONSUMED = Counter(
    "motcua_events_consumed_total",
    "Events consumed; outcome is handled or duplicate.",
    ["consumer", "event_type", "outcome"],
)
EVENTS_FAILED = Counter("motcua_events_failed_total", "Handler attempts that raised.", ["consumer", "event_type"])
EVENTS_DEAD_LETTERED = Counter(
    "motcua_events_dead_lettered_total", "Events sent to the dead-letter topic.", ["consumer", "event_type"]
)
HANDLER_DURATION = Histogram(
    "motcua_event_handler_duration_seconds",
    "Time to handle one event, retries included.",
    ["consumer", "event_type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
OUTBOX_BACKLOG = Gauge("motcua_outbox_backlog_events", "Outbox events not yet published.")
OUTBOX_OLDEST_AGE = Gauge("motcua_outbox_oldest_unsent_age_seconds", "Age of the oldest unpublished outbox event.")
CONSUMER_LAG = Gauge(
    "motcua_consumer_lag_messages", "High-water mark minus position, per partition.", ["consumer", "topic", "partition"]
)


def record_http(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


def record_published(topic: str, event_type: str) -> None:
    EVENTS_PUBLISHED.labels(topic, event_type).inc()


def record_consumed(consumer: str, event_type: str, outcome: str, seconds: float) -> None:
    EVENTS_CONSUMED.labels(consumer, event_type, outcome).inc()
    HANDLER_DURATION.labels(consumer, event_type).observe(seconds)


def record_failed(consumer: str, event_type: str) -> None:
    EVENTS_FAILED.labels(consumer, event_type).inc()


def record_dead_lettered(consumer: str, event_type: str) -> None:
    EVENTS_DEAD_LETTERED.labels(consumer, event_type).inc()


def record_outbox(backlog: int, oldest_age_seconds: float) -> None:
    OUTBOX_BACKLOG.set(backlog)
    OUTBOX_OLDEST_AGE.set(oldest_age_seconds)


def record_lag(consumer: str, topic: str, partition: int, lag: int) -> None:
    CONSUMER_LAG.labels(consumer, topic, str(partition)).set(lag)


def forget_lag(consumer: str, topic: str, partition: int) -> None:
    """A partition that moved to another worker is reported there, not here."""
    try:
        CONSUMER_LAG.remove(consumer, topic, str(partition))
    except KeyError:
        pass
