"""Reception's own metrics; labels are channels and centre codes, never dossier codes or people."""

from __future__ import annotations

from prometheus_client import Counter

DOSSIERS_RECEIVED = Counter(
    "reception_dossiers_received_total", "Dossiers received, by intake channel and centre.", ["channel", "centre"]
)
INTAKE_REFUSED = Counter("reception_intake_refused_total", "Intake requests refused, by reason.", ["reason"])

CHANNEL_NAMES = {1: "counter", 2: "online", 3: "post"}


def record_received(channel: int, centre: str) -> None:
    DOSSIERS_RECEIVED.labels(CHANNEL_NAMES[channel], centre).inc()


def record_refused(reason: str) -> None:
    INTAKE_REFUSED.labels(reason).inc()
