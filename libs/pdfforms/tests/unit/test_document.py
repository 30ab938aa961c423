"""The layout primitives, rendered and read back with pypdf."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from motcua_pdfforms import (
    A4,
    MOTTO,
    MOTTO_SUB,
    Column,
    FormPDF,
    Signer,
    clean,
    clip,
    clock_on_day,
    dateline,
    day,
    day_and_clock,
    long_day,
    place,
    scaled,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
A5_POINTS = (419.5, 595.3)
A4_POINTS = (595.3, 841.9)


def pages(content: bytes) -> list[str]:
    """The text of each page, whitespace collapsed (wrapping puts line breaks anywhere)."""
    reader = PdfReader(io.BytesIO(content))
    return [re.sub(r"\s+", " ", page.extract_text() or "") for page in reader.pages]


def size_of(content: bytes, page: int = 0) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(content)).pages[page].mediabox
    return round(float(box.width), 1), round(float(box.height), 1)


def test_vietnamese_text_renders_and_reads_back() -> None:
    pdf = FormPDF(title="Phiếu thử")
    pdf.heading(
        "Ủy ban nhân dân phường Đông Hải",
        superior="Tỉnh Khánh Hòa",
        refs=["Số: 12/PXL"],
        dateline=dateline("Tỉnh Khánh Hòa", datetime(2026, 11, 23, 9, 32, tzinfo=VN)),
    )
    pdf.form_title("Phiếu thử nghiệm", "Đường Đống Đa")
    pdf.field("Ông/Bà", "Đặng Thị Đào", strong=True)
    pdf.field("Ghi chú", None)  # left out
    pdf.paragraph("Đề nghị Ông/Bà bổ sung hồ sơ trước ngày hẹn. " * 4)
    pdf.numbered(["Đơn đăng ký", "Giấy chứng nhận quyền sử dụng đất"])
    pdf.signatures(Signer("NGƯỜI NỘP HỒ SƠ", "Đặng Thị Đào"), Signer("THỦ TRƯỞNG CƠ QUAN", note="(Ký, đóng dấu)"))
    content = pdf.to_bytes()

    assert content.startswith(b"%PDF-")
    assert size_of(content) == A5_POINTS
    [text] = pages(content)
    for expected in (
        MOTTO,
        MOTTO_SUB,
        "TỈNH KHÁNH HÒA",
        "ỦY BAN NHÂN DÂN PHƯỜNG ĐÔNG HẢI",
        "Số: 12/PXL",
        "Khánh Hòa, ngày 23 tháng 11 năm 2026",
        "PHIẾU THỬ NGHIỆM",
        "Đường Đống Đa",
        "Ông/Bà: Đặng Thị Đào",
        "1. Đơn đăng ký",
        "NGƯỜI NỘP HỒ SƠ",
        "(Ký và ghi rõ họ tên)",
        "(Ký, đóng dấu)",
    ):
        assert expected in text, expected
    assert "Ghi chú" not in text
    assert "Trang" not in text, "a one-page form carries no page number"
    assert PdfReader(io.BytesIO(content)).metadata.title == "Phiếu thử"


def test_one_signature_block_on_the_right() -> None:
    pdf = FormPDF(title="x")
    pdf.signatures(None, Signer("THỦ TRƯỞNG CƠ QUAN"))
    [text] = pages(pdf.to_bytes())
    assert "THỦ TRƯỞNG CƠ QUAN" in text and "(Ký và ghi rõ họ tên)" in text


def test_a_long_table_spans_pages_with_its_headings_repeated() -> None:
    pdf = FormPDF(title="Bảng dài", page=A4)
    pdf.form_title("Bảng dài")
    columns = scaled((Column("STT", 10, "CENTER"), Column("Tên đơn vị giao", 60), Column("Ghi chú", 60)), pdf.epw)
    rows = [(str(n), f"Đơn vị số {n}", "Đã nhận đủ hồ sơ, chuyển tiếp để thẩm định. " * 2) for n in range(1, 151)]
    pdf.table_of(columns, rows)
    content = pdf.to_bytes()

    texts = pages(content)
    assert len(texts) >= 3
    assert size_of(content) == A4_POINTS
    for number, text in enumerate(texts, start=1):
        assert "Tên đơn vị giao" in text, f"page {number} lacks the headings"
        assert f"Trang {number}/{len(texts)}" in text
    everything = " ".join(texts)
    assert "Đơn vị số 1 " in everything and "Đơn vị số 150" in everything


def test_an_empty_table_says_so_and_long_cells_are_cut() -> None:
    pdf = FormPDF(title="x", page=A4, landscape=True)
    pdf.table_of([Column("Mã", 40), Column("Nội dung", 200)], [], empty="Không có hồ sơ")
    pdf.table_of([Column("Mã", 40), Column("Nội dung", 200)], [("A", "Đ" * 50)], cell_limit=10)
    content = pdf.to_bytes()
    assert size_of(content) == tuple(reversed(A4_POINTS))
    [text] = pages(content)
    assert "Không có hồ sơ" in text
    assert "Đ" * 9 + "…" in text and "Đ" * 10 not in text


def test_qr_code() -> None:
    pdf = FormPDF(title="x")
    assert pdf.qr("https://dichvucong.example.vn/tra-cuu?code=000.00.06.H56-261123-0001", 10, 10, 26)
    assert not pdf.qr("", 10, 10, 26)
    assert not pdf.qr("x" * 5000, 10, 10, 26)  # more than one QR code holds
    assert len(PdfReader(io.BytesIO(pdf.to_bytes())).pages[0].images) == 1


def test_dates_and_text() -> None:
    at = datetime(2026, 11, 23, 2, 32, tzinfo=UTC)  # 09:32 in Vietnam
    assert clock_on_day(at, VN) == "09:32 ngày 23/11/2026"
    assert day_and_clock(at, VN) == "23/11/2026 09:32"
    assert day_and_clock(None, VN) == ""
    assert day(date(2026, 1, 5)) == "05/01/2026"
    assert long_day(at, VN) == "ngày 23 tháng 11 năm 2026"
    assert dateline("Tỉnh Khánh Hòa", at, VN) == "Khánh Hòa, ngày 23 tháng 11 năm 2026"
    assert dateline("Thành phố Hà Nội", at, VN).startswith("Hà Nội, ")
    assert dateline("", at, VN) == "Ngày 23 tháng 11 năm 2026"
    assert place("Khánh Hòa") == "Khánh Hòa"
    decomposed = "Đa\u0300o"  # "Đào" with a combining grave accent
    assert clean(f"  {decomposed}\x00\t\r\nx ") == "Đào \nx"
    assert clean(None) == ""
    assert clip("abcdef", 4) == "abc…" and clip("abc", 4) == "abc"


def test_fonts_and_their_licence_ship_with_the_package() -> None:
    fonts = files("motcua_pdfforms").joinpath("fonts")
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE-DejaVu.txt"):
        assert fonts.joinpath(name).is_file(), name
