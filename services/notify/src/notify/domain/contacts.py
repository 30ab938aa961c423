"""What notify keeps about a dossier so that later events (which carry only the code) can be told."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from motcua_kit.events import DossierReceived, DossierSubmitted
from motcua_kit.values import normalise_phone

Channel = Literal["sms", "email"]


def gateway_phone(raw: str) -> str:
    """The number as the gateway gets it: the national form (``0...``) of a Vietnamese number
    (:func:`motcua_kit.values.normalise_phone`; intake already sends that form), anything else kept as typed:
    the gateway refuses it and staff see why."""
    return normalise_phone(raw) or raw


def normalize_email(raw: str) -> str:
    return raw.strip()


def comparable_recipient(channel: str, recipient: str) -> str:
    """The form two recipients are compared in (opt-outs): a phone's national form, an address without case."""
    if channel == "sms":
        return gateway_phone(recipient.strip())
    return normalize_email(recipient).casefold()


def _present(raw: str | None) -> str | None:
    return raw if raw is not None and raw.strip() else None


@dataclass(frozen=True)
class DossierContacts:
    """The applicant's contacts and chosen channels, and the dossier facts messages name."""

    code: str
    full_name: str
    phone: str | None
    email: str | None
    notify_channels: Sequence[Channel]
    centre_code: str
    centre_name: str
    procedure_name: str
    lookup_url: str
    appointment_at: datetime | None = None
    return_channel: str = "counter"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: DossierReceived | DossierSubmitted) -> DossierContacts:
        phone, email = _present(event.applicant.phone), _present(event.applicant.email)
        return cls(
            code=event.dossier_code,
            full_name=event.applicant.full_name,
            phone=gateway_phone(phone) if phone else None,
            email=normalize_email(email) if email else None,
            notify_channels=list(event.notify_channels),
            centre_code=event.centre_code,
            centre_name=event.centre_name,
            procedure_name=event.procedure.name,
            lookup_url=event.lookup_url,
            appointment_at=getattr(event, "appointment_at", None),
            return_channel=event.return_channel,
        )

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> DossierContacts:
        return cls(
            code=doc["_id"],
            full_name=doc["full_name"],
            phone=doc.get("phone"),
            email=doc.get("email"),
            notify_channels=list(doc.get("notify_channels", [])),
            centre_code=doc["centre_code"],
            centre_name=doc["centre_name"],
            procedure_name=doc["procedure_name"],
            lookup_url=doc["lookup_url"],
            appointment_at=doc.get("appointment_at"),
            return_channel=doc.get("return_channel", "counter"),
        )

    def to_fields(self) -> dict[str, Any]:
        """The document fields (without ``_id``) stored in the ``dossiers`` collection."""
        return {
            "full_name": self.full_name,
            "phone": self.phone,
            "email": self.email,
            "notify_channels": list(self.notify_channels),
            "centre_code": self.centre_code,
            "centre_name": self.centre_name,
            "procedure_name": self.procedure_name,
            "lookup_url": self.lookup_url,
            "appointment_at": self.appointment_at,
            "return_channel": self.return_channel,
        }

    def recipient(self, channel: Channel) -> str | None:
        return self.phone if channel == "sms" else self.email

    def with_every_channel(self) -> DossierContacts:
        """The same dossier as if the citizen had chosen every channel (for fallback messages)."""
        return replace(self, notify_channels=["sms", "email"])

    def chosen_channels(self) -> list[tuple[Channel, str]]:
        """Channels the citizen chose and has an address for, each once, in the order chosen."""
        chosen: list[tuple[Channel, str]] = []
        for channel in dict.fromkeys(self.notify_channels):
            recipient = self.recipient(channel)
            if recipient is not None:
                chosen.append((channel, recipient))
        return chosen
