"""Postal's metrics: by carrier, status and outcome, never by dossier, tracking number or person."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

SHIPMENTS = Gauge(
    "postal_shipments",
    "Shipments by purpose, postal status and carrier (open and recent).",
    ["purpose", "status", "carrier"],
)
LATE = Gauge(
    "postal_late_shipments",
    "Open shipments past their transit target date, by purpose and carrier.",
    ["purpose", "carrier"],
)
WEBHOOKS = Counter(
    "postal_webhooks_total",
    "Carrier callbacks by outcome: accepted, duplicate, stale, bad_signature, expired, unknown_shipment, invalid.",
    ["carrier", "outcome"],
)
REPORTS = Counter(
    "postal_tracking_reports_total", "Tracking steps applied or not, by source and outcome.", ["source", "outcome"]
)
ATTEMPTS = Counter(
    "postal_delivery_attempts_total", "Delivery attempts by outcome (delivered, failed).", ["carrier", "outcome"]
)
CARRIER_CALLS = Histogram(
    "postal_carrier_call_duration_seconds",
    "Carrier API calls by operation and outcome (ok, timeout, unreachable, http_4xx, http_5xx).",
    ["carrier", "operation", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CARRIER_ERRORS = Counter(
    "postal_carrier_errors_total",
    "Failed carrier calls by operation and kind (retryable, permanent).",
    ["carrier", "operation", "kind"],
)
COMMANDS_WAITING = Gauge(
    "postal_carrier_commands_waiting", "Carrier calls waiting to be made or retried, by kind.", ["kind"]
)
POLLS = Counter(
    "postal_tracking_polls_total", "Shipments polled because their carrier went silent, by outcome.", ["outcome"]
)


def record_webhook(carrier: str, outcome: str) -> None:
    WEBHOOKS.labels(carrier, outcome).inc()


def record_report(source: str, outcome: str) -> None:
    REPORTS.labels(source, outcome).inc()


def record_attempt(carrier: str, outcome: str) -> None:
    ATTEMPTS.labels(carrier, outcome).inc()


def record_carrier_call(carrier: str, operation: str, outcome: str, seconds: float) -> None:
    CARRIER_CALLS.labels(carrier, operation, outcome).observe(seconds)


def record_carrier_error(carrier: str, operation: str, *, retryable: bool) -> None:
    CARRIER_ERRORS.labels(carrier, operation, "retryable" if retryable else "permanent").inc()


def record_poll(outcome: str) -> None:
    POLLS.labels(outcome).inc()


def set_shipments(counts: Iterable[tuple[str, str, str, int]], late: Iterable[tuple[str, str, int]]) -> None:
    SHIPMENTS.clear()
    LATE.clear()
    for purpose, status, carrier, n in counts:
        SHIPMENTS.labels(purpose, status, carrier).set(n)
    for purpose, carrier, n in late:
        LATE.labels(purpose, carrier).set(n)


def set_commands_waiting(by_kind: dict[str, int]) -> None:
    COMMANDS_WAITING.clear()
    for kind, n in by_kind.items():
        COMMANDS_WAITING.labels(kind).set(n)
