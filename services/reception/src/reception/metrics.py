"""Reception's own metrics; labels are channels, centres, outcomes: never dossier codes or people."""

from __future__ import annotations

from prometheus_client import Counter

DOSSIERS_RECEIVED = Counter(
    "reception_dossiers_received_total", "Dossiers received, by intake channel and centre.", ["channel", "centre"]
)
DOSSIERS_SUBMITTED = Counter(
    "reception_dossiers_submitted_total",
    "Dossiers submitted online or by post, waiting for a decision.",
    ["channel", "centre"],
)
DOSSIERS_REFUSED = Counter("reception_dossiers_refused_total", "Dossiers refused at intake (status 3).", ["centre"])
SUPPLEMENTS_REQUESTED = Counter(
    "reception_supplements_requested_total", "Supplement requests recorded, by origin.", ["centre", "origin"]
)
INTAKE_REJECTED = Counter(
    "reception_intake_rejected_total", "Intake requests answered with a 4xx, by reason.", ["reason"]
)
LOOKUPS = Counter("reception_lookups_total", "Citizen lookups, by outcome (found, not_found, limited).", ["outcome"])
APPOINTMENT_ERRORS = Counter(
    "reception_appointment_errors_total", "Appointments that could not be computed (calendar or limit errors)."
)
RESULTS_RETURNED = Counter("reception_results_returned_total", "Results handed back, by channel.", ["channel"])

CHANNEL_NAMES = {1: "counter", 2: "online", 3: "post"}


def record_received(channel: int, centre: str) -> None:
    DOSSIERS_RECEIVED.labels(CHANNEL_NAMES[channel], centre).inc()


def record_submitted(channel: int, centre: str) -> None:
    DOSSIERS_SUBMITTED.labels(CHANNEL_NAMES[channel], centre).inc()


def record_dossier_refused(centre: str) -> None:
    DOSSIERS_REFUSED.labels(centre).inc()


def record_supplement(centre: str, origin: str = "counter") -> None:
    SUPPLEMENTS_REQUESTED.labels(centre, origin).inc()


def record_refused(reason: str) -> None:
    """An intake request that could not be accepted as it was (answered 422)."""
    INTAKE_REJECTED.labels(reason).inc()


def record_lookup(outcome: str) -> None:
    LOOKUPS.labels(outcome).inc()


def record_appointment_error() -> None:
    APPOINTMENT_ERRORS.inc()


def record_returned(channel: str) -> None:
    RESULTS_RETURNED.labels(channel).inc()
