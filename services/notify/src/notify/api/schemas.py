"""What staff see of a notification (its journey, never the message bodies or the full address) and of templates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from motcua_kit.logs import mask_text
from motcua_kit.values import mask_email, mask_phone
from notify.domain.rules import placeholders
from notify.domain.templates import Channel, Template, TemplateVersion
from notify.service.templates import Preview
from notify.service.views import NotificationTotals, delivered_at


class HistoryEntry(BaseModel):
    status: str = Field(description="As stored: the status machine may grow (e.g. delivered).")
    at: datetime
    note: str | None = None


class NotificationView(BaseModel):
    id: str
    dossier_code: str
    centre_code: str | None = None
    trigger_event_type: str
    channel: Literal["sms", "email"]
    recipient: str
    status: str = Field(description="As stored: pending, sending, sent, failed, technical_failure, or a newer one.")
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    provider: str | None = None
    provider_reference: str | None = None
    last_error: str | None = None
    history: list[HistoryEntry]
    template_key: str | None = None
    template_version: int | None = None
    segments: int | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> NotificationView:
        return cls(
            id=doc["_id"],
            dossier_code=doc["dossier_code"],
            centre_code=doc.get("centre_code"),
            trigger_event_type=doc["trigger_event_type"],
            channel=doc["channel"],
            recipient=mask_recipient(doc["channel"], doc["recipient"]),
            status=doc["status"],
            attempts=doc["attempts"],
            created_at=doc["created_at"],
            next_attempt_at=doc["next_attempt_at"] if doc["status"] == "pending" else None,
            sent_at=doc.get("sent_at"),
            delivered_at=delivered_at(doc),
            provider=doc.get("provider"),
            provider_reference=doc.get("provider_reference"),
            last_error=_masked(doc.get("last_error")),
            history=[
                HistoryEntry(status=h["status"], at=h["at"], note=_masked(h.get("note")))
                for h in doc.get("history", [])
            ],
            template_key=doc.get("template_key"),
            template_version=doc.get("template_version"),
            segments=doc.get("segments"),
        )


def _masked(text: str | None) -> str | None:
    return mask_text(text) if text else text


def mask_recipient(channel: str, recipient: str) -> str:
    return mask_phone(recipient) if channel == "sms" else mask_email(recipient)


# --- report --------------------------------------------------------------------------------------


class TotalsRow(BaseModel):
    day: date = Field(description="Local day (Asia/Ho_Chi_Minh) the notification was created.")
    channel: str
    status: str
    provider: str = Field(description='"none" while no provider has been tried.')
    count: int


class NotificationReport(BaseModel):
    """Notifications created in the period, counted by their status now."""

    date_from: date
    date_to: date
    timezone: str
    centre_code: str | None = Field(description="The centre counted; None for every centre (auditors).")
    total: int
    by_channel: dict[str, int]
    by_status: dict[str, int]
    by_provider: dict[str, int]
    by_day: dict[str, int] = Field(description="ISO local day -> count, days with none left out.")
    rows: list[TotalsRow] = Field(description="One per (day, channel, status, provider) that has any.")

    @classmethod
    def of(cls, totals: NotificationTotals) -> NotificationReport:
        p = totals.period
        return cls(
            date_from=p.first,
            date_to=p.last,
            timezone=str(p.zone),
            centre_code=totals.centre_code,
            total=totals.total,
            by_channel=totals.by(1),
            by_status=totals.by(2),
            by_provider=totals.by(3),
            by_day=totals.by(0),
            rows=[
                TotalsRow(day=date.fromisoformat(day), channel=c, status=s, provider=pr, count=n)
                for day, c, s, pr, n in totals.sorted_rows()
            ],
        )


# --- templates -----------------------------------------------------------------------------------


class TemplateIn(BaseModel):
    """A template as staff write it: ``str.format`` placeholders like ``{code}``; an SMS has only ``text``."""

    text: str = Field(min_length=1, max_length=20_000)
    subject: str | None = Field(default=None, max_length=500)
    html: str | None = Field(default=None, max_length=100_000)

    def to_template(self) -> Template:
        return Template(text=self.text, subject=self.subject, html=self.html)


class PreviewIn(BaseModel):
    """A body to try; without ``text`` the version in use is rendered."""

    text: str | None = Field(default=None, min_length=1, max_length=20_000)
    subject: str | None = Field(default=None, max_length=500)
    html: str | None = Field(default=None, max_length=100_000)

    def to_template(self) -> Template | None:
        return None if self.text is None else Template(text=self.text, subject=self.subject, html=self.html)


class TemplateVersionView(BaseModel):
    key: str
    channel: Channel
    version: int
    builtin: bool
    subject: str | None
    text: str
    html: str | None
    created_at: datetime | None = None
    created_by: str | None = None

    @classmethod
    def of(cls, v: TemplateVersion) -> TemplateVersionView:
        t = v.template
        return cls(
            key=v.key,
            channel=v.channel,
            version=t.version,
            builtin=v.builtin,
            subject=t.subject,
            text=t.text,
            html=t.html,
            created_at=v.created_at,
            created_by=v.created_by,
        )


class VersionSummary(BaseModel):
    version: int
    builtin: bool
    created_at: datetime | None = None
    created_by: str | None = None


class TemplateDetail(BaseModel):
    key: str
    channel: Channel
    placeholders: list[str]
    current: TemplateVersionView
    versions: list[VersionSummary]

    @classmethod
    def of(cls, history: list[TemplateVersion]) -> TemplateDetail:
        current = history[-1]
        return cls(
            key=current.key,
            channel=current.channel,
            placeholders=placeholders(current.key),
            current=TemplateVersionView.of(current),
            versions=[
                VersionSummary(
                    version=v.template.version, builtin=v.builtin, created_at=v.created_at, created_by=v.created_by
                )
                for v in history
            ],
        )


class PreviewView(BaseModel):
    key: str
    channel: Channel
    version: int | None = Field(description="The version rendered; None for a body that was sent in.")
    subject: str | None
    text: str
    html: str | None
    segments: int | None = Field(description="SMS parts the text takes; None for e-mail.")

    @classmethod
    def of(cls, p: Preview) -> PreviewView:
        m = p.message
        return cls(
            key=p.key,
            channel=p.channel,
            version=p.version,
            subject=m.subject,
            text=m.text,
            html=m.html,
            segments=m.segments,
        )
