"""What notify tells the citizen, as data: one template per (event type, channel).

SMS texts are unaccented ASCII and fit one 160-character segment; e-mails are full
Vietnamese with diacritics, as text and HTML (user data escaped in the HTML).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from motcua_kit.events import DossierReceived
from notify.domain.text import unaccent

Channel = Literal["sms", "email"]
CHANNELS: tuple[Channel, ...] = ("sms", "email")


@dataclass(frozen=True)
class Template:
    """``str.format`` templates; the fields come from :func:`received_fields`."""

    text: str
    subject: str | None = None
    html: str | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    channel: Channel
    recipient: str
    subject: str | None
    text: str
    html: str | None


RECEIVED_SMS = "Ho so {code} da duoc tiep nhan. Ngay hen tra: {appointment_date}. Tra cuu: {lookup_url}"

RECEIVED_EMAIL_SUBJECT = "Hồ sơ {code} đã được tiếp nhận"

RECEIVED_EMAIL_TEXT = """Kính gửi {full_name},

{centre_name} đã tiếp nhận hồ sơ {code} của Ông/Bà.

Thủ tục: {procedure_name}
Thời điểm tiếp nhận: {received}
Ngày hẹn trả kết quả: {appointment}

Tra cứu tình trạng hồ sơ tại: {lookup_url}
Khi tra cứu, Ông/Bà nhập mã hồ sơ cùng số điện thoại hoặc số giấy tờ tùy thân (CCCD) ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.

Đây là thư gửi tự động, xin vui lòng không trả lời thư này.
{centre_name}
"""

RECEIVED_EMAIL_HTML = """<!DOCTYPE html>
<html lang="vi">
<head><meta charset="utf-8"><title>Hồ sơ {code} đã được tiếp nhận</title></head>
<body>
<p>Kính gửi {full_name},</p>
<p>{centre_name} đã tiếp nhận hồ sơ <strong>{code}</strong> của Ông/Bà.</p>
<table>
<tr><td>Thủ tục:</td><td>{procedure_name}</td></tr>
<tr><td>Thời điểm tiếp nhận:</td><td>{received}</td></tr>
<tr><td>Ngày hẹn trả kết quả:</td><td><strong>{appointment}</strong></td></tr>
</table>
<p>Tra cứu tình trạng hồ sơ tại: <a href="{lookup_url}">{lookup_url}</a></p>
<p>Khi tra cứu, Ông/Bà nhập mã hồ sơ cùng số điện thoại hoặc số giấy tờ tùy thân (CCCD) ghi trên
Giấy tiếp nhận hồ sơ và hẹn trả kết quả.</p>
<p><small>Đây là thư gửi tự động, xin vui lòng không trả lời thư này.<br>{centre_name}</small></p>
</body>
</html>
"""

TEMPLATES: Mapping[tuple[str, Channel], Template] = {
    (DossierReceived.event_type, "sms"): Template(text=RECEIVED_SMS),
    (DossierReceived.event_type, "email"): Template(
        subject=RECEIVED_EMAIL_SUBJECT, text=RECEIVED_EMAIL_TEXT, html=RECEIVED_EMAIL_HTML
    ),
}

_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")


def normalize_phone(raw: str) -> str:
    """Removes separators and writes ``+84``/``84`` numbers in national form (``0...``).

    Anything else is kept as typed: the gateway refuses it and staff see why.
    """
    phone = _PHONE_SEPARATORS.sub("", raw)
    if phone.startswith("+84"):
        phone = phone[1:]
    if phone.startswith("84") and len(phone) == 11:
        phone = "0" + phone[2:]
    return phone


def normalize_email(raw: str) -> str:
    return raw.strip()


def recipient_for(event: DossierReceived, channel: Channel) -> str | None:
    """The applicant's address on ``channel``, or None when they gave none."""
    raw = event.applicant.phone if channel == "sms" else event.applicant.email
    if raw is None or not raw.strip():
        return None
    return normalize_phone(raw) if channel == "sms" else normalize_email(raw)


def chosen_channels(event: DossierReceived) -> list[tuple[Channel, str]]:
    """Channels the citizen chose and has an address for, each once, in the order chosen."""
    chosen: list[tuple[Channel, str]] = []
    for channel in dict.fromkeys(event.notify_channels):
        recipient = recipient_for(event, channel)
        if recipient is not None:
            chosen.append((channel, recipient))
    return chosen


def date_vn(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%d/%m/%Y")


def datetime_vn(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M ngày %d/%m/%Y")


def received_fields(event: DossierReceived, tz: tzinfo) -> dict[str, str]:
    return {
        "code": event.dossier_code,
        "full_name": event.applicant.full_name,
        "centre_name": event.centre_name,
        "procedure_name": event.procedure.name,
        "received": datetime_vn(event.received_at, tz),
        "appointment": datetime_vn(event.appointment_at, tz),
        "appointment_date": date_vn(event.appointment_at, tz),
        "lookup_url": event.lookup_url,
    }


def render(template: Template, channel: Channel, recipient: str, fields: Mapping[str, str]) -> OutgoingMessage:
    text = template.text.format_map(fields)
    escaped = {name: html.escape(value, quote=True) for name, value in fields.items()}
    return OutgoingMessage(
        channel=channel,
        recipient=recipient,
        subject=template.subject.format_map(fields) if template.subject else None,
        text=unaccent(text) if channel == "sms" else text,
        html=template.html.format_map(escaped) if template.html else None,
    )


def render_received(event: DossierReceived, tz: tzinfo) -> list[OutgoingMessage]:
    """The messages owed to the citizen for a received dossier, one per chosen channel."""
    fields = received_fields(event, tz)
    return [
        render(TEMPLATES[(event.event_type, channel)], channel, recipient, fields)
        for channel, recipient in chosen_channels(event)
    ]


def notification_id(event_id: str, channel: Channel, recipient: str) -> str:
    """Deterministic id of one message: the same event, channel and recipient give the same id.

    The recipient only enters hashed, so the id (used as SMS client reference and
    e-mail Message-ID) carries no personal data. 53 characters.
    """
    recipient_hash = hashlib.sha256(recipient.casefold().encode()).hexdigest()
    digest = hashlib.sha256(f"{event_id}\x1f{channel}\x1f{recipient_hash}".encode()).hexdigest()
    return f"{channel}-{digest[:48]}"
