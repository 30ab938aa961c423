"""The printable forms, rendered from sample models and read back with pypdf (no servers)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from motcua_kit.errors import Invalid
from reception.api.forms import attachment
from reception.forms import (
    Applicant,
    DocumentRow,
    Issuer,
    LogBook,
    LogBookRow,
    Receipt,
    Refusal,
    SupplementItem,
    SupplementRequest,
    log_book_csv,
    log_book_pdf,
    receipt_pdf,
    refusal_pdf,
    supplement_request_pdf,
)
from reception.forms.csv import BOM, HEADER
from reception.service import forms as service

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = "000.00.06.H56-261123-0001"
RECEIVED = datetime(2026, 11, 23, 9, 32, tzinfo=VN)
APPOINTMENT = datetime(2026, 12, 21, 9, 32, tzinfo=VN)
A5_POINTS = (419.5, 595.3)

ISSUER = Issuer(
    name="Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa",
    province_name="Tỉnh Khánh Hòa",
    address="26 Hoàng Hoa Thám, phường Nha Trang, tỉnh Khánh Hòa",
    phone="0258 3568 686",
    email="ttphvhcc@khanhhoa.gov.vn",
)
APPLICANT = Applicant(
    full_name="Đặng Thị Đào",
    id_number="056190001234",
    phone="0905123456",
    email="dao.dang@example.vn",
    address="12 Trần Phú, phường Nha Trang, tỉnh Khánh Hòa",
)


def sample_receipt(**changes: Any) -> Receipt:
    data: dict[str, Any] = {
        "issuer": ISSUER,
        "number": CODE,
        "lookup_url": f"http://127.0.0.1:8001/lookup?code={CODE}",
        "lookup_code": "K7PX3M9Q",
        "applicant": APPLICANT,
        "content": "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu",
        "procedure_name": "Đăng ký đất đai, tài sản gắn liền với đất",
        "documents": (
            DocumentRow(name="Đơn đăng ký đất đai, tài sản gắn liền với đất (Mẫu số 04/ĐK)", originals=1, copies=0),
            DocumentRow(name="Giấy tờ về quyền sử dụng đất", originals=0, copies=1),
        ),
        "time_limit": "20 ngày làm việc",
        "received_at": RECEIVED,
        "appointment_at": APPOINTMENT,
        "return_channel": "counter",
        "officer_name": "Lê Văn Đức",
    }
    return Receipt.model_validate(data | changes)


def sample_log_book(rows: int = 3, **changes: Any) -> LogBook:
    def row(n: int) -> LogBookRow:
        return LogBookRow(
            number=n,
            dossier_code=f"000.00.06.H56-261123-{n:04d}",
            content="Đăng ký đất đai: Cấp Giấy chứng nhận quyền sử dụng đất lần đầu",
            owner_name="Đặng Thị Đào",
            address="12 Trần Phú, phường Nha Trang",
            phone="0905123456",
            received_at=RECEIVED,
            appointment_at=APPOINTMENT,
            returned_at=None,
            officer="Lê Văn Đức",
            note="Được tiếp nhận",
        )

    data: dict[str, Any] = {
        "issuer": ISSUER,
        "date_from": date(2026, 11, 1),
        "date_to": date(2026, 11, 30),
        "rows": tuple(row(n) for n in range(1, rows + 1)),
    }
    return LogBook.model_validate(data | changes)


def pdf_text(pdf: bytes) -> str:
    """All pages' text, every run of whitespace (line wraps included) made one space."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def pages(pdf: bytes) -> list[Any]:
    return list(PdfReader(io.BytesIO(pdf)).pages)


# --- Mẫu 01 -------------------------------------------------------------------------------------------


def test_receipt_prints_the_vietnamese_text_exactly() -> None:
    text = pdf_text(receipt_pdf(sample_receipt()))
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG TỈNH KHÁNH HÒA",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        f"Mã hồ sơ: {CODE}",
        "Ông/Bà: Đặng Thị Đào",
        "Số định danh cá nhân: 056190001234",
        "Nội dung yêu cầu giải quyết: Cấp Giấy chứng nhận quyền sử dụng đất lần đầu",
        "(Mẫu số 04/ĐK)",
        "Thời gian giải quyết hồ sơ theo quy định: 20 ngày làm việc",
        "Thời gian nhận hồ sơ: 09:32 ngày 23/11/2026",
        "Thời gian trả kết quả giải quyết hồ sơ: 09:32 ngày 21/12/2026",
        "Khánh Hòa, ngày 23 tháng 11 năm 2026",
        "Bộ phận Một cửa - Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa",
        "NGƯỜI NỘP HỒ SƠ",
        "NGƯỜI TIẾP NHẬN",
        "(Ký và ghi rõ họ tên)",
        "Lê Văn Đức",
    ):
        assert expected in text, expected


def test_receipt_is_one_a5_page_with_the_qr_code_image() -> None:
    [page] = pages(receipt_pdf(sample_receipt()))
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A5_POINTS, abs=1)
    xobjects = page["/Resources"]["/XObject"]
    assert any(xobjects[name].get_object()["/Subtype"] == "/Image" for name in xobjects)
    assert "Trang 1/" not in (page.extract_text() or "")  # a one-page form carries no page number


def test_receipt_prints_the_lookup_code_and_how_to_look_up() -> None:
    text = pdf_text(receipt_pdf(sample_receipt()))
    assert "Mã tra cứu: K7PX3M9Q" in text
    assert "mã hồ sơ kèm số điện thoại, số định danh cá nhân hoặc mã tra cứu" in text
    without = pdf_text(receipt_pdf(sample_receipt(lookup_code=None)))
    assert "Mã tra cứu:" not in without and CODE in without


def test_receipt_by_post_names_the_delivery_address() -> None:
    receipt = sample_receipt(return_channel="post", delivery_address="Thôn Đông, xã Diên Điền, tỉnh Khánh Hòa")
    text = pdf_text(receipt_pdf(receipt))
    assert "Qua dịch vụ bưu chính công ích, gửi đến: Thôn Đông, xã Diên Điền, tỉnh Khánh Hòa" in text


def test_receipt_times_follow_the_given_timezone() -> None:
    text = pdf_text(receipt_pdf(sample_receipt(), tz=ZoneInfo("UTC")))
    assert "Thời gian nhận hồ sơ: 02:32 ngày 23/11/2026" in text


def test_receipt_with_twenty_documents_runs_onto_numbered_pages() -> None:
    documents = tuple(
        DocumentRow(name=f"Giấy tờ số {n}: bản vẽ sơ đồ thửa đất, tài sản gắn liền với đất", originals=1, copies=2)
        for n in range(1, 21)
    )
    pdf = receipt_pdf(sample_receipt(documents=documents))
    text = pdf_text(pdf)
    assert len(pages(pdf)) >= 2 and "Trang 1/" in text and "Trang 2/" in text
    assert all(f"Giấy tờ số {n}:" in text for n in range(1, 21))
    assert "NGƯỜI TIẾP NHẬN" in text


def test_long_content_wraps_without_overflow() -> None:
    long_words = " ".join(["Đề nghị cấp đổi Giấy chứng nhận quyền sử dụng đất do bị rách nát"] * 30) + " HẾT"
    unbroken = "Đ" * 250
    receipt = sample_receipt(
        content=long_words,
        applicant=APPLICANT.model_copy(update={"address": unbroken}),
        documents=(DocumentRow(name="Bản sao " * 60 + "CUỐI", originals=1, copies=1),),
        lookup_url="https://dichvucong.khanhhoa.gov.vn/tra-cuu?ma=" + "X" * 300,
    )
    text = pdf_text(receipt_pdf(receipt))
    assert "HẾT" in text and "CUỐI" in text and "ĐĐĐĐĐĐĐĐ" in text


def test_qr_code_is_left_out_when_there_is_no_lookup_url() -> None:
    [page] = pages(receipt_pdf(sample_receipt(lookup_url="")))
    assert "/XObject" not in page["/Resources"]


# --- Mẫu 02 and 03 ------------------------------------------------------------------------------------


def test_supplement_request_lists_items_reasons_and_contact() -> None:
    request = SupplementRequest(
        issuer=ISSUER,
        dossier_code=CODE,
        applicant=APPLICANT,
        content="Cấp Giấy chứng nhận quyền sử dụng đất lần đầu",
        procedure_name="Đăng ký đất đai, tài sản gắn liền với đất",
        items=(
            SupplementItem(item="Sơ đồ thửa đất", reason="Thiếu giấy tờ bắt buộc"),
            SupplementItem(item="Tờ khai", reason="chưa ký, ghi rõ họ tên"),
        ),
        officer_name="Lê Văn Đức",
        issued_at=RECEIVED,
    )
    text = pdf_text(supplement_request_pdf(request))
    for expected in (
        "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
        f"Mã hồ sơ: {CODE}",
        "Ông/Bà: Đặng Thị Đào",
        "Sơ đồ thửa đất",
        "Thiếu giấy tờ bắt buộc",
        "chưa ký, ghi rõ họ tên",
        "điện thoại 0258 3568 686",
        "ttphvhcc@khanhhoa.gov.vn",
        "Khánh Hòa, ngày 23 tháng 11 năm 2026",
    ):
        assert expected in text, expected


def test_refusal_lists_the_specific_reasons() -> None:
    refusal = Refusal(
        issuer=ISSUER,
        dossier_code=CODE,
        applicant=APPLICANT,
        procedure_name="Đăng ký đất đai, tài sản gắn liền với đất",
        reasons=("Hồ sơ không thuộc thẩm quyền giải quyết", "Đơn đề nghị không đúng mẫu quy định"),
        officer_name=None,
        issued_at=RECEIVED,
    )
    text = pdf_text(refusal_pdf(refusal))
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text
    assert "1. Hồ sơ không thuộc thẩm quyền giải quyết" in text
    assert "2. Đơn đề nghị không đúng mẫu quy định" in text
    assert "Ông/Bà: Đặng Thị Đào" in text


def test_refusal_with_many_long_reasons_renders() -> None:
    reasons = tuple(f"Lý do {n}: " + "giấy tờ không hợp lệ " * 25 for n in range(1, 51))
    refusal = Refusal(issuer=ISSUER, applicant=APPLICANT, procedure_name="Thủ tục", reasons=reasons, issued_at=RECEIVED)
    pdf = refusal_pdf(refusal)
    assert len(pages(pdf)) > 1 and "Lý do 50:" in pdf_text(pdf)


# --- Mẫu 06 -------------------------------------------------------------------------------------------


def test_log_book_pdf_is_a4_landscape_with_headings_and_page_numbers() -> None:
    pdf = log_book_pdf(sample_log_book(rows=60))
    first = pages(pdf)[0]
    assert float(first.mediabox.width) > float(first.mediabox.height)
    text = pdf_text(pdf)
    assert "SỔ THEO DÕI HỒ SƠ" in text and "Từ ngày 01/11/2026 đến ngày 30/11/2026" in text
    assert "Trang 1/" in text and "Trang 2/" in text
    assert "261123-0060" in text and "Tổng số: 60 hồ sơ" in text


def test_log_book_pdf_survives_huge_cells_and_an_empty_period() -> None:
    huge = sample_log_book(rows=1).rows[0].model_copy(update={"content": "Nội dung rất dài " * 200 + "Đ" * 300})
    assert "Nội dung rất dài" in pdf_text(log_book_pdf(sample_log_book(rows=0).model_copy(update={"rows": (huge,)})))
    assert "Không có hồ sơ trong kỳ" in pdf_text(log_book_pdf(sample_log_book(rows=0)))


def test_log_book_csv_has_bom_header_and_local_dates() -> None:
    content = log_book_csv(sample_log_book(rows=2))
    assert content.startswith(BOM)
    rows = list(csv.reader(io.StringIO(content.removeprefix(BOM))))
    assert rows[0] == list(HEADER)
    assert rows[0] == [
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
    ]
    assert rows[1][:2] == ["1", "000.00.06.H56-261123-0001"]
    assert rows[1][3] == "Đặng Thị Đào"
    assert rows[1][6:9] == ["23/11/2026 09:32", "21/12/2026 09:32", ""]
    assert len(rows) == 3


def test_log_book_csv_defuses_formulas() -> None:
    row = (
        sample_log_book(rows=1)
        .rows[0]
        .model_copy(
            update={
                "owner_name": '=HYPERLINK("http://evil.example","Đào")',
                "address": "+1+1",
                "phone": "-2",
                "note": "@SUM(A1)",
                "officer": "Lê = Đức",
            }
        )
    )
    content = log_book_csv(sample_log_book(rows=0).model_copy(update={"rows": (row,)}))
    [cells] = list(csv.reader(io.StringIO(content.removeprefix(BOM))))[1:]
    assert cells[3] == '\'=HYPERLINK("http://evil.example","Đào")'
    assert cells[4] == "'+1+1" and cells[5] == "'-2" and cells[10] == "'@SUM(A1)"
    assert cells[9] == "Lê = Đức"


# --- building the models from the stored dossier (service, pure part) --------------------------------


def stored_dossier(**changes: Any) -> dict[str, Any]:
    """A received counter dossier as store.py describes it (times as the driver returns them: UTC)."""
    doc: dict[str, Any] = {
        "_id": CODE,
        "centre_code": "000.00.06.H56",
        "centre_name": ISSUER.name,
        "procedure": {"code": "1.012753", "name": "Đăng ký đất đai", "field": "Đất đai", "level": "province"},
        "procedure_snapshot": {"limit": {"unit": "working_days", "value": 20, "online_value": 15}},
        "intake_channel": 1,
        "return_channel": "counter",
        "delivery_address": None,
        "applicant": APPLICANT.model_dump(),
        "content": "Cấp Giấy chứng nhận lần đầu",
        "documents": [{"name": "Đơn đăng ký", "originals": 1, "copies": 0}],
        "status": 2,
        "submitted_at": None,
        "received_at": RECEIVED.astimezone(UTC),
        "appointment_at": (APPOINTMENT + timedelta(days=3)).astimezone(UTC),
        "original_appointment_at": APPOINTMENT.astimezone(UTC),
        "limit_working_hours": 160.0,
        "supplement_requests": [],
        "refusal_reasons": [],
        "lookup_url": f"http://127.0.0.1:8001/lookup?code={CODE}",
        "lookup_code": "K7PX3M9Q",
        "received_by": "officer-1",
        "officer_name": "Lê Văn Đức",
        "history": [],
    }
    return doc | changes


def test_receipt_model_from_a_stored_dossier() -> None:
    receipt = service.receipt_of(stored_dossier(), ISSUER)
    assert receipt.number == CODE and receipt.lookup_code == "K7PX3M9Q"
    assert receipt.time_limit == "20 ngày làm việc"
    assert receipt.appointment_at == APPOINTMENT  # the appointment as first printed
    assert receipt.documents == (DocumentRow(name="Đơn đăng ký", originals=1, copies=0),)
    assert service.receipt_of(stored_dossier(lookup_code=None), ISSUER).lookup_code is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "20 ngày làm việc"),
        ({"intake_channel": 2}, "15 ngày làm việc"),
        ({"procedure_snapshot": {"limit": {"unit": "working_hours", "value": 4}}}, "4 giờ làm việc"),
        ({"procedure_snapshot": {"limit": {"unit": "working_days", "value": 0.5}}}, "0,5 ngày làm việc"),
        ({"procedure_snapshot": {}, "limit_working_hours": 12.0}, "12 giờ làm việc"),
    ],
)
def test_time_limit_text(changes: dict[str, Any], expected: str) -> None:
    assert service.time_limit_text(stored_dossier(**changes)) == expected


@pytest.mark.parametrize(
    ("reason", "item", "why"),
    [
        ("thiếu giấy tờ bắt buộc: Sơ đồ thửa đất", "Sơ đồ thửa đất", "Thiếu giấy tờ bắt buộc"),
        ("Tờ khai: cần 1 bản chính, có 0", "Tờ khai", "cần 1 bản chính, có 0"),
        ("Bổ sung bản sao sổ hộ khẩu", "Bổ sung bản sao sổ hộ khẩu", ""),
    ],
)
def test_supplement_item_splits_the_paper_from_the_reason(reason: str, item: str, why: str) -> None:
    assert service.supplement_item(reason) == SupplementItem(item=item, reason=why)


def test_supplement_request_model_uses_the_latest_request() -> None:
    requests = [
        {"requested_at": RECEIVED, "requested_by": "officer-1", "reasons": ["cũ"]},
        {"requested_at": APPOINTMENT, "requested_by": "officer-9", "reasons": ["Tờ khai: chưa ký"]},
    ]
    model = service.supplement_request_of(stored_dossier(supplement_requests=requests), ISSUER)
    assert model.items == (SupplementItem(item="Tờ khai", reason="chưa ký"),)
    assert model.issued_at == APPOINTMENT and model.officer_name is None  # officer-9's name is not on record


def test_refusal_model_takes_reasons_and_date() -> None:
    refused = stored_dossier(
        status=3,
        received_at=None,
        refusal_reasons=["Không thuộc thẩm quyền"],
        refused_at=RECEIVED,
        history=[{"status": 3, "at": RECEIVED, "by": "officer-1", "agency": "000.00.06.H56", "note": "x"}],
    )
    model = service.refusal_of(refused, ISSUER)
    assert model.reasons == ("Không thuộc thẩm quyền",) and model.issued_at == RECEIVED
    assert model.officer_name == "Lê Văn Đức"


def test_log_book_rows_in_order_of_receipt() -> None:
    later = stored_dossier(_id="B", received_at=RECEIVED + timedelta(hours=1))
    submitted = stored_dossier(_id="C", status=3, received_at=None, submitted_at=RECEIVED + timedelta(hours=2))
    first = stored_dossier(_id="A", intake_channel=3)
    book = service.log_book_of([submitted, later, first], ISSUER, date(2026, 11, 23), date(2026, 11, 23))
    assert [(r.number, r.dossier_code) for r in book.rows] == [(1, "A"), (2, "B"), (3, "C")]
    assert book.rows[0].note == "Được tiếp nhận (qua bưu chính)"
    assert book.rows[0].content == "Đăng ký đất đai: Cấp Giấy chứng nhận lần đầu"
    assert book.rows[2].received_at == RECEIVED + timedelta(hours=2)
    assert book.rows[2].note == "Không được tiếp nhận"


@pytest.mark.parametrize(
    ("date_from", "date_to", "needle"),
    [
        (date(2026, 11, 2), date(2026, 11, 1), "is after"),
        (date(2025, 1, 1), date(2026, 1, 2), "at most 366 days"),
        (date(1, 1, 1), date(1, 1, 2), "outside the days a report can cover"),
    ],
)
def test_log_book_period_is_checked(date_from: date, date_to: date, needle: str) -> None:
    with pytest.raises(Invalid, match=needle):
        service.check_period(date_from, date_to)
    service.check_period(date(2024, 1, 1), date(2024, 12, 31))  # a leap year is 366 days


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("giay-tiep-nhan-000.00.06.H56-261123-0001.pdf", "giay-tiep-nhan-000.00.06.H56-261123-0001.pdf"),
        ('sổ "Đào"\r\n; x=1.csv', "so_Dao_x_1.csv"),
    ],
)
def test_attachment_filename_is_ascii_and_quoted(filename: str, expected: str) -> None:
    response = attachment("x", "text/csv; charset=utf-8", filename)
    assert response.headers["content-disposition"] == f'attachment; filename="{expected}"'
    assert response.headers["cache-control"] == "no-store"
