"""What staff see of a notification: its journey, never the message bodies or the full address."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from motcua_kit.logs import mask_text
from notify.store import Status


class HistoryEntry(BaseModel):
    status: Status
    at: datetime
    note: str | None = None


class NotificationView(BaseModel):
    id: str
    dossier_code: str
    trigger_event_type: str
    channel: Literal["sms", "email"]
    recipient: str
    status: Status
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    provider: str | None = None
    provider_reference: str | None = None
    last_error: str | None = None
    history: list[HistoryEntry]

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> NotificationView:
        return cls(
            id=doc["_id"],
            dossier_code=doc["dossier_code"],
            trigger_event_type=doc["trigger_event_type"],
            channel=doc["channel"],
            recipient=mask_recipient(doc["channel"], doc["recipient"]),
            status=doc["status"],
            attempts=doc["attempts"],
            created_at=doc["created_at"],
            next_attempt_at=doc["next_attempt_at"] if doc["status"] == "pending" else None,
            sent_at=doc.get("sent_at"),
            provider=doc.get("provider"),
            provider_reference=doc.get("provider_reference"),
            last_error=_masked(doc.get("last_error")),
            history=[
                HistoryEntry(status=h["status"], at=h["at"], note=_masked(h.get("note")))
                for h in doc.get("history", [])
            ],
        )


def _masked(text: str | None) -> str | None:
    return mask_text(text) if text else text


def mask_phone(phone: str) -> str:
    """``0912345123`` -> ``*******123``."""
    return "*" * max(0, len(phone) - 3) + phone[-3:]


def mask_email(address: str) -> str:
    """``nguyen.van.a@gmail.com`` -> ``n***@g***``."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain[:1]}***"


def mask_recipient(channel: str, recipient: str) -> str:
    return mask_phone(recipient) if channel == "sms" else mask_email(recipient)
