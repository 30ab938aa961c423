"""The printable forms as PDF: Mẫu 01, 02 and 03 on A5 portrait, the log book (Mẫu 06) on A4 landscape."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fpdf.enums import Align, XPos, YPos

from motcua_pdfforms import (
    A4,
    A5,
    FONT,
    VN,
    Column,
    FormPDF,
    Signer,
    clean,
    clock_on_day,
    dateline,
    day,
    day_and_clock,
    scaled,
)
from reception.forms.models import Applicant, Issuer, LogBook, LogBookRow, Receipt, Refusal, SupplementRequest

RECEIPT_TITLE = "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
SUPPLEMENT_TITLE = "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"
REFUSAL_TITLE = "Phiếu từ chối tiếp nhận giải quyết hồ sơ"
LOG_BOOK_TITLE = "Sổ theo dõi hồ sơ"
APPLICANT_SIGNS = "NGƯỜI NỘP HỒ SƠ"
OFFICER_SIGNS = "NGƯỜI TIẾP NHẬN"
LOOKUP_NOTE = "Tra cứu tình trạng hồ sơ bằng mã hồ sơ kèm số điện thoại, số định danh cá nhân hoặc mã tra cứu."
QR_SIZE = 26.0
CREATOR = "motcua reception"


# --- Mẫu 01 -----------------------------------------------------------------------------------------


def receipt_pdf(receipt: Receipt, *, tz: ZoneInfo = VN) -> bytes:
    """Mẫu 01 Giấy tiếp nhận hồ sơ và hẹn trả kết quả, with the QR code of the lookup page."""
    pdf = _form(f"{RECEIPT_TITLE} {receipt.number}")
    _heading(pdf, receipt.issuer, dated=dateline(receipt.issuer.province_name, receipt.received_at, tz))
    pdf.form_title(RECEIPT_TITLE)
    _code_and_qr(pdf, receipt)
    pdf.paragraph(f"{clean(receipt.issuer.name)} tiếp nhận hồ sơ của:")
    _applicant(pdf, receipt.applicant, with_contacts=True)
    pdf.field("Nội dung yêu cầu giải quyết", receipt.content or receipt.procedure_name)
    pdf.field("Thủ tục hành chính", receipt.procedure_name)
    pdf.space(0.4)
    pdf.paragraph("1. Thành phần hồ sơ nộp gồm:", bold=True)
    _documents(pdf, receipt)
    pdf.field("2. Số lượng hồ sơ", "01 bộ")
    pdf.field("3. Thời gian giải quyết hồ sơ theo quy định", receipt.time_limit)
    pdf.field("4. Thời gian nhận hồ sơ", clock_on_day(receipt.received_at, tz))
    pdf.field("5. Thời gian trả kết quả giải quyết hồ sơ", clock_on_day(receipt.appointment_at, tz), strong=True)
    pdf.field("6. Nơi nhận kết quả", _where_to_collect(receipt))
    pdf.signatures(Signer(APPLICANT_SIGNS, receipt.applicant.full_name), Signer(OFFICER_SIGNS, receipt.officer_name))
    return pdf.to_bytes()


def _code_and_qr(pdf: FormPDF, receipt: Receipt) -> None:
    """The dossier code and how to look it up, the QR code of the lookup page beside them."""
    top = pdf.y
    has_qr = pdf.qr(receipt.lookup_url, pdf.l_margin + pdf.epw - QR_SIZE, top, QR_SIZE)
    width = pdf.epw - (QR_SIZE + 3 if has_qr else 0)
    lines: list[tuple[str, bool]] = [(f"Mã hồ sơ: {clean(receipt.number)}", True)]
    if receipt.lookup_code:
        lines.append((f"Mã tra cứu: {clean(receipt.lookup_code)}", True))
    lines.append((LOOKUP_NOTE, False))
    if has_qr:
        lines.append(("Quét mã QR hoặc truy cập:", False))
    lines.append((clean(receipt.lookup_url), False))
    for text, bold in lines:
        pdf.set_font(FONT, "B" if bold else "", pdf.base_size + (1 if bold else -1))
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(width, pdf.lh, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.body()
    pdf.set_y(max(pdf.y, top + (QR_SIZE if has_qr else 0)) + pdf.lh * 0.6)


def _documents(pdf: FormPDF, receipt: Receipt) -> None:
    width = pdf.epw
    columns = (
        Column("STT", 10, "CENTER"),
        Column("Tên giấy tờ", width - 10 - 2 * 17),
        Column("Bản chính", 17, "CENTER"),
        Column("Bản sao", 17, "CENTER"),
    )
    rows = [(str(n), d.name, str(d.originals), str(d.copies)) for n, d in enumerate(receipt.documents, start=1)]
    pdf.table_of(columns, rows, empty="Không có giấy tờ kèm theo")


def _where_to_collect(receipt: Receipt) -> str:
    if receipt.return_channel == "post":
        address = clean(receipt.delivery_address or receipt.applicant.address) or "địa chỉ người nộp hồ sơ đã đăng ký"
        return f"Qua dịch vụ bưu chính công ích, gửi đến: {address}"
    where = f"Bộ phận Một cửa - {clean(receipt.issuer.name)}"
    return f"{where}, {clean(receipt.issuer.address)}" if receipt.issuer.address else where


# --- Mẫu 02 -----------------------------------------------------------------------------------------


def supplement_request_pdf(request: SupplementRequest, *, tz: ZoneInfo = VN) -> bytes:
    """Mẫu 02 Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ: what is missing or faulty, and why."""
    centre = clean(request.issuer.name)
    pdf = _form(f"{SUPPLEMENT_TITLE} {request.dossier_code}")
    _heading(pdf, request.issuer, dated=dateline(request.issuer.province_name, request.issued_at, tz))
    pdf.form_title(SUPPLEMENT_TITLE)
    pdf.field("Mã hồ sơ", request.dossier_code, strong=True)
    pdf.paragraph("Hồ sơ của:")
    _applicant(pdf, request.applicant, with_contacts=False)
    pdf.field("Nội dung yêu cầu giải quyết", request.content or request.procedure_name)
    pdf.field("Thủ tục hành chính", request.procedure_name)
    pdf.space(0.4)
    pdf.paragraph(
        f"Sau khi xem xét, {centre} đề nghị Ông/Bà bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:", align=Align.J
    )
    columns = (Column("STT", 10, "CENTER"), Column("Nội dung cần bổ sung, hoàn thiện", 60), Column("Lý do", 54))
    rows = [(str(n), i.item, i.reason) for n, i in enumerate(request.items, start=1)]
    pdf.table_of(scaled(columns, pdf.epw), rows)
    pdf.paragraph(_guidance(request.issuer), align=Align.J)
    pdf.paragraph("Xin trân trọng cảm ơn./.")
    pdf.signatures(Signer(APPLICANT_SIGNS, request.applicant.full_name), Signer(OFFICER_SIGNS, request.officer_name))
    return pdf.to_bytes()


def _guidance(issuer: Issuer) -> str:
    contacts = [
        f"điện thoại {clean(issuer.phone)}" if issuer.phone else "",
        f"email {clean(issuer.email)}" if issuer.email else "",
    ]
    reach = ", ".join(c for c in contacts if c)
    where = clean(issuer.name) + (f" ({reach})" if reach else "")
    return f"Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà liên hệ {where} để được hướng dẫn."


# --- Mẫu 03 -----------------------------------------------------------------------------------------


def refusal_pdf(refusal: Refusal, *, tz: ZoneInfo = VN) -> bytes:
    """Mẫu 03 Phiếu từ chối tiếp nhận giải quyết hồ sơ, with the specific reasons."""
    centre = clean(refusal.issuer.name)
    pdf = _form(f"{REFUSAL_TITLE} {refusal.dossier_code or ''}".strip())
    _heading(pdf, refusal.issuer, dated=dateline(refusal.issuer.province_name, refusal.issued_at, tz))
    pdf.form_title(REFUSAL_TITLE)
    pdf.field("Mã hồ sơ", refusal.dossier_code, strong=True)
    pdf.paragraph(f"{centre} tiếp nhận hồ sơ của:")
    _applicant(pdf, refusal.applicant, with_contacts=False)
    pdf.field("Nội dung yêu cầu giải quyết", refusal.content or refusal.procedure_name)
    pdf.field("Thủ tục hành chính", refusal.procedure_name)
    pdf.space(0.4)
    pdf.paragraph(
        f"Qua xem xét, {centre} thông báo không tiếp nhận, giải quyết hồ sơ này với lý do cụ thể như sau:",
        align=Align.J,
    )
    pdf.numbered(refusal.reasons)
    pdf.space(0.4)
    pdf.paragraph("Xin thông báo để Ông/Bà được biết và thực hiện./.")
    pdf.signatures(Signer(APPLICANT_SIGNS, refusal.applicant.full_name), Signer(OFFICER_SIGNS, refusal.officer_name))
    return pdf.to_bytes()


# --- Mẫu 06 -----------------------------------------------------------------------------------------

LOG_BOOK_COLUMNS = (
    Column("STT", 9, "CENTER"),
    Column("Mã hồ sơ", 27),
    Column("Nội dung", 48),
    Column("Chủ hồ sơ", 28),
    Column("Địa chỉ", 34),
    Column("Số điện thoại", 20, "CENTER"),
    Column("Ngày nhận", 18, "CENTER"),
    Column("Ngày hẹn trả", 18, "CENTER"),
    Column("Ngày trả", 18, "CENTER"),
    Column("Cán bộ tiếp nhận", 25),
    Column("Ghi chú", 32),
)


def log_book_pdf(book: LogBook, *, tz: ZoneInfo = VN) -> bytes:
    """Mẫu 06 Sổ theo dõi hồ sơ on A4 landscape, headings repeated and pages numbered."""
    pdf = _form(f"{LOG_BOOK_TITLE} {book.date_from:%d/%m/%Y} - {book.date_to:%d/%m/%Y}", page=A4, landscape=True)
    _heading(pdf, book.issuer, dated=None)
    pdf.form_title(LOG_BOOK_TITLE, f"Từ ngày {day(book.date_from)} đến ngày {day(book.date_to)}")
    pdf.paragraph(f"Tổng số: {len(book.rows)} hồ sơ")
    rows = [_log_book_cells(r, tz) for r in book.rows]
    pdf.table_of(scaled(LOG_BOOK_COLUMNS, pdf.epw), rows, size=7.0, cell_limit=300, empty="Không có hồ sơ trong kỳ")
    return pdf.to_bytes()


def _log_book_cells(row: LogBookRow, tz: ZoneInfo) -> tuple[str, ...]:
    return (
        str(row.number),
        _breakable_code(row.dossier_code),
        row.content,
        row.owner_name,
        row.address or "",
        row.phone or "",
        _stacked(row.received_at, tz),
        _stacked(row.appointment_at, tz),
        _stacked(row.returned_at, tz),
        row.officer or "",
        row.note or "",
    )


def _stacked(at: datetime | None, tz: ZoneInfo) -> str:
    """The day over the time, to fit a narrow column."""
    return day_and_clock(at, tz).replace(" ", "\n")


def _breakable_code(code: str) -> str:
    """``000.00.06.H56-261123-0001`` breaks after the centre's part rather than anywhere."""
    head, sep, tail = code.partition("-")
    return f"{head}{sep}\n{tail}" if sep else code


# --- shared -----------------------------------------------------------------------------------------


def _form(title: str, *, page: tuple[float, float] = A5, landscape: bool = False) -> FormPDF:
    return FormPDF(title=title, page=page, landscape=landscape, creator=CREATOR)


def _heading(pdf: FormPDF, issuer: Issuer, *, dated: str | None) -> None:
    """The province above the issuing centre at top left, the national motto and ``dated`` at top right."""
    pdf.heading(issuer.name, superior=issuer.province_name, dateline=dated)


def _applicant(pdf: FormPDF, applicant: Applicant, *, with_contacts: bool) -> None:
    pdf.field("Ông/Bà", applicant.full_name, strong=True)
    pdf.field("Số định danh cá nhân", applicant.id_number)
    pdf.field("Địa chỉ", applicant.address)
    pdf.field("Số điện thoại", applicant.phone)
    if with_contacts:
        pdf.field("Email", applicant.email)
