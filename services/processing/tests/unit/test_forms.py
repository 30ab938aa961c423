"""Mẫu 04 and Mẫu 05, rendered from sample models and read back with pypdf (no servers)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from pypdf import PdfReader

from processing.forms import Agency, Apology, Handover, ProcessSlip, apology_pdf, process_slip_pdf

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = "000.00.06.H56-261123-0001"
RECEIVED = datetime(2026, 11, 23, 9, 32, tzinfo=VN)
APPOINTMENT = datetime(2026, 12, 21, 9, 32, tzinfo=VN)
NEW_APPOINTMENT = datetime(2026, 12, 28, 15, 0, tzinfo=VN)
A5_POINTS = (419.5, 595.3)
A4_POINTS = (595.3, 841.9)

AGENCY = Agency(
    code="000.00.06.H56",
    name="Sở Nông nghiệp và Môi trường",
    province_name="Tỉnh Khánh Hòa",
    superior_name="Ủy ban nhân dân tỉnh Khánh Hòa",
)


def pages(content: bytes) -> list[str]:
    """The text of each page, whitespace collapsed (wrapping puts line breaks anywhere)."""
    return [re.sub(r"\s+", " ", p.extract_text() or "") for p in PdfReader(io.BytesIO(content)).pages]


def size_of(content: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(content)).pages[0].mediabox
    return round(float(box.width), 1), round(float(box.height), 1)


def sample_apology(**changes: Any) -> Apology:
    data: dict[str, Any] = {
        "agency": AGENCY,
        "number": "12/PXL",
        "applicant_name": "Đặng Thị Đào",
        "dossier_code": CODE,
        "procedure_name": "Đăng ký đất đai, tài sản gắn liền với đất lần đầu",
        "received_at": RECEIVED,
        "original_appointment_at": APPOINTMENT,
        "reason": "Cần xác minh thêm nguồn gốc sử dụng đất với Ủy ban nhân dân phường Đông Hải.",
        "new_appointment_at": NEW_APPOINTMENT,
        "issued_at": datetime(2026, 12, 17, 8, 0, tzinfo=VN),
        "leader_name": "Nguyễn Văn Đông",
    }
    return Apology(**(data | changes))


def sample_slip(rows: int = 3) -> ProcessSlip:
    units = ["Bộ phận Một cửa", "Phòng Đăng ký đất đai", "Văn phòng Đăng ký đất đai", "Lãnh đạo Sở"]
    results = ["early", "on_time", "late", None]
    handovers = tuple(
        Handover(
            from_unit=units[n % 4],
            to_unit=units[(n + 1) % 4],
            at=(RECEIVED + timedelta(days=n, hours=1)).astimezone(UTC),
            result=results[n % 4],
            note=f"Lượt {n + 1}" if n % 2 else None,
        )
        for n in range(rows)
    )
    return ProcessSlip(
        agency=AGENCY,
        dossier_code=CODE,
        procedure_name="Đăng ký đất đai, tài sản gắn liền với đất lần đầu",
        applicant_name="Đặng Thị Đào",
        received_at=RECEIVED,
        appointment_at=APPOINTMENT,
        handovers=handovers,
    )


# --- Mẫu 04 -----------------------------------------------------------------------------------------


def test_apology_reads_back() -> None:
    content = apology_pdf(sample_apology(), tz=VN)

    assert size_of(content) == A5_POINTS
    [text] = pages(content)
    for expected in (
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "SỞ NÔNG NGHIỆP VÀ MÔI TRƯỜNG",
        "Số: 12/PXL",
        "Mã định danh: 000.00.06.H56",
        "Khánh Hòa, ngày 17 tháng 12 năm 2026",
        "Kính gửi: Ông/Bà Đặng Thị Đào",
        f"Mã hồ sơ: {CODE}",
        "Thời gian tiếp nhận hồ sơ: 09:32 ngày 23/11/2026",
        "Thời gian hẹn trả kết quả: 09:32 ngày 21/12/2026",
        "Cần xác minh thêm nguồn gốc sử dụng đất",
        "xin lỗi Ông/Bà vì đã trả kết quả giải quyết hồ sơ chậm so với thời hạn quy định",
        "Thời gian hẹn trả kết quả mới: 15:00 ngày 28/12/2026",
        "THỦ TRƯỞNG CƠ QUAN",
        "Nguyễn Văn Đông",
    ):
        assert expected in text, expected
    assert "Trang" not in text


def test_apology_prints_in_the_given_timezone_and_without_optional_parts() -> None:
    apology = sample_apology(number=None, leader_name=None, new_appointment_at=NEW_APPOINTMENT.astimezone(UTC))
    [text] = pages(apology_pdf(apology, tz=VN))
    assert "15:00 ngày 28/12/2026" in text
    assert "Số:" not in text


def test_apology_needs_a_later_new_appointment_and_a_reason() -> None:
    with pytest.raises(ValidationError, match="new_appointment_at"):
        sample_apology(new_appointment_at=APPOINTMENT)
    with pytest.raises(ValidationError):
        sample_apology(reason="   ")
    with pytest.raises(ValidationError):
        sample_apology(received_at=datetime(2026, 11, 23, 9, 32))  # naive


# --- Mẫu 05 -----------------------------------------------------------------------------------------


def test_process_slip_reads_back() -> None:
    content = process_slip_pdf(sample_slip(rows=4), tz=VN)

    assert size_of(content) == A4_POINTS
    [text] = pages(content)
    for expected in (
        "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        f"Mã hồ sơ: {CODE}",
        "Người nộp hồ sơ: Đặng Thị Đào",
        "Thời gian hẹn trả kết quả: 09:32 ngày 21/12/2026",
        "Tên cơ quan/bộ phận giao",
        "Tên cơ quan/bộ phận nhận",
        "Phòng Đăng ký đất đai",
        "10:32 ngày 23/11/2026",  # the first hand-over, stored in UTC, printed in Vietnam's time
        "Lượt 2",
    ):
        assert expected in text, expected
    # each label once in the heading "(trước hạn/đúng hạn/quá hạn)" and once in its row
    body = text.split("Ghi chú", 1)[1]
    for label in ("trước hạn", "đúng hạn", "quá hạn"):
        assert body.count(label) == 1, label


def test_a_long_process_slip_repeats_its_headings() -> None:
    texts = pages(process_slip_pdf(sample_slip(rows=60), tz=VN))
    assert len(texts) >= 2
    for number, text in enumerate(texts, start=1):
        assert "Tên cơ quan/bộ phận giao" in text
        assert f"Trang {number}/{len(texts)}" in text


def test_a_process_slip_without_hand_overs() -> None:
    [text] = pages(process_slip_pdf(sample_slip(rows=0), tz=VN))
    assert "Hồ sơ chưa được giao, nhận giữa các bộ phận" in text


def test_a_hand_over_result_is_one_of_three() -> None:
    with pytest.raises(ValidationError):
        Handover(from_unit="A", to_unit="B", at=RECEIVED, result="soon")  # type: ignore[arg-type]
