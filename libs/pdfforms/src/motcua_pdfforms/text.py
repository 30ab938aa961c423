"""How the forms write times, places and free text: Vietnamese date formats, NFC text without control characters."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PROVINCE_PREFIXES = ("tỉnh ", "thành phố ")


def clean(text: str | None) -> str:
    """NFC (the fonts have precomposed Vietnamese letters) without control characters but newlines."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\t", " ")
    return _CONTROL.sub("", text).strip()


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clock_on_day(at: datetime, tz: ZoneInfo = VN) -> str:
    """``09:32 ngày 23/11/2026``: how forms write a time received, handed over or appointed."""
    local = at.astimezone(tz)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def day_and_clock(at: datetime | None, tz: ZoneInfo = VN) -> str:
    """``23/11/2026 09:32`` (registers and tables); empty when there is no time."""
    return at.astimezone(tz).strftime("%d/%m/%Y %H:%M") if at else ""


def day(d: date) -> str:
    return f"{d:%d/%m/%Y}"


def place(province_name: str) -> str:
    """The place in a document's dateline: "Tỉnh Khánh Hòa" is written "Khánh Hòa"."""
    name = clean(province_name)
    for prefix in _PROVINCE_PREFIXES:
        if name.lower().startswith(prefix):
            return name[len(prefix) :]
    return name


def long_day(at: datetime, tz: ZoneInfo = VN) -> str:
    """``ngày 23 tháng 11 năm 2026``: the day written out, as in a document's dateline."""
    local = at.astimezone(tz)
    return f"ngày {local.day:02d} tháng {local.month:02d} năm {local.year}"


def dateline(province_name: str, at: datetime, tz: ZoneInfo = VN) -> str:
    """``Khánh Hòa, ngày 23 tháng 11 năm 2026``."""
    where = place(province_name)
    when = long_day(at, tz)
    return f"{where}, {when}" if where else when.capitalize()
