"""The log book (Mẫu 06) as CSV for Excel: UTF-8 with a BOM, Vietnamese headings, formulas defused."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from motcua_pdfforms import VN, clean, day_and_clock
from reception.forms.models import LogBook, LogBookRow

BOM = "\ufeff"
HEADER = (
    "STT",
    "Mã hồ sơ",
    "Nội dung",
    "Chủ hồ sơ",
    "Địa chỉ",
    "Số điện thoại",
    "Ngày nhận",
    "Ngày hẹn trả",
    "Ngày trả",
    "Cán bộ tiếp nhận",
    "Ghi chú",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def log_book_csv(book: LogBook, *, tz: ZoneInfo = VN) -> str:
    """One line per dossier, dates ``dd/mm/yyyy HH:MM`` in ``tz``; starts with the BOM Excel needs."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(_cells(row, tz) for row in book.rows)
    return BOM + out.getvalue()


def _cells(row: LogBookRow, tz: ZoneInfo) -> list[str]:
    texts = (
        row.dossier_code,
        row.content,
        row.owner_name,
        row.address,
        row.phone,
        day_and_clock(row.received_at, tz),
        day_and_clock(row.appointment_at, tz),
        day_and_clock(row.returned_at, tz),
        row.officer,
        row.note,
    )
    return [str(row.number), *(defuse(clean(t)) for t in texts)]


def defuse(cell: str) -> str:
    """A cell a spreadsheet would read as a formula gets a leading apostrophe (CSV injection)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell
