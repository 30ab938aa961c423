"""When notify tells the citizen something, as data: event type (and condition) -> template key.

Each rule also names the event-specific placeholders its templates may use, and where each
comes from: an attribute of the event and how to write it (a Vietnamese date, a list, an amount).
The placeholders every template may use come from the dossier's stored contacts (:data:`COMMON`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FieldKind = Literal["text", "int", "list", "date", "datetime", "vnd"]


@dataclass(frozen=True)
class FieldSpec:
    """A placeholder taken from the event: ``attr`` written as ``kind``; ``default`` when it is None."""

    attr: str
    kind: FieldKind = "text"
    default: str = ""


@dataclass(frozen=True)
class Rule:
    """``event_type`` (when every ``when`` field of the event equals its value) -> ``template``."""

    event_type: str
    template: str
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)
    when: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, event_type: str, event: Any) -> bool:
        return event_type == self.event_type and all(getattr(event, k, None) == v for k, v in self.when.items())


COMMON: tuple[str, ...] = (
    "code",
    "full_name",
    "centre_name",
    "procedure_name",
    "lookup_url",
    "appointment",
    "appointment_date",
    "return_method",
)
"""Placeholders every template may use: the dossier code and what notify stored about the dossier."""

_REASONS = {"reasons": FieldSpec("reasons", "list")}
_SUPPLEMENT = {**_REASONS, "requested_date": FieldSpec("requested_at", "date")}

RULES: tuple[Rule, ...] = (
    Rule("DossierReceived", "received", {"received": FieldSpec("received_at", "datetime")}),
    Rule("SupplementRequested", "supplement_requested", _SUPPLEMENT),
    Rule("AgencySupplementRequested", "supplement_requested", _SUPPLEMENT),
    Rule("DossierRefused", "refused", {**_REASONS, "refused_date": FieldSpec("refused_at", "date")}),
    Rule(
        "ApologyIssued",
        "apology",
        {
            "reason": FieldSpec("reason"),
            "previous_appointment": FieldSpec("previous_appointment_at", "datetime"),
            "new_appointment": FieldSpec("new_appointment_at", "datetime"),
            "new_appointment_date": FieldSpec("new_appointment_at", "date"),
        },
    ),
    Rule(
        "PaymentRequested",
        "payment_requested",
        {"amount": FieldSpec("amount_vnd", "vnd"), "description": FieldSpec("description")},
    ),
    Rule(
        "DossierResolved",
        "result_ready",
        {"resolved": FieldSpec("resolved_at", "datetime"), "result_summary": FieldSpec("result_summary")},
    ),
    Rule(
        "ResultHandedToPost",
        "handed_to_post",
        {
            "tracking_number": FieldSpec("tracking_number"),
            "handed_over": FieldSpec("handed_over_at", "datetime"),
            "target_date": FieldSpec("target_date", "date"),
        },
    ),
    Rule(
        "ShipmentStatusChanged",
        "out_for_delivery",
        {"tracking_number": FieldSpec("tracking_number")},
        when={"status": "out_for_delivery"},
    ),
    Rule(
        "ResultDelivered",
        "delivered",
        {"tracking_number": FieldSpec("tracking_number"), "delivered": FieldSpec("delivered_at", "datetime")},
    ),
    Rule(
        "DeliveryAttemptFailed",
        "delivery_failed",
        {
            "tracking_number": FieldSpec("tracking_number"),
            "attempt": FieldSpec("attempt", "int"),
            "reason": FieldSpec("reason"),
            "next_attempt_date": FieldSpec(
                "next_attempt_after", "date", default="không còn (kết quả sẽ được chuyển hoàn về Trung tâm)"
            ),
        },
    ),
    Rule(
        "ShipmentReturned",
        "returned_to_centre",
        {
            "tracking_number": FieldSpec("tracking_number"),
            "returned_date": FieldSpec("returned_at", "date"),
            "reason": FieldSpec("reason"),
            "attempts": FieldSpec("attempts", "int"),
        },
    ),
    Rule(
        "DossierWithdrawn",
        "withdrawn",
        {"reason": FieldSpec("reason"), "withdrawn_date": FieldSpec("withdrawn_at", "date")},
    ),
)

CONTACT_EVENTS: tuple[str, ...] = ("DossierSubmitted", "DossierReceived")
"""Events that carry the applicant's contacts: notify keeps them for the dossier's later messages."""

APPOINTMENT_EVENTS: Mapping[str, str] = {"SupplementReceived": "appointment_at", "ApologyIssued": "new_appointment_at"}
"""Events that move the appointment, and the attribute holding the new one."""


def match(event_type: str, event: Any, rules: tuple[Rule, ...] = RULES) -> Rule | None:
    """The first rule for the event, or None when notify says nothing about it."""
    return next((rule for rule in rules if rule.matches(event_type, event)), None)


def template_keys(rules: tuple[Rule, ...] = RULES) -> list[str]:
    return list(dict.fromkeys(rule.template for rule in rules))


def placeholders(key: str, rules: tuple[Rule, ...] = RULES) -> list[str]:
    """The placeholders a template may use: the common ones, then those of every rule that uses it."""
    specific = [name for rule in rules if rule.template == key for name in rule.fields]
    return list(dict.fromkeys([*COMMON, *specific]))


def handled_event_types(rules: tuple[Rule, ...] = RULES) -> list[str]:
    """Every event type notify reads: rule triggers, contacts and appointment changes."""
    return list(dict.fromkeys([*CONTACT_EVENTS, *APPOINTMENT_EVENTS, *(rule.event_type for rule in rules)]))
