"""The forms processing prints: Mẫu 04 (apology and new appointment, A5) and Mẫu 05 (process-control slip,
A4 portrait). Pure rendering from the frozen models below; the layout comes from ``motcua_pdfforms``.

Times are timezone-aware; the renderers print them in ``tz``, the province's timezone.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fpdf.enums import Align
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from motcua_kit.events.processing import StepResult
from motcua_pdfforms import A4, Column, FormPDF, Signer, clean, clock_on_day, dateline, scaled

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

APOLOGY_TITLE = "Phiếu xin lỗi và hẹn lại ngày trả kết quả"
PROCESS_SLIP_TITLE = "Phiếu kiểm soát quá trình giải quyết hồ sơ"
LEADER_SIGNS = "THỦ TRƯỞNG CƠ QUAN"
LEADER_NOTE = "(Ký, ghi rõ họ tên và đóng dấu)"
RESULT_LABELS: dict[StepResult, str] = {"early": "trước hạn", "on_time": "đúng hạn", "late": "quá hạn"}
CREATOR = "motcua processing"


class _Form(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Agency(_Form):
    """The agency that issues the form."""

    code: Text = Field(description='Its identifier code, e.g. "000.00.06.H56".')
    name: Text
    province_name: Text = Field(description='Where it sits, for the dateline: "Tỉnh Khánh Hòa".')
    superior_name: str | None = Field(default=None, description="The body above it, printed over its name.")


class Apology(_Form):
    """Mẫu 04 Phiếu xin lỗi và hẹn lại ngày trả kết quả."""

    agency: Agency
    number: str | None = Field(default=None, description='The slip\'s number if the agency numbers them: "12/PXL".')
    applicant_name: Text
    dossier_code: Text
    procedure_name: Text
    received_at: AwareDatetime
    original_appointment_at: AwareDatetime
    reason: Text = Field(description="Why the result will be late, as the applicant reads it.")
    new_appointment_at: AwareDatetime
    issued_at: AwareDatetime
    leader_name: str | None = None

    @model_validator(mode="after")
    def _later(self) -> Apology:
        if self.new_appointment_at <= self.original_appointment_at:
            raise ValueError("new_appointment_at is not after original_appointment_at")
        return self


class Handover(_Form):
    """One row of Mẫu 05: the dossier handed from one unit to the next."""

    from_unit: Text
    to_unit: Text
    at: AwareDatetime
    result: StepResult | None = Field(default=None, description="How the handing unit's step ended, if it has.")
    note: str | None = None


class ProcessSlip(_Form):
    """Mẫu 05 Phiếu kiểm soát quá trình giải quyết hồ sơ: one row per hand-over, in the order given."""

    agency: Agency
    dossier_code: Text
    procedure_name: Text
    applicant_name: Text
    received_at: AwareDatetime
    appointment_at: AwareDatetime
    handovers: tuple[Handover, ...] = ()


# --- Mẫu 04 -----------------------------------------------------------------------------------------


def apology_pdf(apology: Apology, *, tz: ZoneInfo) -> bytes:
    """Mẫu 04 on A5: the original appointment, the reason for the delay, the apology, the new appointment."""
    agency = clean(apology.agency.name)
    pdf = FormPDF(title=f"{APOLOGY_TITLE} {apology.dossier_code}", creator=CREATOR)
    _heading(
        pdf, apology.agency, number=apology.number, dated=dateline(apology.agency.province_name, apology.issued_at, tz)
    )
    pdf.form_title(APOLOGY_TITLE)
    pdf.paragraph(f"Kính gửi: Ông/Bà {clean(apology.applicant_name)}", bold=True, align=Align.C)
    pdf.space(0.6)
    pdf.paragraph(
        f"{agency} đã tiếp nhận hồ sơ của Ông/Bà đề nghị giải quyết thủ tục hành chính: "
        f"{clean(apology.procedure_name).rstrip('.')}.",
        align=Align.J,
    )
    pdf.field("Mã hồ sơ", apology.dossier_code, strong=True)
    pdf.field("Thời gian tiếp nhận hồ sơ", clock_on_day(apology.received_at, tz))
    pdf.field("Thời gian hẹn trả kết quả", clock_on_day(apology.original_appointment_at, tz))
    pdf.space(0.4)
    pdf.paragraph(
        f"Tuy nhiên, {agency} không thể trả kết quả giải quyết hồ sơ của Ông/Bà đúng thời gian đã hẹn.",
        align=Align.J,
    )
    pdf.field("Lý do", apology.reason)
    pdf.space(0.4)
    pdf.paragraph(
        f"Sự chậm trễ này đã gây phiền hà cho Ông/Bà. {agency} xin lỗi Ông/Bà vì đã trả kết quả giải quyết "
        "hồ sơ chậm so với thời hạn quy định và xin hẹn lại thời gian trả kết quả giải quyết hồ sơ như sau:",
        align=Align.J,
    )
    pdf.field("Thời gian hẹn trả kết quả mới", clock_on_day(apology.new_appointment_at, tz), strong=True)
    pdf.space(0.4)
    pdf.paragraph("Xin trân trọng cảm ơn./.")
    pdf.signatures(None, Signer(LEADER_SIGNS, apology.leader_name, LEADER_NOTE))
    return pdf.to_bytes()


# --- Mẫu 05 -----------------------------------------------------------------------------------------

PROCESS_SLIP_COLUMNS = (
    Column("STT", 11, "CENTER"),
    Column("Tên cơ quan/bộ phận giao", 37),
    Column("Tên cơ quan/bộ phận nhận", 37),
    Column("Thời gian giao, nhận hồ sơ", 32, "CENTER"),
    Column("Kết quả giải quyết hồ sơ (trước hạn/đúng hạn/quá hạn)", 32, "CENTER"),
    Column("Ghi chú", 31),
)


def process_slip_pdf(slip: ProcessSlip, *, tz: ZoneInfo) -> bytes:
    """Mẫu 05 on A4 portrait: the dossier, then one row per hand-over between units, headings repeated."""
    pdf = FormPDF(title=f"{PROCESS_SLIP_TITLE} {slip.dossier_code}", page=A4, size=10, margin=15, creator=CREATOR)
    _heading(pdf, slip.agency, number=None, dated=None)
    pdf.form_title(PROCESS_SLIP_TITLE)
    pdf.field("Mã hồ sơ", slip.dossier_code, strong=True)
    pdf.field("Thủ tục hành chính", slip.procedure_name)
    pdf.field("Người nộp hồ sơ", slip.applicant_name)
    pdf.field("Thời gian tiếp nhận hồ sơ", clock_on_day(slip.received_at, tz))
    pdf.field("Thời gian hẹn trả kết quả", clock_on_day(slip.appointment_at, tz))
    pdf.space(0.6)
    rows = [_handover_cells(n, h, tz) for n, h in enumerate(slip.handovers, start=1)]
    columns = scaled(PROCESS_SLIP_COLUMNS, pdf.epw)
    pdf.table_of(columns, rows, size=9, empty="Hồ sơ chưa được giao, nhận giữa các bộ phận")
    return pdf.to_bytes()


def _handover_cells(number: int, handover: Handover, tz: ZoneInfo) -> tuple[str, ...]:
    return (
        str(number),
        handover.from_unit,
        handover.to_unit,
        clock_on_day(handover.at, tz),
        RESULT_LABELS[handover.result] if handover.result else "",
        handover.note or "",
    )


# --- shared -----------------------------------------------------------------------------------------


def _heading(pdf: FormPDF, agency: Agency, *, number: str | None, dated: str | None) -> None:
    """The agency (under its superior) with its number and code at top left; motto and ``dated`` at right."""
    refs = [f"Số: {clean(number)}" if clean(number) else "", f"Mã định danh: {agency.code}"]
    pdf.heading(agency.name, superior=agency.superior_name, refs=refs, dateline=dated)
