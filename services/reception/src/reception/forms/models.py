"""What each printed form carries, and nothing more: the renderers read only these models.

Times are timezone-aware; the renderers print them in the province's timezone.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class _Form(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Issuer(_Form):
    """The centre that issues the form (its one-stop shop, "Bộ phận Một cửa")."""

    name: str
    province_name: str
    address: str | None = None
    phone: str | None = None
    email: str | None = None


class Applicant(_Form):
    full_name: str
    id_number: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None


class DocumentRow(_Form):
    name: str
    originals: int = Field(ge=0)
    copies: int = Field(ge=0)


class Receipt(_Form):
    """Mẫu 01 Giấy tiếp nhận hồ sơ và hẹn trả kết quả."""

    issuer: Issuer
    number: str = Field(description="The dossier code, also the receipt's number.")
    lookup_url: str = Field(description="Encoded in the QR code.")
    lookup_code: str | None = Field(default=None, description="Printed only when known.")
    applicant: Applicant
    content: str | None = None
    procedure_name: str
    documents: tuple[DocumentRow, ...] = ()
    time_limit: str = Field(description='The legal time limit as printed, e.g. "20 ngày làm việc".')
    received_at: AwareDatetime
    appointment_at: AwareDatetime
    return_channel: Literal["counter", "post"] = "counter"
    delivery_address: str | None = None
    officer_name: str | None = None


class SupplementItem(_Form):
    item: str = Field(description="The missing or faulty paper, or what must be completed.")
    reason: str = ""


class SupplementRequest(_Form):
    """Mẫu 02 Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ."""

    issuer: Issuer
    dossier_code: str
    applicant: Applicant
    content: str | None = None
    procedure_name: str
    items: tuple[SupplementItem, ...] = Field(min_length=1)
    officer_name: str | None = None
    issued_at: AwareDatetime


class Refusal(_Form):
    """Mẫu 03 Phiếu từ chối tiếp nhận giải quyết hồ sơ."""

    issuer: Issuer
    dossier_code: str | None = None
    applicant: Applicant
    content: str | None = None
    procedure_name: str
    reasons: tuple[str, ...] = Field(min_length=1)
    officer_name: str | None = None
    issued_at: AwareDatetime


class LogBookRow(_Form):
    number: int = Field(ge=1)
    dossier_code: str
    content: str
    owner_name: str
    address: str | None = None
    phone: str | None = None
    received_at: AwareDatetime | None = None
    appointment_at: AwareDatetime | None = None
    returned_at: AwareDatetime | None = None
    officer: str | None = None
    note: str | None = None


class LogBook(_Form):
    """Mẫu 06 Sổ theo dõi hồ sơ: one row per dossier of the period."""

    issuer: Issuer
    date_from: date
    date_to: date
    rows: tuple[LogBookRow, ...] = ()

    @model_validator(mode="after")
    def _period(self) -> LogBook:
        if self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        return self
