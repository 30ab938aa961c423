"""Every topic of the product, with its fixed partition count, in one place."""

from __future__ import annotations

from dataclasses import dataclass

RECEPTION_DOSSIERS = "reception.dossiers"
RECEPTION_CATALOGUE = "reception.catalogue"
PROCESSING_CASES = "processing.cases"
POSTAL_SHIPMENTS = "postal.shipments"
NOTIFY_NOTIFICATIONS = "notify.notifications"

SERVICES = ("reception", "processing", "postal", "notify")


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    producer: str
    description: str


def dead_letter_topic(service: str) -> str:
    return f"{service}.deadletter"


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(RECEPTION_DOSSIERS, 6, "reception", "Dossier life at the centre: intake, supplements, return."),
    TopicSpec(RECEPTION_CATALOGUE, 1, "reception", "Procedure catalogue and working-time calendar changes."),
    TopicSpec(PROCESSING_CASES, 6, "processing", "Agency work on dossiers: steps, hand-overs, resolution."),
    TopicSpec(POSTAL_SHIPMENTS, 6, "postal", "Home collection and result delivery through the postal service."),
    TopicSpec(NOTIFY_NOTIFICATIONS, 6, "notify", "Messages to citizens: sent, delivered, failed."),
    *(
        TopicSpec(dead_letter_topic(s), 1, s, f"Events {s} could not handle, with the error and attempt count.")
        for s in SERVICES
    ),
)
